"""Staff sign in and out: generic errors, safe redirects, POST-only logout, staff-only pages."""

from urllib.parse import urlsplit

import pytest

from tests.factories import PASSWORD


def _path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def _login(client, post_form, email, password=PASSWORD, next_=None):
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    data = {"email": email, "password": password}
    if next_ is not None:
        data["next"] = next_
    return post_form(client, "/login", data, page=url)


def test_login_page_is_a_plain_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "工作人员登录" in html
    assert 'name="email"' in html and 'type="password"' in html
    assert 'name="csrf_token"' in html


def test_login_success_lands_on_the_workspace(client, make, post_form):
    user = make.user("editor", email="li.ming@example.org")
    response = _login(client, post_form, "Li.Ming@example.org ")
    assert response.status_code == 302
    assert _path(response) == "/staff"
    assert user.last_login_at is not None
    page = client.get("/staff")
    assert page.status_code == 200
    assert "工作台" in page.get_data(as_text=True)


@pytest.mark.parametrize("email,password", [
    ("known@example.org", "wrong-password-123"),
    ("nobody@example.org", PASSWORD),
])
def test_bad_credentials_get_one_generic_error(client, make, post_form, email, password):
    make.user("editor", email="known@example.org")
    response = _login(client, post_form, email, password)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "电子邮箱或密码不正确" in html
    assert "不存在" not in html  # no hint which of the two was wrong
    assert PASSWORD not in html and "wrong-password-123" not in html
    assert client.get("/staff").status_code == 302


def test_blank_fields_rerender_with_422(client, post_form):
    response = post_form(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写电子邮箱" in html and "请填写密码" in html


def test_inactive_user_cannot_log_in(client, make, post_form):
    user = make.user("editor", email="gone@example.org")
    user.active = False
    response = _login(client, post_form, "gone@example.org")
    assert response.status_code == 422


def test_next_to_a_local_path_is_followed(client, make, post_form):
    make.user("editor", email="a@example.org")
    response = _login(client, post_form, "a@example.org", next_="/staff/consultations/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/consultations/new"


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/staff",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/staff",
    "staff",
])
def test_next_elsewhere_is_ignored(client, make, post_form, target):
    make.user("editor", email="b@example.org")
    response = _login(client, post_form, "b@example.org", next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff"


def test_anonymous_staff_page_redirects_to_login_and_back(client, make, post_form):
    make.user("editor", email="c@example.org")
    response = client.get("/staff")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert "next=%2Fstaff" in location.query
    page = client.get(response.headers["Location"])
    assert "请先登录" in page.get_data(as_text=True)
    assert 'value="/staff"' in page.get_data(as_text=True)


def test_logged_in_user_visiting_login_goes_to_workspace(client_as, make):
    client = client_as(make.user("editor"))
    response = client.get("/login")
    assert response.status_code == 302
    assert _path(response) == "/staff"


def test_logout_is_post_only(client, make, post_form):
    make.user("editor", email="d@example.org")
    _login(client, post_form, "d@example.org")
    assert client.get("/logout").status_code == 405
    assert client.get("/staff").status_code == 200  # still signed in
    response = post_form(client, "/logout", {}, page="/staff")
    assert response.status_code == 302
    assert _path(response) == "/"
    assert client.get("/staff").status_code == 302


def test_logout_without_csrf_token_is_refused(client, make, post_form):
    make.user("editor", email="e@example.org")
    _login(client, post_form, "e@example.org")
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/staff").status_code == 200


def test_login_with_forged_csrf_token_is_400(client, make):
    make.user("editor", email="f@example.org")
    response = client.post("/login", data={"email": "f@example.org", "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 400


def test_signed_in_user_without_staff_role_gets_403(client_as, make):
    client = client_as(make.user(role=None))
    assert client.get("/staff").status_code == 403
    assert client.get("/staff/consultations/new").status_code == 403
