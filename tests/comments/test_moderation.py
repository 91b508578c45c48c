"""Moderation (F9): pre-moderated comments wait for a moderator; a comment hidden with a reason
stays in the database and in the report's totals, and its author is told why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult import audit, clock
from consult.answers.services import blockers, build_report, publish_report
from consult.comments.masking import MARK
from consult.comments.models import Category, Comment, CommentStatus, HiddenReason
from consult.comments.moderation import approve_comment, hide_comment, unhide_comment
from consult.comments.services import CommentInput, submit_comment
from consult.consultations.models import Moderation, Verification
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.mail import OutboxMessage
from tests.conftest import csrf_from, table_counts

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def stranger(make):
    return make.user("approver", make.unit("其他单位"))


def outbox(kind: str) -> list[OutboxMessage]:
    return db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def staff_token(client) -> str:
    return csrf_from(client.get("/staff").get_data(as_text=True))


def test_a_pre_moderated_comment_waits_until_a_moderator_approves_it(
        client, client_as, make, unit, editor):
    c = make.consultation("open", unit=unit, moderation=Moderation.PRE)
    comment, _created = submit_comment(c, CommentInput(
        body="建议在学校周边增设限速标志。", category=Category.INDIVIDUAL, article_number=3))
    db.session.commit()
    assert comment.status == CommentStatus.PENDING_MODERATION

    receipt = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "待审核" in receipt and "正在审核" in receipt
    public = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "建议在学校周边增设限速标志。" not in public

    staff = client_as(editor)
    page = staff.get(f"/staff/consultations/{c.id}/moderation")
    assert page.status_code == 200
    assert "建议在学校周边增设限速标志。" in page.get_data(as_text=True)
    response = staff.post(f"/staff/comments/{comment.id}/approve",
                          data={"csrf_token": staff_token(staff)})
    assert response.status_code == 302
    assert comment.status == CommentStatus.PUBLISHED
    assert [e.action for e in audit.events_for(comment)] == ["approve_comment"]
    assert audit.events_for(comment)[0].actor_id == editor.id
    public = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "建议在学校周边增设限速标志。" in public


def test_approving_a_comment_that_is_not_pending_is_refused(client_as, make, unit, editor):
    c = make.consultation("open", unit=unit)
    comment = make.comment(c, status=CommentStatus.PUBLISHED)
    staff = client_as(editor)
    response = staff.post(f"/staff/comments/{comment.id}/approve",
                          data={"csrf_token": staff_token(staff)})
    assert response.status_code == 409
    assert audit.events_for(comment) == []


def test_a_comment_hidden_as_spam_is_kept_counted_and_its_author_told(
        client, client_as, make, unit, editor):
    c = make.consultation("open", unit=unit, title="停车管理办法")
    spam = make.comment(c, article=2, body="低价代开发票，请加微信。", email="spam@example.org")
    make.answer(make.comment(c, article=2, body="建议增加夜间停车位。"), "adopted", None)
    staff = client_as(editor)
    response = staff.post(f"/staff/comments/{spam.id}/hide", data={
        "csrf_token": staff_token(staff), "reason": "spam", "note": "与征求意见无关的广告。"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/moderation#comment-{spam.id}")

    db.session.expire_all()
    kept = db.session.get(Comment, spam.id)
    assert kept is not None and kept.body == "低价代开发票，请加微信。"
    assert kept.status == CommentStatus.HIDDEN and kept.hidden_reason == HiddenReason.SPAM
    assert kept.hidden_note == "与征求意见无关的广告。"
    event = audit.events_for(kept)[-1]
    assert event.action == "hide_comment" and event.detail["hidden_reason"] == "spam"

    [message] = outbox("comment_hidden")
    assert message.recipient == "spam@example.org"
    assert spam.tracking_no in message.subject
    assert "广告或垃圾信息" in message.body and "停车管理办法" in message.body
    assert f"/receipts/{spam.tracking_no}" in message.body
    assert "与征求意见无关的广告。" in message.body

    receipt = client.get(f"/receipts/{spam.tracking_no}").get_data(as_text=True)
    assert "不予公开" in receipt and "广告或垃圾信息" in receipt
    assert "低价代开发票" not in receipt  # the hidden text is not shown publicly
    public = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "低价代开发票" not in public and "建议增加夜间停车位。" in public

    totals = build_report(c, revision=1, summary="", published_at=c.opens_at)["totals"]
    assert totals["received"] == 2
    assert totals["hidden"] == 1 and totals["hidden_by_reason"]["spam"] == 1
    assert totals["by_channel"]["web"] == 2


def test_a_hidden_comment_stays_in_the_published_report_totals(make, unit, editor, travel):
    c = make.consultation("open", unit=unit)
    spam = make.comment(c, body="广告")
    kept = make.comment(c, body="建议修改第一条。")
    hide_comment(spam, "spam", None, actor=editor)
    make.answer(kept, "adopted", None)
    travel(c.closes_at + timedelta(days=1))
    report = publish_report(c, summary="", actor=make.user("approver", unit))
    totals = report.content["totals"]
    assert totals["received"] == 2 and totals["answered"] == 1
    assert totals["hidden_by_reason"] == {"abusive": 0, "off_topic": 0, "personal_data": 0,
                                          "spam": 1, "other": 0}
    item = next(i for i in report.content["items"] if i["tracking_no"] == spam.tracking_no)
    assert item["visibility"] == "hidden" and item["text"] is None


def test_no_mail_when_the_author_left_no_address(client_as, make, unit, editor):
    c = make.consultation("open", unit=unit)
    comment = make.comment(c, body="骂人的话")
    staff = client_as(editor)
    response = staff.post(f"/staff/comments/{comment.id}/hide", data={
        "csrf_token": staff_token(staff), "reason": "abusive"})
    assert response.status_code == 302
    assert comment.status == CommentStatus.HIDDEN and comment.hidden_note is None
    assert outbox("comment_hidden") == []


@pytest.mark.parametrize("reason", ["", "duplicate", "spam' OR 1=1", None])
def test_hiding_needs_one_of_the_reason_codes(client_as, make, unit, editor, reason):
    """Identical texts are grouped, never hidden as duplicates: there is no such reason."""
    c = make.consultation("open", unit=unit)
    comment = make.comment(c, body="与其他人相同的意见。", email="a@example.org")
    staff = client_as(editor)
    data = {"csrf_token": staff_token(staff), "note": "说明"}
    if reason is not None:
        data["reason"] = reason
    response = staff.post(f"/staff/comments/{comment.id}/hide", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请选择不予公开的原因" in html and f'id="comment-{comment.id}"' in html
    assert comment.status == CommentStatus.PUBLISHED and comment.hidden_reason is None
    assert outbox("comment_hidden") == []
    assert audit.events_for(comment) == []


def test_the_service_refuses_a_missing_or_unknown_reason(make, editor):
    comment = make.comment(make.consultation("open"))
    for reason in (None, "", "duplicate"):
        with pytest.raises(ValidationFailed) as error:
            hide_comment(comment, reason, None, actor=editor)
        assert error.value.code == "reason_required"
    assert "duplicate" not in {r.value for r in HiddenReason}


def test_an_over_long_note_is_refused(client_as, make, unit, editor):
    comment = make.comment(make.consultation("open", unit=unit))
    staff = client_as(editor)
    response = staff.post(f"/staff/comments/{comment.id}/hide", data={
        "csrf_token": staff_token(staff), "reason": "other", "note": "长" * 2001})
    assert response.status_code == 422
    assert comment.status == CommentStatus.PUBLISHED


def test_hiding_twice_is_refused(make, editor):
    comment = make.comment(make.consultation("open"))
    hide_comment(comment, HiddenReason.OFF_TOPIC, None, actor=editor)
    with pytest.raises(InvalidTransition):
        hide_comment(comment, HiddenReason.SPAM, None, actor=editor)
    assert comment.hidden_reason == HiddenReason.OFF_TOPIC


def test_unhide_publishes_again_until_the_report_is_out(client_as, make, unit, editor, travel):
    c = make.consultation("open", unit=unit)
    comment = make.comment(c, body="被误判的意见。")
    hide_comment(comment, "off_topic", "误判", actor=editor)
    db.session.commit()
    staff = client_as(editor)
    response = staff.post(f"/staff/comments/{comment.id}/unhide",
                          data={"csrf_token": staff_token(staff), "note": "经复核，与主题相关。"})
    assert response.status_code == 302
    assert comment.status == CommentStatus.PUBLISHED
    assert comment.hidden_reason is None and comment.hidden_note is None
    assert audit.events_for(comment)[-1].reason == "经复核，与主题相关。"

    hide_comment(comment, "off_topic", None, actor=editor)
    travel(c.closes_at + timedelta(days=1))
    publish_report(c, summary="", actor=make.user("approver", unit))
    db.session.commit()
    response = staff.post(f"/staff/comments/{comment.id}/unhide",
                          data={"csrf_token": staff_token(staff)})
    assert response.status_code == 409
    assert comment.status == CommentStatus.HIDDEN
    with pytest.raises(Conflict):
        unhide_comment(comment, actor=editor)


def test_unhiding_a_comment_hidden_before_verification_leaves_it_unverified(make, editor):
    c = make.consultation("open", verification=Verification.EMAIL)
    comment = make.comment(c, status=CommentStatus.UNVERIFIED, email="x@example.org")
    hide_comment(comment, "abusive", None, actor=editor)
    unhide_comment(comment, actor=editor)
    assert comment.status == CommentStatus.UNVERIFIED


def test_publishing_the_report_waits_for_moderation(make, unit, editor, travel):
    c = make.consultation("open", unit=unit, moderation=Moderation.PRE)
    pending = make.comment(c, status=CommentStatus.PENDING_MODERATION)
    travel(c.closes_at + timedelta(days=1))
    assert blockers(c) == {"pending_moderation": 1}
    with pytest.raises(Conflict):
        publish_report(c, summary="", actor=make.user("approver", unit))
    approve_comment(pending, actor=editor)
    assert blockers(c) == {"unanswered": 1}


def test_the_moderation_page_shows_original_masked_preview_and_contact(
        client_as, make, unit, editor):
    c = make.consultation("open", unit=unit)
    make.comment(c, body=f"我的电话是 13812345678，{HOSTILE}", email="me@example.org",
                 phone="0371-66668888", display_name="张三",
                 status=CommentStatus.PENDING_MODERATION)
    html = client_as(editor).get(f"/staff/consultations/{c.id}/moderation").get_data(as_text=True)
    assert "13812345678" in html and MARK in html  # staff see the original and the preview
    assert "me@example.org" in html and "0371-66668888" in html and "张三" in html
    assert ESCAPED in html and HOSTILE not in html
    for reason in ("含辱骂、攻击性内容", "与征求意见内容无关", "含无法隐去的个人信息",
                   "广告或垃圾信息", "其他原因"):
        assert reason in html
    assert "重复" not in html.split("不予公开的原因")[1].split("</select>")[0]


def test_the_moderation_page_filters_by_status(client_as, make, unit, editor):
    c = make.consultation("open", unit=unit)
    make.comment(c, body="待审核的意见", status=CommentStatus.PENDING_MODERATION)
    make.comment(c, body="已公开的意见")
    make.comment(c, body="不予公开的意见", status=CommentStatus.HIDDEN,
                 hidden_reason=HiddenReason.SPAM)
    staff = client_as(editor)
    html = staff.get(f"/staff/consultations/{c.id}/moderation").get_data(as_text=True)
    assert "待审核的意见" in html and "已公开的意见" not in html  # pending first
    html = staff.get(f"/staff/consultations/{c.id}/moderation?status=hidden").get_data(
        as_text=True)
    assert "不予公开的意见" in html and "待审核的意见" not in html and "恢复公开" in html
    html = staff.get(f"/staff/consultations/{c.id}/moderation?status=all").get_data(
        as_text=True)
    assert all(t in html for t in ("待审核的意见", "已公开的意见", "不予公开的意见"))
    assert staff.get(f"/staff/consultations/{c.id}/moderation?status=bogus").status_code == 200


def test_the_units_moderation_queue_lists_pending_comments_oldest_first(
        client_as, make, unit, editor):
    first = make.consultation("open", unit=unit, title="第一个征集")
    second = make.consultation("open", unit=unit, title="第二个征集")
    other = make.consultation("open", unit=make.unit("别的单位"), title="别人的征集")
    make.comment(first, body="较晚的待审核意见", status=CommentStatus.PENDING_MODERATION,
                 created_at=clock.now() - timedelta(hours=1))
    make.comment(second, body="最早的待审核意见", status=CommentStatus.PENDING_MODERATION,
                 created_at=clock.now() - timedelta(hours=2))
    make.comment(first, body="已公开的意见")
    make.comment(other, body="别人的待审核意见", status=CommentStatus.PENDING_MODERATION)
    html = client_as(editor).get("/staff/moderation").get_data(as_text=True)
    assert html.index("最早的待审核意见") < html.index("较晚的待审核意见")
    assert "已公开的意见" not in html
    assert "别人的待审核意见" not in html and "别人的征集" not in html
    assert "第一个征集" in html and "第二个征集" in html
    assert "待审核意见（2 条）" in html


def test_a_moderation_action_returns_to_the_page_it_came_from(client_as, make, unit, editor):
    comment = make.comment(make.consultation("open", unit=unit),
                           status=CommentStatus.PENDING_MODERATION)
    staff = client_as(editor)
    response = staff.post(f"/staff/comments/{comment.id}/approve", data={
        "csrf_token": staff_token(staff), "next": "/staff/moderation"})
    assert response.headers["Location"].endswith("/staff/moderation")
    comment.status = CommentStatus.PENDING_MODERATION
    response = staff.post(f"/staff/comments/{comment.id}/approve", data={
        "csrf_token": staff_token(staff), "next": "https://evil.example/"})
    assert "evil.example" not in response.headers["Location"]


def test_the_hidden_note_is_escaped_and_masked_on_the_receipt(client, make, editor):
    comment = make.comment(make.consultation("open"))
    hide_comment(comment, "other", f"{HOSTILE} 请联系 13812345678", actor=editor)
    html = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert f"{ESCAPED} 请联系 {MARK}" in html
    assert HOSTILE not in html and "13812345678" not in html


def _routes(comment):
    c = comment.consultation_id
    return [
        ("GET", f"/staff/consultations/{c}/moderation"),
        ("POST", f"/staff/comments/{comment.id}/approve"),
        ("POST", f"/staff/comments/{comment.id}/hide"),
        ("POST", f"/staff/comments/{comment.id}/unhide"),
        ("POST", f"/staff/consultations/{c}/settings"),
    ]


def test_staff_of_another_unit_get_403_on_every_moderation_route(client_as, make, unit, stranger):
    comment = make.comment(make.consultation("open", unit=unit), body="甲单位的意见",
                           status=CommentStatus.PENDING_MODERATION, email="a@example.org")
    staff = client_as(stranger)
    token = staff_token(staff)
    rows = table_counts()
    for method, url in _routes(comment):
        response = staff.open(url, method=method, data={
            "csrf_token": token, "reason": "spam", "moderation": "pre", "verification": "none"})
        assert response.status_code == 403, (method, url)
    html = staff.get("/staff/moderation").get_data(as_text=True)
    assert "甲单位的意见" not in html
    assert comment.status == CommentStatus.PENDING_MODERATION
    assert comment.consultation.moderation == Moderation.POST
    assert outbox("comment_hidden") == []
    assert table_counts() == rows



def test_anonymous_users_are_sent_to_login(client, make):
    comment = make.comment(make.consultation("open"))
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for method, url in [*_routes(comment), ("GET", "/staff/moderation")]:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_forged_csrf_token_is_refused(client_as, make, unit, editor):
    comment = make.comment(make.consultation("open", unit=unit), email="a@example.org")
    staff = client_as(editor)
    for data in ({"reason": "spam"}, {"reason": "spam", "csrf_token": "forged"}):
        response = staff.post(f"/staff/comments/{comment.id}/hide", data=data)
        assert response.status_code == 400
    assert comment.status == CommentStatus.PUBLISHED
    assert outbox("comment_hidden") == []


def test_unknown_comments_are_404(client_as, editor):
    staff = client_as(editor)
    token = staff_token(staff)
    for action in ("approve", "hide", "unhide"):
        response = staff.post(f"/staff/comments/999999/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    assert staff.get("/staff/consultations/999999/moderation").status_code == 404


# ---------------------------------------------------------------- the consultation's settings


def test_staff_switch_a_consultation_to_pre_moderation(client_as, make, unit, editor):
    c = make.consultation("open", unit=unit)
    staff = client_as(editor)
    page = staff.get(f"/staff/consultations/{c.id}").get_data(as_text=True)
    assert "意见设置" in page and "先审后发" in page
    response = staff.post(f"/staff/consultations/{c.id}/settings", data={
        "csrf_token": staff_token(staff), "moderation": "pre"})
    assert response.status_code == 302
    assert c.moderation == Moderation.PRE and c.verification == Verification.NONE
    assert audit.events_for(c)[-1].action == "change_settings"
    comment, _ = submit_comment(c, CommentInput(body="新意见", category=Category.OTHER))
    assert comment.status == CommentStatus.PENDING_MODERATION


def test_verification_can_change_only_before_the_window_opens(client_as, make, unit, editor):
    scheduled = make.consultation("scheduled", unit=unit)
    opened = make.consultation("open", unit=unit)
    staff = client_as(editor)
    token = staff_token(staff)
    response = staff.post(f"/staff/consultations/{scheduled.id}/settings", data={
        "csrf_token": token, "moderation": "post", "verification": "email"})
    assert response.status_code == 302
    assert scheduled.verification == Verification.EMAIL
    response = staff.post(f"/staff/consultations/{opened.id}/settings", data={
        "csrf_token": token, "moderation": "post", "verification": "email"})
    assert response.status_code == 409
    assert opened.verification == Verification.NONE
    response = staff.post(f"/staff/consultations/{opened.id}/settings", data={
        "csrf_token": token, "moderation": "bogus"})
    assert response.status_code == 422
    assert opened.moderation == Moderation.POST


def test_settings_are_locked_once_the_report_is_out(client_as, make, unit, editor, travel):
    c = make.consultation("open", unit=unit)
    travel(c.closes_at + timedelta(days=1))
    publish_report(c, summary="", actor=make.user("approver", unit))
    staff = client_as(editor)
    response = staff.post(f"/staff/consultations/{c.id}/settings", data={
        "csrf_token": staff_token(staff), "moderation": "pre"})
    assert response.status_code == 409
    assert c.moderation == Moderation.POST
