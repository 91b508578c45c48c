"""Citizen accounts: sign up by a mailed link, set the password there, sign in and out."""

from __future__ import annotations

import pytest

from consult.citizens.models import Citizen
from consult.extensions import db
from tests.conftest import last_link_to, mails_to, sign_in
from tests.factories import PASSWORD

NEW_PASSWORD = "my-own-password-9"


def citizens() -> list[Citizen]:
    return db.session.scalars(db.select(Citizen).order_by(Citizen.id)).all()


def register(client, post_form, email="li.si@example.net", **kw):
    return post_form(client, "/account/register", {"email": email, "display_name": "李四", **kw})


def set_password(client, post_form, path, password=NEW_PASSWORD, confirm=None):
    return post_form(client, path, {"password": password, "confirm": confirm or password})


def test_sign_up_verify_by_mail_and_see_my_comments(client, post_form):
    response = register(client, post_form, email="Li.Si@Example.net ")
    assert response.status_code == 200
    assert "请查收邮件" in response.get_data(as_text=True)
    (citizen,) = citizens()
    assert citizen.email == "li.si@example.net" and citizen.email_verified_at is None
    assert citizen.password_hash is None

    # Not usable before the mailed link is followed.
    response = post_form(client, "/account/login",
                         {"email": "li.si@example.net", "password": NEW_PASSWORD})
    assert response.status_code == 422

    path = last_link_to("li.si@example.net")
    assert path.startswith("/account/password/")
    page = client.get(path)
    assert page.status_code == 200 and "li.si@example.net" in page.get_data(as_text=True)
    db.session.refresh(citizen)
    assert citizen.email_verified_at is None  # opening the link changes nothing

    response = set_password(client, post_form, path)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    db.session.refresh(citizen)
    assert citizen.email_verified_at is not None and citizen.check_password(NEW_PASSWORD)
    html = client.get("/account").get_data(as_text=True)
    assert "我的意见" in html and "li.si@example.net" in html

    # The link is single use.
    assert client.get(path).status_code == 400


def test_the_password_must_be_long_enough_and_confirmed(client, post_form):
    register(client, post_form)
    path = last_link_to("li.si@example.net")
    assert set_password(client, post_form, path, "short").status_code == 422
    response = set_password(client, post_form, path, NEW_PASSWORD, "something-else")
    assert response.status_code == 422 and "两次输入的密码不一致" in response.get_data(as_text=True)
    assert citizens()[0].email_verified_at is None


@pytest.mark.parametrize("email", ["", "not-an-address", "a" * 250 + "@x.cn"])
def test_sign_up_refuses_bad_addresses(client, post_form, email):
    response = register(client, post_form, email=email)
    assert response.status_code == 422
    assert citizens() == []


def test_a_second_sign_up_with_the_same_address_makes_no_second_account(
        client, post_form, make):
    owner = make.citizen("taken@example.net")
    before = owner.password_hash
    response = register(client, post_form, email="taken@example.net")
    # The page does not tell whether the address is registered ...
    assert response.status_code == 200 and "请查收邮件" in response.get_data(as_text=True)
    assert len(citizens()) == 1
    db.session.refresh(owner)
    assert owner.password_hash == before  # ... and nobody else gets to set the password:
    (mail,) = mails_to("taken@example.net")  # only the mailbox's owner gets a link
    assert "已经注册过" in mail.subject + mail.body


def test_someone_who_pre_registers_my_address_cannot_choose_my_password(
        client, post_form, app):
    """The password is set on the page the mailed link opens, so the attacker never has it."""
    register(client, post_form, email="victim@example.net")
    register(app.test_client(), post_form, email="victim@example.net")
    assert len(citizens()) == 1
    response = post_form(client, "/account/login",
                         {"email": "victim@example.net", "password": "anything-at-all"})
    assert response.status_code == 422


