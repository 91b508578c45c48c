"""Sessions end (finding 5): a copied staff cookie stops working after logout, a password change
or deactivation — session and remember-me cookies alike — because each account carries a
session stamp that the cookie must match on every request."""

from __future__ import annotations

import pytest
from flask_login.utils import encode_cookie

from consult.auth.models import User
from consult.extensions import db
from tests.factories import PASSWORD


def _login(client, post_form, user) -> None:
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _copy(app, client):
    """Another browser holding a copy of `client`'s session cookie (what a thief would have)."""
    thief = app.test_client()
    cookie = client.get_cookie("session", domain=app.config["SERVER_NAME"])
    assert cookie is not None
    thief.set_cookie("session", cookie.value, domain=app.config["SERVER_NAME"])
    return thief


def _signed_in(client) -> bool:
    return client.get("/staff").status_code == 200


@pytest.fixture
def editor(make):
    return make.user("editor", email="copied@example.org")


def test_a_copied_cookie_stops_working_after_logout(app, client, post_form, editor):
    _login(client, post_form, editor)
    thief = _copy(app, client)
    assert _signed_in(thief)  # the control: a copy works while the session lasts
    post_form(client, "/logout", {}, page="/staff")
    assert not _signed_in(client)
    assert not _signed_in(thief)


def test_logout_ends_every_session_of_the_account(app, make, post_form, editor):
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop, post_form, editor)
    _login(phone, post_form, editor)
    post_form(phone, "/logout", {}, page="/staff")
    assert not _signed_in(laptop)


def test_a_password_change_ends_existing_sessions(app, client, post_form, editor):
    _login(client, post_form, editor)
    editor.set_password("a-brand-new-password")
    db.session.commit()
    assert not _signed_in(client)
    response = post_form(client, "/login", {"email": editor.email,
                                            "password": "a-brand-new-password"})
    assert response.status_code == 302 and _signed_in(client)


def test_deactivation_ends_existing_sessions(app, client, post_form, editor):
    _login(client, post_form, editor)
    editor.active = False
    db.session.commit()
    assert not _signed_in(client)
    editor.active = True  # reactivated: the old cookie stays dead
    db.session.commit()
    assert not _signed_in(client)


def test_a_remember_me_cookie_is_checked_the_same_way(app, post_form, editor):
    token = encode_cookie(editor.get_id())  # what "remember me" leaves in a browser
    remembered = app.test_client()
    domain = app.config["SERVER_NAME"]
    remembered.set_cookie("remember_token", token, domain=domain)
    assert _signed_in(remembered)  # the control: it signs in without a session
    other = app.test_client()
    _login(other, post_form, editor)
    post_form(other, "/logout", {}, page="/staff")
    stale = app.test_client()
    stale.set_cookie("remember_token", token, domain=domain)
    assert not _signed_in(stale)


def test_a_session_from_before_the_stamps_is_refused(app, editor):
    """Cookies made before this release name only the user id: they are signed out."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(editor.id)
        session["_fresh"] = True
    assert not _signed_in(client)


def test_the_stamp_changes_on_password_change_and_deactivation_only(make):
    user = make.user("editor")
    stamp = user.session_stamp
    user.name = "改名"
    db.session.flush()
    assert user.session_stamp == stamp
    user.set_password("another-password-1")
    assert user.session_stamp != stamp
    stamp = user.session_stamp
    user.active = False
    assert user.session_stamp != stamp
    assert db.session.get(User, user.id).get_id() == f"{user.id}:{user.session_stamp}"
