"""我的意见: my comments, download my data, correct it, erase it (PIPL Art 44–50)."""

from __future__ import annotations

import json

import pytest

from consult.answers.services import digest_of, publish_report, published_report
from consult.audit import AuditEvent
from consult.citizens.models import Citizen
from consult.comments.models import Comment, CommentStatus, HiddenReason
from consult.comments.privacy import ERASED_TEXT
from consult.consultations.models import Verification
from consult.extensions import db
from consult.mail import OutboxMessage
from tests.conftest import csrf_from, last_link_to, mails_to, sign_in
from tests.factories import PASSWORD

NAME = "王小明"
EMAIL = "wang.xm@example.net"
PHONE = "13912345678"


def comment_data(**kw):
    data = {"article": "3", "body": "第三条的期限应当延长。", "category": "individual",
            "region": "金水区", "display_name": NAME, "publish_name": "y", "email": EMAIL,
            "phone": PHONE, "notify": "y"}
    data.update(kw)
    return data


@pytest.fixture
def me(make):
    return make.citizen(EMAIL, display_name="小明")


@pytest.fixture
def browser(client, post_form, me):
    sign_in(client, post_form, me)
    return client


def comment_as(client, post_form, c, **kw):
    response = post_form(client, f"/consultations/{c.id}/comment", comment_data(**kw))
    assert response.status_code == 303, response.get_data(as_text=True)
    number = response.headers["Location"].rsplit("/", 1)[-1]
    return db.session.scalar(db.select(Comment).where(Comment.tracking_no == number))


def test_my_comments_lists_what_i_said_with_its_state(browser, post_form, make):
    c = make.consultation("open", title="城市绿化管理办法")
    email_c = make.consultation("open", verification=Verification.EMAIL, title="需要验证的征集")
    mine = comment_as(browser, post_form, c)
    unverified = comment_as(browser, post_form, email_c, email="other@example.net",
                            body="还没验证的意见")
    html = browser.get("/account").get_data(as_text=True)
    assert mine.tracking_no in html and unverified.tracking_no in html
    assert "城市绿化管理办法" in html and "需要验证的征集" in html
    assert "第三条的期限应当延长。" in html and "还没验证的意见" in html
    assert "已公开" in html and "未验证" in html and "答复待公布" in html
    assert mine.citizen_id is not None


def test_my_comments_show_the_answer_once_the_report_is_out(browser, make, me):
    c = make.consultation("closed")
    comment = make.comment(c, article=3, body="请增加公示环节。", citizen_id=me.id)
    make.answer(comment, "not_adopted", "公示环节已在第九条规定。")
    html = browser.get("/account").get_data(as_text=True)
    assert "公示环节已在第九条规定。" not in html  # not before the report
    publish_report(c, summary="", actor=make.user("approver", c.unit))
    html = browser.get("/account").get_data(as_text=True)
    assert "不予采纳" in html and "公示环节已在第九条规定。" in html


def test_a_citizen_never_sees_another_citizens_comments_or_data(
        client, post_form, make, app, me):
    c = make.consultation("open")
    other = make.citizen("other@example.net")
    theirs = make.comment(c, body="别人的意见，含 18600000000", citizen_id=other.id,
                          email="other@example.net", phone="18600000000")
    sign_in(client, post_form, me)
    for path in ("/account", "/account/data.json", "/account/edit", "/account/erase"):
        body = client.get(path).get_data(as_text=True)
        assert theirs.tracking_no not in body and "other@example.net" not in body
        assert "18600000000" not in body
    # Nothing in a URL names an account or a comment: there is nothing to change to peek.
    assert client.get(f"/account?citizen_id={other.id}").get_data(as_text=True).count(
        theirs.tracking_no) == 0


@pytest.mark.parametrize("path", ["/account", "/account/data.json", "/account/edit",
                                  "/account/erase"])
