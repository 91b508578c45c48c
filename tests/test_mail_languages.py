"""Mail is written in its recipient's language, not in the language of whoever caused it
(issue 10, 6): the language an account saved, else the one of the page the recipient commented
or subscribed on, else the default (Simplified Chinese). Mail text lives in
templates/email/*.txt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from opencc import OpenCC

from consult import clock, mail
from consult.answers.digest import send_digests
from consult.citizens.models import Citizen
from consult.comments.models import Comment
from consult.comments.moderation import hide_comment
from consult.consultations import services, subscriptions
from consult.extensions import db
from consult.mail import OutboxMessage
from tests.conftest import csrf_from
from tools.translations import CONFIG, to_traditional

EMAIL_TEMPLATES = ("receipt", "comment_hidden", "report_published", "subscription_confirm",
                   "extension", "erase_request", "citizen_password", "citizen_email",
                   "staff_digest")


def traditional(text: str) -> str:
    """The Traditional Chinese of a message, as the catalog has it (made by OpenCC)."""
    return to_traditional(OpenCC(CONFIG), text)


def _mails(kind: str) -> list[OutboxMessage]:
    return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)).all()


def _comment_on_the_page(client, consultation, *, lang: str | None, email: str):
    page = f"/consultations/{consultation.id}/comment" + (f"?lang={lang}" if lang else "")
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(f"/consultations/{consultation.id}/comment", data={
        "csrf_token": token, "article": "", "body": "建议延长公示期限。", "category": "individual",
        "email": email, "notify": "y",
    })


def test_a_comment_made_in_english_gets_an_english_receipt(client, make):
    c = make.consultation("open", title="停车管理办法（征求意见稿）")
    response = _comment_on_the_page(client, c, lang="en", email="reader@example.org")
    assert response.status_code == 303
    comment = db.session.scalar(db.select(Comment))
    assert comment.language == "en"
    receipt = _mails("receipt")[-1]
    assert receipt.recipient == "reader@example.org"
    assert receipt.subject == f"Comment receipt: {comment.tracking_no}"
    assert receipt.body.startswith("Hello")
    assert "停车管理办法（征求意见稿）" in receipt.body  # the title is the unit's own
    assert f"/receipts/{comment.tracking_no}" in receipt.body
    assert "您好" not in receipt.body and "意见编号" not in receipt.body


@pytest.mark.parametrize("lang, greeting, subject", [
    (None, "您好", "意见回执"), ("zh_Hant", "您好", "意見回執"), ("en", "Hello", "Comment receipt"),
])
def test_the_receipt_follows_the_page_the_comment_was_made_on(client, make, lang, greeting,
                                                              subject):
    c = make.consultation("open")
    assert _comment_on_the_page(client, c, lang=lang, email="a@example.org").status_code == 303
    receipt = _mails("receipt")[-1]
    assert receipt.subject.startswith(subject) and receipt.body.startswith(greeting)


def test_a_moderator_in_chinese_tells_an_english_commenter_in_english(client_as, make,
                                                                     post_form):
    c = make.consultation("open")
    _comment_on_the_page(client_as(None), c, lang="en", email="reader@example.org")
    comment = db.session.scalar(db.select(Comment))
    moderator = make.user("editor", c.unit)
    staff = client_as(moderator)
    response = post_form(staff, f"/staff/comments/{comment.id}/hide",
                         {"reason": "off_topic", "note": "与本次征求意见无关。"},
                         page=f"/staff/consultations/{c.id}/moderation")
    assert response.status_code == 302
    assert "已设为不予公开" in staff.get(response.headers["Location"]).get_data(as_text=True)
    hidden = _mails("comment_hidden")[-1]
    assert hidden.subject == f"Your comment will not be published: {comment.tracking_no}"
    assert "Reason: " in hidden.body and "Note: 与本次征求意见无关。" in hidden.body
    assert "您好" not in hidden.body


def test_a_comment_without_a_language_is_answered_in_the_default(make):
    c = make.consultation("open")
    comment = make.comment(c, email="letter@example.org")  # recorded by staff: no page
    assert comment.language is None
    hide_comment(comment, "spam", None, actor=make.user("editor", c.unit))
    hidden = _mails("comment_hidden")[-1]
    assert hidden.subject.startswith("您的意见不予公开") and hidden.body.startswith("您好")


def test_the_extension_notice_is_written_per_recipient(make):
    c = make.consultation("open")
    make.comment(c, email="english@example.org", notify=True, language="en")
    make.comment(c, email="chinese@example.org", notify=True)
    subscription = subscriptions.subscribe(c, "traditional@example.net", language="zh_Hant")
    subscriptions.confirm(subscription.token)
    approver = make.user("approver", c.unit)
    new_day = clock.local_date(c.closes_at) + timedelta(days=10)

    services.extend(c, new_day, "应企业要求延长。", actor=approver)

    by_address = {m.recipient: m for m in _mails("extension")}
    assert by_address["english@example.org"].subject.startswith("Notice of extension")
    assert "commented on this consultation" in by_address["english@example.org"].body
    assert by_address["chinese@example.org"].subject.startswith("延长征求意见期限公告")
    subscriber = by_address["traditional@example.net"]
    assert subscriber.subject.startswith(traditional("延长征求意见期限公告"))
    assert traditional("取消订阅") in subscriber.body
    assert "应企业要求延长。" in by_address["english@example.org"].body  # the reason as given


def test_staff_read_the_digest_in_the_language_they_signed_in_with(client, make, travel,
                                                                 post_form):
    c = make.consultation("open")
    english = make.user("editor", c.unit, email="en.editor@example.org", password="pw-12345678")
    chinese = make.user("editor", c.unit, email="zh.editor@example.org")
    response = post_form(client, "/login?lang=en", {"email": "en.editor@example.org",
                                                    "password": "pw-12345678"})
    assert response.status_code == 302
    assert english.language == "en" and chinese.language is None
    make.comment(c)
    travel(clock.now() + timedelta(hours=1))

    send_digests()

    digests = {m.recipient: m for m in _mails("staff_digest")}
    assert digests["en.editor@example.org"].subject == "New comment alert: 1 new comments"
    assert digests["en.editor@example.org"].body.startswith(f"Dear {english.name},")
    assert digests["zh.editor@example.org"].subject == "新意见提醒：1 条新意见"


def test_a_citizen_account_keeps_the_language_it_signed_up_in(client, post_form):
    response = post_form(client, "/account/register?lang=zh_Hant",
                         {"email": "new@example.org", "display_name": ""})
    assert response.status_code == 200
    assert db.session.scalar(db.select(Citizen.language)) == "zh_Hant"
    message = _mails("citizen_password")[-1]
    assert message.subject == traditional("请确认您的电子邮箱，完成公众账号注册")
    assert traditional("有人用本邮箱注册了") in message.body


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant", "en", None, "xx"])
@pytest.mark.parametrize("kind", EMAIL_TEMPLATES)
def test_every_mail_template_has_a_subject_and_a_body_in_every_language(app, make, kind,
                                                                      language):
    c = make.consultation("open", title="办法")
    comment = make.comment(c, email="a@example.org", hidden_reason="spam")
    user = make.user("editor", c.unit)
    notice = type("Notice", (), {"reason": "理由"})()
    with app.test_request_context():
        subject, body = mail.render(
            kind, language, consultation=c, comment=comment, link="https://x/l", days=7,
            verify_link="https://x/v", note="说明", disposition=None, confirm="https://x/c",
            notice=notice, old="2026-01-01 23:59", new="2026-02-01 23:59", unsubscribe=None,
            new_account=True, user=user, total=1, since="a", until="b",
            lines=[{"consultation": c, "count": 1, "waiting": 0, "link": "https://x/q"}],
        )
    assert subject and "\n" not in subject
    assert body.strip() and "{{" not in body and "{%" not in body
    assert "%(" not in subject + body  # every placeholder filled
