"""Email verification (F8): the comment counts once the signed, expiring link is followed.

The link opens a page with a button: a mail scanner's GET verifies nothing.
"""

from __future__ import annotations

import pytest

from consult.answers.services import build_report
from consult.comments.models import Comment, CommentStatus
from consult.comments.services import verification_token
from consult.consultations.models import Moderation, Verification
from consult.extensions import db
from consult.tokens import make_token
from tests.conftest import csrf_from, last_link_to, mails_to, sign_in

EMAIL = "reader@example.org"


def comment_data(**kw):
    data = {"article": "3", "body": "建议把办理时限缩短为十日。", "category": "individual",
            "region": "", "display_name": "", "email": EMAIL, "phone": "", "notify": "y"}
    data.update(kw)
    return data


@pytest.fixture
def email_c(make):
    return make.consultation("open", verification=Verification.EMAIL, title="需要验证邮箱的征集")


def only_comment() -> Comment:
    return db.session.scalar(db.select(Comment))


def submit(client, post_form, c, **kw):
    return post_form(client, f"/consultations/{c.id}/comment", comment_data(**kw))


def confirm(client, path):
    """Open the mailed link, then press its button (what a person does)."""
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_the_receipt_mail_link_verifies_the_comment_only_when_the_button_is_pressed(
        client, post_form, email_c):
    form = client.get(f"/consultations/{email_c.id}/comment").get_data(as_text=True)
    assert "需要验证电子邮箱" in form
    response = submit(client, post_form, email_c)
    assert response.status_code == 303
    comment = only_comment()
    assert comment.status == CommentStatus.UNVERIFIED and comment.verified_at is None

    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "请点击确认邮件中的链接" in receipt

    (mail,) = mails_to(EMAIL)
    assert comment.tracking_no in mail.body and "/verify/" in mail.body
    path = last_link_to(EMAIL)
    assert path.startswith("/verify/")

    # A mail scanner (or a preview) opens the link: nothing changes.
    page = client.get(path)
    assert page.status_code == 200 and "确认是我提交的" in page.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.status == CommentStatus.UNVERIFIED

    done = confirm(client, path)
    assert done.status_code == 200 and "已验证" in done.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.status == CommentStatus.PUBLISHED and comment.verified_at is not None
    html = client.get(f"/consultations/{email_c.id}").get_data(as_text=True)
    assert "建议把办理时限缩短为十日。" in html


def test_following_the_link_again_is_a_friendly_page(client, post_form, email_c):
    submit(client, post_form, email_c)
    path = last_link_to(EMAIL)
    confirm(client, path)
    again = client.get(path)
    assert again.status_code == 200 and "此前已经验证" in again.get_data(as_text=True)
    token = csrf_from(client.get("/account/login").get_data(as_text=True))
    again = client.post(path, data={"csrf_token": token})  # a second tab, pressed again
    assert again.status_code == 200 and "此前已经验证" in again.get_data(as_text=True)
    assert only_comment().status == CommentStatus.PUBLISHED


def test_with_pre_moderation_a_verified_comment_awaits_moderation(client, post_form, make):
    c = make.consultation("open", verification=Verification.EMAIL, moderation=Moderation.PRE)
    submit(client, post_form, c)
    response = confirm(client, last_link_to(EMAIL))
    assert "正在审核" in response.get_data(as_text=True)
    assert only_comment().status == CommentStatus.PENDING_MODERATION


@pytest.mark.parametrize("email", ["", "   "])
def test_an_email_is_required_when_the_consultation_verifies_by_email(
        client, post_form, email_c, email):
    response = submit(client, post_form, email_c, email=email)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "需要验证电子邮箱，请填写电子邮箱" in html and 'aria-invalid="true"' in html
    assert only_comment() is None


def test_posting_the_button_without_a_csrf_token_is_refused(client, post_form, email_c):
    submit(client, post_form, email_c)
    path = last_link_to(EMAIL)
    assert client.post(path, data={}).status_code == 400
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert only_comment().status == CommentStatus.UNVERIFIED


def test_a_forged_or_mangled_token_is_a_clear_400(client, make, email_c):
    comment = make.comment(email_c, status=CommentStatus.UNVERIFIED, email=EMAIL)
    token = verification_token(comment)
    other_purpose = make_token("citizen-password", {"c": comment.id, "t": comment.tracking_no})
    wrong_comment = make_token("comment-verify", {"c": comment.id, "t": "ZZZZ-ZZZZ-ZZZZ"})
    for bad in [token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense",
                other_purpose, wrong_comment]:
        for method in ("GET", "POST"):
            token_page = client.get(f"/verify/{bad}")
            response = token_page if method == "GET" else client.post(
                f"/verify/{bad}", data={"csrf_token": csrf_from(client.get("/account/login")
                                                                .get_data(as_text=True))})
            assert response.status_code == 400, (bad, method)
            assert "链接无效" in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.status == CommentStatus.UNVERIFIED