def test_account_pages_need_a_signed_in_citizen(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_download_my_data_includes_my_contact_data(browser, post_form, make):
    c = make.consultation("open")
    mine = comment_as(browser, post_form, c)
    response = browser.get("/account/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == EMAIL and data["account"]["display_name"] == "小明"
    (item,) = data["comments"]
    assert item["tracking_no"] == mine.tracking_no and item["email"] == EMAIL
    assert item["phone"] == PHONE and item["display_name"] == NAME and item["publish_name"]
    assert item["body"] == "第三条的期限应当延长。" and item["status"] == "published"
    assert item["article"] == 3 and item["consultation"]["id"] == c.id


def test_correct_my_display_name(browser, post_form, me):
    response = post_form(browser, "/account/edit", {"display_name": "明明", "email": EMAIL})
    assert response.status_code == 303
    db.session.refresh(me)
    assert me.display_name == "明明"
    assert mails_to(EMAIL) == []


def test_a_new_email_takes_effect_once_confirmed_from_the_new_mailbox(
        browser, post_form, make, me):
    c = make.consultation("open")
    mine = comment_as(browser, post_form, c)
    other_address = comment_as(browser, post_form, c, email="work@example.net", body="另一条")
    response = post_form(browser, "/account/edit",
                         {"display_name": "小明", "email": "New@Example.net"})
    assert response.status_code == 303
    db.session.refresh(me)
    assert me.email == EMAIL  # not yet
    path = last_link_to("new@example.net")
    page = browser.get(path)
    assert page.status_code == 200 and "new@example.net" in page.get_data(as_text=True)
    db.session.refresh(me)
    assert me.email == EMAIL  # opening the link changes nothing
    response = browser.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 303
    db.session.refresh(me)
    db.session.refresh(mine)
    db.session.refresh(other_address)
    assert me.email == "new@example.net" and mine.email == "new@example.net"
    assert other_address.email == "work@example.net"
    assert browser.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))}) \
        .status_code == 400  # used


def test_an_email_already_used_by_another_account_is_refused(browser, post_form, make, me):
    make.citizen("busy@example.net")
    post_form(browser, "/account/edit", {"display_name": "", "email": "busy@example.net"})
    path = last_link_to("busy@example.net")
    page = browser.get(path)
    response = browser.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 409
    db.session.refresh(me)
    assert me.email == EMAIL


def test_erase_needs_the_confirmation_and_the_password(browser, post_form, me):
    response = post_form(browser, "/account/erase", {"password": PASSWORD})
    assert response.status_code == 422
    response = post_form(browser, "/account/erase", {"confirm": "y", "password": "wrong-one"})
    assert response.status_code == 422 and "密码不正确" in response.get_data(as_text=True)
    db.session.refresh(me)
    assert me.erased_at is None and me.email == EMAIL


@pytest.fixture
def history(client, post_form, make, me):
    """My comments everywhere: an open consultation, a reported one, an unverified and a
    hidden comment, a queued mail."""
    open_c = make.consultation("open", title="公开征集中")
    email_c = make.consultation("open", verification=Verification.EMAIL, title="需验证")
    sign_in(client, post_form, me)
    published = comment_as(client, post_form, open_c, body="公开的意见原文")
    unverified = comment_as(client, post_form, email_c, email="old@example.net",
                            body="未验证的意见原文")
    reported_c = make.consultation("closed", title="已反馈的征集")
    answered = make.comment(reported_c, article=2, body="已答复的意见原文", citizen_id=me.id,
                            display_name=NAME, publish_name=True, email=EMAIL, phone=PHONE)
    make.answer(answered, "adopted", None)
    hidden = make.comment(reported_c, body="被隐藏的意见原文 13912345678", citizen_id=me.id,
                          status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.SPAM,
                          email=EMAIL)
    stranger = make.comment(reported_c, body="别人的意见", display_name="赵六",
                            publish_name=True, email="zhao@example.net")
    make.answer(stranger, "adopted", None)
    approver = make.user("approver", reported_c.unit)
    publish_report(reported_c, summary="", actor=approver)
    db.session.flush()
    return {"open": open_c, "reported": reported_c, "email_c": email_c,
            "published": published, "unverified": unverified, "answered": answered,
            "hidden": hidden, "stranger": stranger, "approver": approver}


