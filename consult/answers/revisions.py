"""The adoption report after its publication: revisions the law requires, and redaction.

A published report is immutable; what changes afterwards is published as its next revision with
a public note (`services.publish_revision`). The comments domain, which sits below this one,
tells of such changes by signals (`consult.signals`), received here:
- a comment hidden after the report → the next revision, noted 一条意见依法不予公开;
- personal data erased → every published revision redacted in place, then the next revision,
  noted as an erasure (`redact_reports`).
"""

from __future__ import annotations

import copy

from sqlalchemy import update

from consult import audit, signals
from consult.answers.models import Report
from consult.answers.services import digest_of, publish_revision
from consult.auth.models import User
from consult.comments.models import Comment
from consult.comments.privacy import ERASED_TEXT
from consult.extensions import db

# The public notes of report revisions published for changes after publication. Stored as
# written here (the report is a public record in the default language), anonymous.
HIDDEN_AFTER_REPORT_NOTE = "一条意见依法不予公开。"
ERASURE_NOTE = "一处个人信息依申请删除。"
ERASURE_NOTE_MANY = "%d 处个人信息依申请删除。"


@signals.comment_hidden.connect
def _after_hiding(comment: Comment, *, actor: User | None) -> None:
    """Hiding after the report publishes its next revision (never silently, never refused:
    unlawful content found late must still come down)."""
    if comment.consultation.report_published:
        publish_revision(comment.consultation, note=HIDDEN_AFTER_REPORT_NOTE, actor=actor)


@signals.comments_erased.connect
def _after_erasure(_sender, *, comments: list[Comment], reason: str) -> None:
    redact_reports(comments, reason=reason)


def redact_reports(comments: list[Comment], *, reason: str) -> int:
    """Remove erased names (and erased texts) from published reports; return reports changed.

    A published report is otherwise immutable. Erasure is the one exception the law demands:
    every published revision is changed in place (an UPDATE past the ORM's immutability guard,
    with a new digest), recorded in the audit log with the tracking numbers concerned (no
    personal data); then, so that the change is not silent, the next revision is published
    with the anonymous note ERASURE_NOTE.
    """
    numbers = {c.tracking_no: c for c in comments}
    consultation_ids = {c.consultation_id for c in comments}
    reports = db.session.scalars(
        db.select(Report).where(Report.consultation_id.in_(consultation_ids),
                                Report.published_at.is_not(None))
        .order_by(Report.consultation_id, Report.revision)
    ).all()
    newest: dict[int, tuple[Report, dict, set[str]]] = {}
    changed_reports = 0
    for report in reports:
        content = copy.deepcopy(report.content or {})
        touched = sorted(_redact(content, numbers))
        newest[report.consultation_id] = (report, content, set(touched))
        if not touched:
            continue
        content["digest"] = digest_of(content)
        db.session.execute(
            update(Report).where(Report.id == report.id)
            .values(content=content, digest=content["digest"])
            .execution_options(synchronize_session=False)
        )
        db.session.expire(report)
        audit.record(None, "redact_report", report, unit_id=report.consultation.unit_id,
                     reason=reason, detail={"revision": report.revision, "comments": touched})
        changed_reports += 1
    for report, content, touched in newest.values():
        if touched:
            note = ERASURE_NOTE if len(touched) == 1 else ERASURE_NOTE_MANY % len(touched)
            publish_revision(report.consultation, note=note, actor=None,
                             content=copy.deepcopy(content))
    return changed_reports


def _redact(node, numbers: dict[str, Comment]) -> set[str]:
    """Blank the name (and an erased text) of every item naming one of `numbers`, anywhere."""
    touched: set[str] = set()
    if isinstance(node, list):
        for child in node:
            touched |= _redact(child, numbers)
    elif isinstance(node, dict):
        comment = numbers.get(node.get("tracking_no"))
        if comment is not None:
            if node.get("name"):
                node["name"] = None
                touched.add(comment.tracking_no)
            if comment.body == ERASED_TEXT and node.get("text") not in (None, ERASED_TEXT):
                node["text"] = ERASED_TEXT
                touched.add(comment.tracking_no)
        for value in node.values():
            if isinstance(value, (list, dict)):
                touched |= _redact(value, numbers)
    return touched
