"""Changes the law requires after the report is out go through a new revision with a public note.

Finding 4 (issue 9): hiding a comment after the report is published was allowed silently, so the
frozen report and the receipt contradicted each other. Now it publishes the next revision, built
from the comments as they are, with the public note 「一条意见依法不予公开。」 — never silently,
never refused (unlawful content found late must still come down). An erasure that redacts a
frozen report adds a revision with the anonymous note 「一处个人信息依申请删除。」.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consult import audit
from consult.answers import groups as groups_service
from consult.answers.models import DispositionCode, Report
from consult.answers.revisions import ERASURE_NOTE, HIDDEN_AFTER_REPORT_NOTE
from consult.answers.services import digest_of, publish_report, published_report
from consult.comments.models import CommentStatus
from consult.comments.moderation import hide_comment
from consult.comments.privacy import (
    erase_comments,
)
from consult.errors import InvalidTransition
from consult.extensions import db
from consult.mail import OutboxMessage
from tests.conftest import csrf_from

UNLAWFUL = "某某的内容后来被认定违法。"


@pytest.fixture
def reported(make, unit, editor, travel):
    c = make.consultation("open", unit=unit)
    late = make.comment(c, article=2, body=UNLAWFUL, email="late@example.org",
                        display_name="赵某", publish_name=True)
    make.answer(late, "not_adopted", "与本条无关。")
    kept = make.comment(c, body="建议延长公示期。", display_name="钱七", publish_name=True)
    make.answer(kept, "adopted", None)
    travel(c.closes_at + timedelta(days=1))
    report = publish_report(c, summary="共收到两条意见。", actor=make.user("approver", unit))
    db.session.commit()
    return {"c": c, "late": late, "kept": kept, "first": report}


def _items(report: Report) -> dict:
    return {item["tracking_no"]: item for item in report.content["items"]}


def revisions(c) -> list[Report]:
    return db.session.scalars(db.select(Report).where(Report.consultation_id == c.id)
                              .order_by(Report.revision)).all()


def test_hiding_after_the_report_publishes_a_revision_with_a_public_note(reported, editor):
    c, late = reported["c"], reported["late"]
    hide_comment(late, "abusive", "经核实，内容违法。", actor=editor)
    db.session.commit()
    first, second = revisions(c)
    assert second.revision == 2 and second.published_at is not None
    assert second.correction_note == HIDDEN_AFTER_REPORT_NOTE == "一条意见依法不予公开。"
    assert second.summary == first.summary
    item = _items(second)[late.tracking_no]
    assert item["visibility"] == "hidden" and item["text"] is None
    assert item["disposition"] is None and item["hidden_reason"] == "abusive"
    totals = second.content["totals"]
    assert totals["received"] == 2 and totals["hidden"] == 1 and totals["answered"] == 1
    assert totals["by_disposition"]["not_adopted"] == 0
    assert second.digest == digest_of(second.content) == second.content["digest"]
    # The first revision stays as published: the change is visible, not silent.
    assert _items(first)[late.tracking_no]["text"] == UNLAWFUL
    assert "publish_report" in [e.action for e in audit.events_for(second)]


def test_the_receipt_and_the_report_then_agree(client, reported, editor):
    c, late = reported["c"], reported["late"]
    hide_comment(late, "abusive", None, actor=editor)
    db.session.commit()
    page = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    assert UNLAWFUL not in page and "一条意见依法不予公开" in page
    report = client.get(f"/api/v1/consultations/{c.id}/report").get_json()
    assert report["revision"] == 2
    receipt = client.get(f"/api/v1/receipts/{late.tracking_no}").get_json()
    assert receipt["status"] == "hidden" and receipt["text"] is None
    assert receipt["answer"] is None  # as in the report: hidden, no answer shown
    item = next(i for i in report["items"] if i["tracking_no"] == late.tracking_no)
    assert item["disposition"] is None
    html = client.get(f"/receipts/{late.tracking_no}").get_data(as_text=True)
    assert UNLAWFUL not in html and "不予公开" in html
    csv = client.get(f"/consultations/{c.id}/report.csv").data.decode("utf-8-sig")
    assert UNLAWFUL not in csv


def test_through_the_moderation_page(client_as, reported, editor):
    c, late = reported["c"], reported["late"]
    staff = client_as(editor)
    page = staff.get(f"/staff/consultations/{c.id}/moderation?status=all")
    html = page.get_data(as_text=True)
    assert "新版本" in html  # the form says what hiding will do now
    response = staff.post(f"/staff/comments/{late.id}/hide", data={
        "csrf_token": csrf_from(html), "reason": "abusive", "note": ""})
    assert response.status_code == 302
    assert late.status == CommentStatus.HIDDEN
    assert published_report(c).revision == 2
    mail = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == "comment_hidden"))
    assert mail is not None and mail.recipient == "late@example.org"


def test_hiding_twice_after_the_report_changes_nothing(reported, editor):
    hide_comment(reported["late"], "abusive", None, actor=editor)
    with pytest.raises(InvalidTransition):
        hide_comment(reported["late"], "spam", None, actor=editor)
    assert len(revisions(reported["c"])) == 2


def test_hiding_a_groups_representative_keeps_every_total_recomputable(make, unit, editor, travel):
    c = make.consultation("open", unit=unit)
    letters = [make.comment(c, article=1, body="同一封意见书。") for _ in range(3)]
    group = groups_service.group_comments(c, letters, actor=editor)
    groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, "已有规定。", actor=editor)
    travel(c.closes_at + timedelta(days=1))
    publish_report(c, summary="", actor=make.user("approver", unit))
    assert len(published_report(c).content["items"]) == 1  # one item for the campaign
    hide_comment(group.representative, "spam", None, actor=editor)
    report = published_report(c)
    assert report.revision == 2
    totals, items = report.content["totals"], report.content["items"]
    assert totals["received"] == sum(i["count"] for i in items) == 3
    assert totals["answered"] == sum(i["count"] for i in items if i["disposition"]) == 2
    assert totals["hidden"] == 1


def test_before_the_report_hiding_publishes_nothing(make, editor, unit):
    c = make.consultation("open", unit=unit)
    hide_comment(make.comment(c), "spam", None, actor=editor)
    assert revisions(c) == []


# --- erasure ----------------------------------------------------------------------------------


def test_an_erasure_that_redacts_the_report_adds_an_anonymous_revision_note(reported):
    c, late = reported["c"], reported["late"]
    before = published_report(c).content
    erase_comments([late], reason="应本人要求删除个人信息")
    db.session.commit()
    first, second = revisions(c)
    assert second.correction_note == ERASURE_NOTE == "一处个人信息依申请删除。"
    assert late.tracking_no not in second.correction_note
    for report in (first, second):  # the name is gone from every revision
        assert _items(report)[late.tracking_no]["name"] is None
        assert "赵某" not in json.dumps(report.content, ensure_ascii=False)
        assert report.digest == digest_of(report.content)
    assert second.content["totals"] == before["totals"]
    assert _items(second)[late.tracking_no]["text"] == UNLAWFUL  # published text stays
    assert second.content["revision"] == 2 and second.summary == first.summary


def test_an_erasure_of_several_names_says_how_many(reported):
    erase_comments([reported["late"], reported["kept"]], reason="应本人要求删除个人信息")
    assert published_report(reported["c"]).correction_note == "2 处个人信息依申请删除。"


def test_an_erasure_that_changes_no_report_adds_no_revision(make, reported):
    nameless = make.comment(reported["c"], body="无署名", email="n@example.org")
    erase_comments([nameless], reason="应本人要求删除个人信息")
    assert len(revisions(reported["c"])) == 1
