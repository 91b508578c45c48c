"""HSTS and Secure cookies whenever the site is served over HTTPS (finding 6), not only in
production mode: the request came over HTTPS (behind PROXY_FIX, X-Forwarded-Proto says so), or
BASE_URL is https."""

from __future__ import annotations

import pytest

from consult import create_app
from tests.conftest import csrf_from
from tests.factories import PASSWORD


def _cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def _login(client, make, **kw):
    user = make.user("editor")
    token = csrf_from(client.get("/login", **kw).get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": user.email,
                                       "password": PASSWORD}, **kw)


def test_plain_http_with_an_http_base_url_sends_no_hsts(client, make):
    response = _login(client, make)
    assert response.status_code == 302
    assert "Strict-Transport-Security" not in response.headers
    assert _cookies(response) and all("Secure" not in c for c in _cookies(response))


def test_a_request_over_https_gets_hsts_and_secure_cookies(app, make):
    client = app.test_client()
    # Over HTTPS, Flask-WTF also wants a same-origin Referer on a form post.
    https = {"base_url": "https://consult.test",
             "headers": {"Referer": "https://consult.test/login"}}
    response = _login(client, make, **https)
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    names = {c.split("=", 1)[0] for c in _cookies(response)}
    assert {"session", "login_device"} <= names
    assert all("; Secure" in c for c in _cookies(response))


def test_an_https_base_url_makes_every_response_strict_and_every_cookie_secure(make):
    app = create_app({"TESTING": True, "BASE_URL": "https://consult.test",
                      "HSTS_MAX_AGE": 600, "HSTS_INCLUDE_SUBDOMAINS": True})
    client = app.test_client()
    page = client.get("/login")  # over plain HTTP, e.g. a proxy that forgot the header
    assert page.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    response = _login(client, make)
    assert _cookies(response) and all("; Secure" in c for c in _cookies(response))


@pytest.mark.parametrize("proxy_fix, secure", [(True, True), (False, False)])
def test_behind_the_proxy_x_forwarded_proto_counts_and_only_there(make, proxy_fix, secure):
    app = create_app({"TESTING": True, "PROXY_FIX": proxy_fix})
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    page = client.get("/login", headers=headers)
    assert ("Strict-Transport-Security" in page.headers) is secure
    assert all(("; Secure" in c) is secure for c in _cookies(page))


def test_the_session_signer_is_made_once_per_key_and_follows_a_new_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first  # not made again for every request
    cookie = first.dumps({"client": "a"})
    old_key = app.secret_key
    app.secret_key = "a rotated key"
    try:
        rotated = interface.get_signing_serializer(app)
        assert rotated is not first
        with pytest.raises(Exception, match="Signature"):
            rotated.loads(cookie)  # the old key's cookie is not the new key's
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert interface.get_signing_serializer(app).loads(cookie) == {"client": "a"}
    finally:
        app.secret_key = old_key
        app.config["SECRET_KEY_FALLBACKS"] = None
