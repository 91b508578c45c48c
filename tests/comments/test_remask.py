"""`flask --app app privacy remask [--dry-run]`: new masking rules apply to what is published.

Comments are masked when shown, so pages follow new rules at once; a published report froze
what it showed, so the command publishes a new revision, with a public note, of every report
whose items change under today's rules (including the text and name of unverified comments,
which older reports carried: finding 2).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consult.answers.models import Report
from consult.answers.remask import remask_reports
from consult.answers.services import digest_of, publish_report, published_report
from consult.comments.masking import MARK
from consult.comments.models import CommentStatus
from consult.extensions import db

OLD_BYPASS = "有事请打138.0013.8000找我，我住经三路12号院3号楼。"


@pytest.fixture
def old_report(make, travel, monkeypatch):
    """A report published under the old rules: the dotted phone, the address and the text and
    claimed name of an unverified comment went out as written."""
    c = make.consultation("open")
    leaked = make.comment(c, body=OLD_BYPASS, region="金水区")
    make.answer(leaked, "not_adopted", "与本条无关。")
    clean = make.comment(c, body="建议延长公示期。")
    make.answer(clean, "adopted", None)
    unverified = make.comment(c, body="冒名的意见", status=CommentStatus.UNVERIFIED,
                              display_name="李四（某公司）", publish_name=True)
    travel(c.closes_at + timedelta(days=1))
    monkeypatch.setattr("consult.answers.services.public_text", lambda comment: comment.body)
    report = publish_report(c, summary="", actor=make.user("approver", c.unit))
    items = report.content["items"]
    for item in items:  # the old public_name showed any consented name
        if item["tracking_no"] == unverified.tracking_no:
            item["name"] = "李四（某公司）"
    content = {**report.content, "items": items}
    content["digest"] = digest_of(content)
    db.session.execute(db.update(Report).where(Report.id == report.id)
                       .values(content=content, digest=content["digest"])
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    monkeypatch.undo()
    return {"c": c, "leaked": leaked, "clean": clean, "unverified": unverified}


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["privacy", "remask", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_dry_run_counts_and_changes_nothing(app, old_report):
    output = run(app, "--dry-run")
    assert f"consultation {old_report['c'].id}: 2 items change" in output
    assert "would publish 1 new report revisions" in output and "dry run" in output
    assert published_report(old_report["c"]).revision == 1


def test_a_new_revision_with_a_public_note_masks_what_the_old_one_showed(app, client,
                                                                          old_report):
    c = old_report["c"]
    before = published_report(c).content
    output = run(app)
    assert "published 1 new report revisions" in output
    report = published_report(c)
    assert report.revision == 2 and report.correction_note == (
        "按更新后的个人信息保护规则，重新处理了 2 条意见的公开内容。")
    items = {i["tracking_no"]: i for i in report.content["items"]}
    leaked = items[old_report["leaked"].tracking_no]
    assert leaked["text"] == f"有事请打{MARK}找我，我住经三路{MARK}。"
    assert items[old_report["unverified"].tracking_no]["text"] is None
    assert items[old_report["unverified"].tracking_no]["name"] is None
    assert items[old_report["clean"].tracking_no]["text"] == "建议延长公示期。"
    assert report.content["totals"] == before["totals"]
    assert report.digest == digest_of(report.content)
    page = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    assert "138.0013.8000" not in page and "李四" not in page
    assert "重新处理了 2 条意见的公开内容" in page
    # Running it again finds nothing more to do.
    assert "published 0 new report revisions" in run(app)
    assert published_report(c).revision == 2


def test_a_report_that_is_already_right_gets_no_revision(app, make, travel):
    c = make.consultation("open")
    make.answer(make.comment(c, body="手机138.0013.8000"), "adopted", None)
    travel(c.closes_at + timedelta(days=1))
    publish_report(c, summary="", actor=make.user("approver", c.unit))
    assert remask_reports() == []
    assert "138.0013.8000" not in json.dumps(published_report(c).content, ensure_ascii=False)


def test_live_pages_follow_the_rules_without_the_command(client, make):
    c = make.consultation("open")
    make.comment(c, body=OLD_BYPASS)
    html = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "138.0013.8000" not in html and "经三路12号院" not in html
    assert "经三路" in html