def test_an_expired_link_is_a_410_and_the_comment_stays_counted_as_unverified(
        client, post_form, email_c, travel):
    submit(client, post_form, email_c)
    path = last_link_to(EMAIL)
    token_page = client.get(path)
    travel(8)  # VERIFY_MAX_AGE_DAYS defaults to 7
    response = client.get(path)
    assert response.status_code == 410 and "已过期" in response.get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_from(token_page.get_data(as_text=True))})
    assert response.status_code == 410
    comment = only_comment()
    assert comment.status == CommentStatus.UNVERIFIED
    totals = build_report(email_c, revision=1, summary="", published_at=comment.created_at)
    assert totals["totals"]["unverified"] == 1 and totals["totals"]["received"] == 1


def test_the_expiry_is_configurable(app, client, post_form, email_c, travel, monkeypatch):
    submit(client, post_form, email_c)
    path = last_link_to(EMAIL)
    monkeypatch.setitem(app.config, "VERIFY_MAX_AGE_DAYS", 30)
    travel(8)
    assert client.get(path).status_code == 200
    monkeypatch.setitem(app.config, "VERIFY_MAX_AGE_DAYS", 1)
    assert client.get(path).status_code == 410


def test_a_link_followed_after_the_report_is_published_is_refused(make, client, email_c):
    comment = make.comment(email_c, status=CommentStatus.UNVERIFIED, email=EMAIL)
    token = verification_token(comment)
    email_c.state = "report_published"
    db.session.flush()
    page = client.get(f"/verify/{token}")
    assert page.status_code == 200
    response = client.post(f"/verify/{token}",
                           data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 410
    db.session.refresh(comment)
    assert comment.status == CommentStatus.UNVERIFIED


def test_a_signed_in_citizen_using_their_verified_address_needs_no_link(
        client, post_form, make, email_c):
    citizen = make.citizen("me@example.net")
    sign_in(client, post_form, citizen)
    form = client.get(f"/consultations/{email_c.id}/comment").get_data(as_text=True)
    assert 'value="me@example.net"' in form  # the account's address is offered
    submit(client, post_form, email_c, email="ME@example.net")
    comment = only_comment()
    assert comment.status == CommentStatus.PUBLISHED and comment.citizen_id == citizen.id
    submit(client, post_form, email_c, email="other@example.net", body="另一条意见")
    other = db.session.scalar(db.select(Comment).where(Comment.email == "other@example.net"))
    assert other.status == CommentStatus.UNVERIFIED


# ------------------------------------------------------------------ verification = account


@pytest.fixture
def account_c(make):
    return make.consultation("open", verification=Verification.ACCOUNT)


def test_an_account_consultation_asks_anonymous_visitors_to_sign_in(client, account_c):
    response = client.get(f"/consultations/{account_c.id}/comment")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "要求登录公众账号" in html and "/account/login" in html and "/account/register" in html
    assert 'name="body"' not in html


def test_posting_to_an_account_consultation_without_an_account_goes_to_sign_in(
        client, account_c):
    token = csrf_from(client.get("/account/login").get_data(as_text=True))
    response = client.post(f"/consultations/{account_c.id}/comment",
                           data={"csrf_token": token, **comment_data()})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")
    assert only_comment() is None


def test_a_signed_in_citizen_comments_on_an_account_consultation(
        client, post_form, make, account_c):
    citizen = make.citizen()
    sign_in(client, post_form, citizen)
    response = submit(client, post_form, account_c, email="")
    assert response.status_code == 303
    comment = only_comment()
    assert comment.citizen_id == citizen.id and comment.status == CommentStatus.PUBLISHED
    assert comment.verified_at is not None


def test_staff_sign_in_is_not_a_citizen_account(client_as, make, account_c):
    staff = make.user("approver", account_c.unit)
    html = client_as(staff).get(f"/consultations/{account_c.id}/comment").get_data(as_text=True)
    assert "要求登录公众账号" in html


# ------------------------------------------------------------------ the API


def api_post(client, c, **kw):
    payload = {"body": "接口提交的意见", "category": "individual", **kw}
    return client.post(f"/api/v1/consultations/{c.id}/comments", json=payload)


def test_the_api_requires_an_email_for_email_verification(client, email_c):
    response = api_post(client, email_c)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "email_required"
    assert "email" in response.get_json()["error"]["fields"]
    response = api_post(client, email_c, email=EMAIL)
    assert response.status_code == 201 and response.get_json()["status"] == "unverified"
    assert mails_to(EMAIL) and "/verify/" in mails_to(EMAIL)[0].body


def test_the_api_refuses_account_consultations_with_401(client, account_c):
    response = api_post(client, account_c, email=EMAIL)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "account_required"
    assert only_comment() is None
