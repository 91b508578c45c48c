"""Citizen sessions end (finding 5): logout, a password change or erasure makes a copied cookie
worthless, because the account's session stamp changes and is checked on every request."""

from __future__ import annotations

from consult.citizens.services import SESSION_KEY, SESSION_STAMP
from consult.extensions import db
from tests.conftest import sign_in


def _copy(app, client):
    thief = app.test_client()
    cookie = client.get_cookie("session", domain=app.config["SERVER_NAME"])
    thief.set_cookie("session", cookie.value, domain=app.config["SERVER_NAME"])
    return thief


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(app, client, post_form, make):
    citizen = make.citizen()
    sign_in(client, post_form, citizen)
    thief = _copy(app, client)
    assert _signed_in(thief)  # the control
    post_form(client, "/account/logout", {}, page="/account")
    assert not _signed_in(client)
    assert not _signed_in(thief)


def test_a_password_change_ends_other_sessions(app, client, post_form, make):
    citizen = make.citizen()
    sign_in(client, post_form, citizen)
    citizen.set_password("another-password-7")
    db.session.commit()
    assert not _signed_in(client)


def test_a_stale_stamp_is_dropped_from_the_cookie(app, client, post_form, make):
    citizen = make.citizen()
    sign_in(client, post_form, citizen)
    thief = _copy(app, client)
    post_form(client, "/account/logout", {}, page="/account")
    thief.get("/")
    with thief.session_transaction() as session:
        assert SESSION_KEY not in session and SESSION_STAMP not in session
