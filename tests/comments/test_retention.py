"""The retention job: `flask --app app privacy purge [--dry-run]` erases contact data when its
time is up (CONTACT_RETENTION_DAYS after the report, or after the close without one)."""

from __future__ import annotations

import hashlib
import io

import pytest
from werkzeug.datastructures import FileStorage

from consult import uploads
from consult.answers.services import publish_report
from consult.audit import AuditEvent
from consult.comments.models import Comment
from consult.comments.privacy import orphan_files, purge_contact_data, remove_orphan_files
from consult.extensions import db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def uploads_dir(app, tmp_path, monkeypatch):
    """A private upload folder: the purge removes unreferenced files there."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def world(make, uploads_dir):
    reported = make.consultation("closed", title="已反馈")
    approver = make.user("approver", reported.unit)
    answered = make.comment(reported, body="意见一", email="a@example.org", phone="13800000001",
                            display_name="甲", publish_name=True)
    make.answer(answered, "adopted", None)
    publish_report(reported, summary="", actor=approver)
    no_report = make.consultation("open", title="尚无报告")  # closes in 25 days
    waiting = make.comment(no_report, body="意见二", email="b@example.org")
    phone_only = make.comment(no_report, body="意见三", phone="13800000002")
    no_contact = make.comment(no_report, body="意见四")
    return {"reported": reported, "no_report": no_report, "answered": answered,
            "waiting": waiting, "phone_only": phone_only, "no_contact": no_contact}


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["privacy", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def contact(comment: Comment):
    db.session.refresh(comment)
    return comment.email, comment.phone


def test_nothing_is_erased_before_the_retention_time(app, world, travel):
    travel(179)
    output = run(app)
    assert "erased contact data of 0 comments in 0 consultations" in output
    assert contact(world["answered"]) == ("a@example.org", "13800000001")


def test_contact_data_goes_180_days_after_the_report(app, world, travel):
    travel(181)
    output = run(app)
    assert f"consultation {world['reported'].id}: erased contact data of 1 comments" in output
    assert contact(world["answered"]) == (None, None)
    answered = world["answered"]
    assert answered.body == "意见一" and answered.public_name == "甲"  # only contact data
    assert contact(world["waiting"]) == ("b@example.org", None)  # no report, not closed yet
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "purge_contact_data"))
    assert event.object_id == world["reported"].id and event.detail["comments"] == 1
    assert event.unit_id == world["reported"].unit_id
    assert "0 comments" in run(app)  # a second run has nothing left to do


def test_without_a_report_contact_data_goes_180_days_after_the_close(app, world, travel):
    travel(25 + 179)
    run(app)
    assert contact(world["waiting"]) == ("b@example.org", None)
    travel(25 + 181)
    output = run(app)
    assert f"consultation {world['no_report'].id}: erased contact data of 2 comments" in output
    assert contact(world["waiting"]) == (None, None)
    assert contact(world["phone_only"]) == (None, None)


def test_the_dry_run_counts_and_changes_nothing(app, world, travel):
    travel(400)
    output = run(app, "--dry-run")
    assert "would erase contact data of 3 comments in 2 consultations" in output
    assert "dry run: nothing changed" in output
    assert contact(world["answered"]) == ("a@example.org", "13800000001")
    assert contact(world["waiting"]) == ("b@example.org", None)
    assert not db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "purge_contact_data"))


def test_the_retention_period_is_configurable(app, world, travel, monkeypatch):
    monkeypatch.setitem(app.config, "CONTACT_RETENTION_DAYS", 30)
    travel(31)
    assert [line.comments for line in purge_contact_data(dry_run=True)] == [1]


def test_a_withdrawn_consultation_counts_from_its_withdrawal(app, make, travel, uploads_dir):
    from consult import clock

    c = make.consultation("open")
    comment = make.comment(c, email="w@example.org")
    c.state = "withdrawn"
    c.withdrawn_at = clock.now()
    db.session.flush()
    travel(181)  # still before closes_at + 180, but 181 days after the withdrawal
    run(app)
    assert contact(comment) == (None, None)


def test_unreferenced_attachment_files_are_removed(app, world, storage_backend, travel):
    store = storage_backend
    kept = uploads.store(FileStorage(io.BytesIO(PDF), filename="意见.pdf"),
                         owner=world["no_report"], allowed={"pdf"})
    db.session.commit()
    orphan = "a" * 64
    store.put(orphan, b"%PDF-1.4 left behind")
    store.put("exports/report.pdf", b"not an upload")  # another kind of name: never touched
    # Fresh files may be an upload whose row is being committed right now: kept for an hour.
    assert "erased 0 unreferenced" in run(app)
    assert orphan in store.names()
    travel(2 / 24)  # two hours later
    assert "would erase 1 unreferenced" in run(app, "--dry-run") and orphan in store.names()
    assert "erased 1 unreferenced" in run(app)
    assert store.names() == sorted([kept.sha256, "exports/report.pdf"])
    assert store.read(kept.sha256) == PDF


def test_a_file_referenced_again_during_the_purge_is_kept(app, world, storage_backend, travel):
    store = storage_backend
    digest = hashlib.sha256(PDF).hexdigest()
    store.put(digest, PDF)  # left behind by an earlier, deleted attachment
    travel(2 / 24)
    orphans = orphan_files()
    assert [item.name for item in orphans] == [digest]
    # The same bytes are uploaded again before the purge deletes anything.
    uploads.store(FileStorage(io.BytesIO(PDF), filename="again.pdf"), owner=world["no_report"],
                  allowed={"pdf"})
    assert remove_orphan_files(orphans) == 0
    assert store.read(digest) == PDF