def test_erase_removes_my_personal_data_everywhere(client, post_form, client_as, me, history):
    h = history
    report_before = published_report(h["reported"])
    assert NAME in json.dumps(report_before.content, ensure_ascii=False)
    response = post_form(client, "/account/erase", {"confirm": "y", "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/account").status_code == 302  # signed out

    db.session.expire_all()
    citizen = db.session.get(Citizen, me.id)
    assert citizen.email is None and citizen.display_name is None
    assert citizen.password_hash is None and citizen.erased_at is not None
    for key in ("published", "unverified", "answered", "hidden"):
        comment = db.session.get(Comment, h[key].id)
        assert comment.email is None and comment.phone is None, key
        assert comment.display_name is None and comment.publish_name is False, key
        assert comment.citizen_id is None
    assert db.session.get(Comment, h["published"].id).body == "公开的意见原文"
    assert db.session.get(Comment, h["answered"].id).body == "已答复的意见原文"
    assert db.session.get(Comment, h["unverified"].id).body == ERASED_TEXT
    assert db.session.get(Comment, h["hidden"].id).body == ERASED_TEXT
    stranger = db.session.get(Comment, h["stranger"].id)
    assert stranger.email == "zhao@example.net" and stranger.public_name == "赵六"

    # The frozen report lost my name but kept its totals, with a digest that still checks out.
    report = published_report(h["reported"])
    assert report.content["totals"] == report_before.content["totals"]
    assert report.digest == digest_of(report.content) == report.content["digest"]
    items = {i["tracking_no"]: i for i in report.content["items"]}
    assert items[h["answered"].tracking_no]["name"] is None
    assert items[h["answered"].tracking_no]["text"] == "已答复的意见原文"
    assert items[h["stranger"].tracking_no]["name"] == "赵六"
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "redact_report"))
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "erase_account"))

    # No page, no API answer shows my name, address, phone or unpublished text any more.
    anonymous = client
    staff = client_as(h["approver"])
    paths = [f"/consultations/{h['open'].id}", f"/consultations/{h['reported'].id}",
             f"/consultations/{h['reported'].id}/report",
             f"/api/v1/consultations/{h['reported'].id}/report",
             f"/api/v1/consultations/{h['reported'].id}/comments",
             f"/api/v1/consultations/{h['open'].id}/comments"]
    for key in ("published", "unverified", "answered", "hidden"):
        paths += [f"/receipts/{h[key].tracking_no}", f"/api/v1/receipts/{h[key].tracking_no}"]
    staff_paths = [f"/staff/consultations/{h['reported'].id}/comments"]
    gone = [NAME, EMAIL, PHONE, "old@example.net", "未验证的意见原文", "被隐藏的意见原文"]
    for who, path in [(anonymous, p) for p in paths] + [(staff, p) for p in staff_paths]:
        response = who.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        body_json = json.dumps(response.get_json(), ensure_ascii=False) \
            if response.is_json else ""
        for text in gone:
            assert text not in body and text not in body_json, (path, text)
    assert "公开的意见原文" in anonymous.get(f"/consultations/{h['open'].id}").get_data(
        as_text=True)

    # Mail not yet sent to my address is dropped; nothing addressed to me is left.
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient.in_([EMAIL, "old@example.net"]))) == 0
    # The account cannot be used again, and the address can register anew.
    response = post_form(client, "/account/login", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 422
    post_form(client, "/account/register", {"email": EMAIL, "display_name": ""})
    assert db.session.scalar(db.select(db.func.count(Citizen.id))
                             .where(Citizen.email == EMAIL)) == 1


def test_erasure_by_tracking_number_and_email_without_an_account(client, post_form, make):
    c = make.consultation("open")
    comment = make.comment(c, body="不想留下联系方式", email="anon@example.org",
                           phone="13700000000", display_name="匿名者", publish_name=True,
                           status=CommentStatus.PENDING_MODERATION)
    # The wrong address: the same answer, and no mail goes anywhere.
    response = post_form(client, "/privacy/erase",
                         {"tracking_no": comment.tracking_no, "email": "guess@example.org"})
    assert response.status_code == 200 and "如果意见编号和电子邮箱相符" in response.get_data(
        as_text=True)
    assert mails_to("guess@example.org") == [] and mails_to("anon@example.org") == []
    response = post_form(client, "/privacy/erase",
                         {"tracking_no": comment.tracking_no.lower(), "email": "ANON@example.org"})
    path = last_link_to("anon@example.org")
    page = client.get(path)
    assert page.status_code == 200
    db.session.refresh(comment)
    assert comment.email == "anon@example.org"  # opening the link changes nothing
    response = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 200 and "已删除" in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.email is None and comment.phone is None and comment.display_name is None
    assert comment.body == ERASED_TEXT  # it was never published
    again = client.get(path)
    assert again.status_code == 200 and "此前已经删除" in again.get_data(as_text=True)


def test_an_erasure_link_that_was_forged_or_expired_is_refused(client, post_form, make, travel):
    c = make.consultation("open")
    comment = make.comment(c, email="anon@example.org")
    assert client.get("/privacy/erase/forged").status_code == 400
    post_form(client, "/privacy/erase", {"tracking_no": comment.tracking_no,
                                         "email": "anon@example.org"})
    path = last_link_to("anon@example.org")
    travel(8)
    assert client.get(path).status_code == 410
    db.session.refresh(comment)
    assert comment.email == "anon@example.org"


@pytest.mark.parametrize("data", [
    {"tracking_no": "", "email": "a@example.org"},
    {"tracking_no": "ZX26-7K3M-9QXD", "email": "not an email"},
    {"tracking_no": "X" * 41, "email": "a@example.org"},
])
def test_the_erasure_request_form_checks_its_input(client, post_form, data):
    assert post_form(client, "/privacy/erase", data).status_code == 422