def test_sign_in_and_out(client, post_form, make):
    citizen = make.citizen("wang@example.net")
    response = sign_in(client, post_form, citizen)
    assert response.headers["Location"] == "/account"
    home = client.get("/").get_data(as_text=True)
    assert 'href="/account"' in home and "我的意见" in home
    response = post_form(client, "/account/logout", {}, page="/account")
    assert response.status_code == 303
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("email, password", [
    ("wang@example.net", "wrong-password"),
    ("nobody@example.net", PASSWORD),
    ("wang@example.net", ""),
])
def test_a_wrong_password_or_unknown_address_is_one_vague_error(
        client, post_form, make, email, password):
    make.citizen("wang@example.net")
    response = post_form(client, "/account/login", {"email": email, "password": password})
    assert response.status_code == 422
    assert client.get("/account").status_code == 302


def test_an_unverified_account_cannot_sign_in(client, post_form, make):
    make.citizen("new@example.net", verified=False)
    response = post_form(client, "/account/login",
                         {"email": "new@example.net", "password": PASSWORD})
    assert response.status_code == 422 and "尚未通过邮箱确认" in response.get_data(as_text=True)


def test_sign_in_returns_to_a_local_page_only(client, post_form, make):
    citizen = make.citizen()
    response = post_form(client, "/account/login?next=/consultations",
                         {"email": citizen.email, "password": PASSWORD,
                          "next": "/consultations"})
    assert response.headers["Location"] == "/consultations"
    client2 = client.application.test_client()
    response = post_form(client2, "/account/login",
                         {"email": citizen.email, "password": PASSWORD,
                          "next": "https://evil.example/"})
    assert response.headers["Location"] == "/account"


def test_a_citizen_account_is_not_a_staff_account(client, post_form, make):
    citizen = make.citizen()
    sign_in(client, post_form, citizen)
    response = client.get("/staff")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_forgot_password_mails_a_new_link(client, post_form, make):
    citizen = make.citizen("forgot@example.net")
    response = post_form(client, "/account/reset", {"email": "forgot@example.net"})
    assert response.status_code == 200
    path = last_link_to("forgot@example.net")
    set_password(client, post_form, path, "brand-new-password")
    db.session.refresh(citizen)
    assert citizen.check_password("brand-new-password")


def test_changing_the_password_ends_other_sessions(client, post_form, make, app):
    citizen = make.citizen("two@example.net")
    other = app.test_client()
    sign_in(other, post_form, citizen)
    assert other.get("/account").status_code == 200
    post_form(client, "/account/reset", {"email": "two@example.net"})
    set_password(client, post_form, last_link_to("two@example.net"), "brand-new-password")
    assert other.get("/account").status_code == 302


def test_an_expired_sign_up_link_is_410(client, post_form, travel):
    register(client, post_form)
    path = last_link_to("li.si@example.net")
    travel(8)
    response = client.get(path)
    assert response.status_code == 410 and "已过期" in response.get_data(as_text=True)
    assert "/account/reset" in response.get_data(as_text=True)


def test_a_forged_sign_up_link_is_400(client):
    response = client.get("/account/password/forged.token.here")
    assert response.status_code == 400 and "链接无效" in response.get_data(as_text=True)


# Every POST of the citizen pages refuses a missing or forged CSRF token, changing nothing.
CSRF_POSTS = ["/account/register", "/account/reset", "/account/login", "/account/logout",
              "/account/edit", "/account/erase", "/privacy/erase"]


@pytest.mark.parametrize("path", CSRF_POSTS)
@pytest.mark.parametrize("token", [None, "forged"])
def test_every_post_needs_a_csrf_token(client, post_form, make, path, token):
    citizen = make.citizen("csrf@example.net")
    sign_in(client, post_form, citizen)
    data = {"email": "csrf@example.net", "password": PASSWORD, "confirm": "y",
            "display_name": "改名", "tracking_no": "ZX26-7K3M-9QXD"}
    if token:
        data["csrf_token"] = token
    response = client.post(path, data=data)
    assert response.status_code == 400
    db.session.refresh(citizen)
    assert citizen.erased_at is None and citizen.display_name is None
    assert client.get("/account").status_code == 200  # still signed in
    assert mails_to("csrf@example.net") == []


def test_the_links_behind_mail_need_a_csrf_token_too(client, post_form):
    register(client, post_form)
    path = last_link_to("li.si@example.net")
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert citizens()[0].password_hash is None

