"""One register for every channel (F11b): staff record letters, e-mails and what was said at
hearings; those comments get tracking numbers and are answered and reported like web comments."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest

from consult import audit, clock
from consult.answers.services import publish_report
from consult.comments.models import Category, Channel, Comment, CommentStatus
from consult.comments.services import CommentInput, record_comment
from consult.consultations.models import Moderation
from consult.errors import Conflict, ValidationFailed, WindowClosed
from consult.extensions import db
from consult.mail import OutboxMessage
from consult.uploads import Attachment, attachments_of
from tests.conftest import table_counts

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def open_c(make, unit):
    return make.consultation("open", unit=unit, title="物业管理条例（征求意见稿）")


def record_url(c) -> str:
    return f"/staff/consultations/{c.id}/comments/record"


def letter(**kw) -> dict:
    data = {
        "channel": "letter", "hearing": "", "received_on": (clock.today() - timedelta(days=1))
        .isoformat(), "article": "3", "category": "individual", "region": "金水区",
        "display_name": "李大爷", "email": "", "phone": "0371-12345678", "notify": "y",
        "body": "来信建议：物业费调整应当经业主大会表决。",
    }
    data.update(kw)
    return data


def comments() -> list[Comment]:
    return db.session.scalars(db.select(Comment).order_by(Comment.id)).all()


def test_a_letter_is_recorded_with_a_tracking_number_answered_and_reported(
        client_as, post_form, make, unit, editor, open_c, travel):
    staff = client_as(editor)
    page = staff.get(record_url(open_c))
    assert page.status_code == 200
    assert "信函" in page.get_data(as_text=True)
    response = post_form(staff, record_url(open_c), letter())
    assert response.status_code == 302
    [comment] = comments()
    assert comment.channel == Channel.LETTER and comment.recorded_by_id == editor.id
    assert comment.article.number == 3 and comment.status == CommentStatus.PUBLISHED
    assert clock.local_date(comment.received_at) == clock.today() - timedelta(days=1)
    assert comment.phone == "0371-12345678" and comment.publish_name is False
    assert audit.events_for(comment)[0].action == "record_comment"

    # The staff page shows the tracking number to write back to the sender.
    html = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert comment.tracking_no in html and "请告知提出人" in html

    # Handled exactly like a web comment: the answering queue, the receipt, the report.
    queue = staff.get(f"/staff/consultations/{open_c.id}/comments").get_data(as_text=True)
    assert comment.tracking_no in queue and "来信建议" in queue
    receipt = client_as().get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "物业费调整应当经业主大会表决" in receipt and "0371-12345678" not in receipt
    assert "收到日期" in receipt and "信函" in receipt
    make.comment(open_c, body="网上的意见")
    for each in comments():
        make.answer(each, "partly_adopted", "部分采纳。")
    travel(open_c.closes_at + timedelta(days=1))
    report = publish_report(open_c, summary="", actor=make.user("approver", unit))
    totals = report.content["totals"]
    assert totals["by_channel"]["letter"] == 1 and totals["by_channel"]["web"] == 1
    assert totals["received"] == 2 and totals["answered"] == 2
    item = next(i for i in report.content["items"] if i["tracking_no"] == comment.tracking_no)
    assert item["channel"] == "letter" and item["disposition"] == "partly_adopted"


def test_the_sender_gets_a_receipt_mail_when_they_gave_an_address(
        client_as, post_form, editor, open_c):
    response = post_form(client_as(editor), record_url(open_c),
                         letter(channel="email", email="sender@example.org"))
    assert response.status_code == 302
    [comment] = comments()
    [mail] = db.session.scalars(db.select(OutboxMessage)).all()
    assert mail.kind == "receipt" and mail.recipient == "sender@example.org"
    assert comment.tracking_no in mail.body


def test_a_scanned_letter_is_kept_for_staff_only(client_as, client, post_form, make, editor,
                                                 open_c):
    staff = client_as(editor)
    response = post_form(staff, record_url(open_c),
                         letter(scan=(io.BytesIO(PDF), "来信扫描件.pdf")))
    assert response.status_code == 302
    [comment] = comments()
    [scan] = attachments_of(comment)
    assert scan.kind == "pdf" and scan.public is False and scan.filename == "来信扫描件.pdf"
    url = f"/staff/comments/{comment.id}/attachments/{scan.id}"
    download = staff.get(url)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    moderation = staff.get(f"/staff/consultations/{open_c.id}/moderation?status=all")
    assert url in moderation.get_data(as_text=True)
    stranger = client_as(make.user("approver", make.unit("其他单位")))
    assert stranger.get(url).status_code == 403
    assert client.get(url).status_code == 302  # to the login page
    other = make.comment(open_c)
    assert staff.get(f"/staff/comments/{other.id}/attachments/{scan.id}").status_code == 404


def test_a_scan_that_is_not_a_pdf_is_refused_and_nothing_is_recorded(
        client_as, post_form, editor, open_c):
    response = post_form(client_as(editor), record_url(open_c),
                         letter(scan=(io.BytesIO(b"MZ\x90\x00 not a pdf"), "scan.pdf")))
    assert response.status_code == 422
    assert "PDF" in response.get_data(as_text=True)
    assert comments() == []
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


def test_a_received_date_in_the_future_is_refused(client_as, post_form, editor, open_c):
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = post_form(client_as(editor), record_url(open_c), letter(received_on=tomorrow))
    assert response.status_code == 422
    assert "收到日期不能晚于今天" in response.get_data(as_text=True)
    assert comments() == []


@pytest.mark.parametrize("field, value, message", [
    ("received_on", "", "请填写有效的收到日期"),
    ("received_on", "2025-02-30", "不是有效的日期值"),
    ("body", "   ", "请填写意见内容"),
    ("body", "长" * 10_001, "意见内容不能超过"),
    ("channel", "web", "请选择收到渠道"),
    ("channel", "carrier_pigeon", "请选择收到渠道"),
    ("article", "99", "所选条款不存在"),
    ("category", "robot", "请选择提出人身份"),
    ("email", "not-an-address", "请填写有效的电子邮箱地址"),
    ("hearing", "999999", "所选听证会/座谈会不存在"),
])
def test_bad_input_is_shown_on_the_form(client_as, post_form, editor, open_c, field, value,
                                        message):
    response = post_form(client_as(editor), record_url(open_c), letter(**{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert comments() == []


def test_a_letter_received_before_the_window_opened_is_refused(editor, open_c):
    before = clock.local_date(open_c.opens_at) - timedelta(days=1)
    with pytest.raises(ValidationFailed) as error:
        record_comment(open_c, CommentInput(body="早到的信", category=Category.OTHER),
                       Channel.LETTER, before, actor=editor)
    assert "received_on" in error.value.fields


def test_after_closing_a_letter_postmarked_within_the_window_is_accepted(
        client_as, post_form, make, unit, editor):
    closed = make.consultation("closed", unit=unit)
    last_day = clock.local_date(closed.closes_at)
    response = post_form(client_as(editor), record_url(closed),
                         letter(received_on=last_day.isoformat()))
    assert response.status_code == 302
    [comment] = comments()
    assert comment.channel == Channel.LETTER
    late = (last_day + timedelta(days=1)).isoformat()
    response = post_form(client_as(editor), record_url(closed), letter(received_on=late))
    assert response.status_code == 422
    assert "须在征求意见期限内" in response.get_data(as_text=True)
    assert len(comments()) == 1


def test_nothing_can_be_recorded_after_the_report(client_as, post_form, make, unit, editor,
                                                 travel):
    c = make.consultation("open", unit=unit)
    travel(c.closes_at + timedelta(days=1))
    publish_report(c, summary="", actor=make.user("approver", unit))
    staff = client_as(editor)
    html = staff.get(record_url(c)).get_data(as_text=True)
    assert "采纳情况报告已发布，不能再登记意见" in html
    token_page = staff.get("/staff").get_data(as_text=True)
    from tests.conftest import csrf_from

    data = letter(received_on=clock.local_date(c.closes_at).isoformat())
    response = staff.post(record_url(c), data={"csrf_token": csrf_from(token_page), **data})
    assert response.status_code == 409
    assert comments() == []
    with pytest.raises(Conflict):
        record_comment(c, CommentInput(body="迟到", category=Category.OTHER), Channel.LETTER,
                       clock.local_date(c.closes_at), actor=editor)


@pytest.mark.parametrize("state", ["draft", "pending_approval", "scheduled", "withdrawn"])
def test_nothing_can_be_recorded_before_the_window_or_after_withdrawal(make, editor, state):
    c = make.consultation(state, unit=editor.memberships[0].unit)
    with pytest.raises(WindowClosed):
        record_comment(c, CommentInput(body="信", category=Category.OTHER), Channel.LETTER,
                       clock.today(), actor=editor)


def test_the_record_page_of_a_draft_explains_why_there_is_no_form(client_as, make, unit, editor):
    draft = make.consultation("draft", unit=unit)
    response = client_as(editor).get(record_url(draft))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "尚未开始" in html and 'name="body"' not in html


def test_a_double_click_records_one_comment(client_as, editor, open_c):
    from tests.conftest import csrf_from

    staff = client_as(editor)
    html = staff.get(record_url(open_c)).get_data(as_text=True)
    token = csrf_from(html)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html).group(1)
    data = {"csrf_token": token, **letter(), "nonce": nonce}
    first = staff.post(record_url(open_c), data=data)
    second = staff.post(record_url(open_c), data=data)
    assert first.status_code == second.status_code == 302
    assert len(comments()) == 1
    assert first.headers["Location"] == second.headers["Location"]


def test_recorded_comments_follow_pre_moderation(editor, make, unit):
    c = make.consultation("open", unit=unit, moderation=Moderation.PRE)
    comment = record_comment(c, CommentInput(body="来信", category=Category.EXPERT),
                             Channel.EMAIL, clock.today(), actor=editor)
    assert comment.status == CommentStatus.PENDING_MODERATION
    assert comment.tracking_no and comment.verified_at is None


def test_hostile_html_in_a_letter_is_shown_escaped(client_as, post_form, editor, open_c):
    staff = client_as(editor)
    post_form(staff, record_url(open_c), letter(body=HOSTILE, display_name=HOSTILE))
    for url in (record_url(open_c), f"/staff/consultations/{open_c.id}/moderation?status=all",
                f"/staff/consultations/{open_c.id}/comments"):
        html = staff.get(url).get_data(as_text=True)
        assert HOSTILE not in html, url
    html = staff.get(f"/staff/consultations/{open_c.id}/moderation?status=all").get_data(
        as_text=True)
    assert ESCAPED in html


def test_staff_of_another_unit_cannot_record(client_as, post_form, make, open_c):
    stranger = client_as(make.user("editor", make.unit("其他单位")))
    rows = table_counts()
    assert stranger.get(record_url(open_c)).status_code == 403
    response = post_form(stranger, record_url(open_c), letter(), page="/staff")
    assert response.status_code == 403
    assert comments() == []
    assert table_counts() == rows



def test_a_forged_csrf_token_is_refused(client_as, editor, open_c):
    response = client_as(editor).post(record_url(open_c), data={"csrf_token": "x", **letter()})
    assert response.status_code == 400
    assert comments() == []


def test_unknown_consultation_is_404(client_as, editor):
    assert client_as(editor).get("/staff/consultations/999999/comments/record").status_code \
        == 404


def test_the_service_refuses_the_web_channel(editor, open_c):
    with pytest.raises(ValidationFailed):
        record_comment(open_c, CommentInput(body="x", category=Category.OTHER), Channel.WEB,
                       date.today(), actor=editor)
