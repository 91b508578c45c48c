"""Moderation (F9): approve a comment awaiting moderation, hide one with a reason, or unhide it.

Nothing is ever deleted: a hidden comment keeps its text (staff see it), is counted in the
report's totals by reason, and its author is told why by mail. Identical texts are grouped by
the answers domain, never hidden as duplicates, so there is no "duplicate" reason.
"""

from __future__ import annotations

from flask_babel import gettext as _

from consult import audit, mail, signals
from consult.auth.models import User
from consult.comments.masking import mask
from consult.comments.models import Comment, CommentStatus, HiddenReason
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.urls import external_url

NOTE_MAX = 2_000
AWAITING = (CommentStatus.PENDING_MODERATION, CommentStatus.SUBMITTED)


def approve_comment(comment: Comment, *, actor: User) -> Comment:
    """A comment awaiting moderation goes public (and then needs an answer)."""
    if comment.status not in AWAITING:
        raise InvalidTransition(_("只有待审核的意见可以审核通过。"), code="not_pending")
    before = comment.status
    comment.status = CommentStatus.PUBLISHED
    audit.record(actor, "approve_comment", comment, unit_id=comment.consultation.unit_id,
                 detail={"from": before.value})
    return comment


def hide_comment(comment: Comment, reason_code: HiddenReason | str | None, note: str | None, *,
                 actor: User) -> Comment:
    """Withhold a comment from publication with a reason; it stays in the database and the totals.

    The author, if they left an e-mail address, is told the reason and given their receipt link.
    Once the report is out, hiding publishes its next revision with a public note (never
    silently, and never refused: unlawful content found late must still come down), so that
    the report and the receipt agree.
    """
    reason = _reason(reason_code)
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        message = _("说明不能超过 %(n)d 字。", n=NOTE_MAX)
        raise ValidationFailed(message, code="too_long", fields={"note": message})
    if comment.status == CommentStatus.HIDDEN:
        raise InvalidTransition(_("该意见已不予公开。"), code="already_hidden")
    before = comment.status
    comment.status = CommentStatus.HIDDEN
    comment.hidden_reason = reason
    comment.hidden_note = note
    # The note to the author stays on the comment (it may quote them): not in the audit log.
    audit.record(actor, "hide_comment", comment, unit_id=comment.consultation.unit_id,
                 detail={"hidden_reason": reason.value, "from": before.value,
                         "note": bool(note)})
    # The answers domain publishes the report's next revision, when there is a report.
    signals.send_required(signals.comment_hidden, comment, actor=actor)
    if comment.email:
        _queue_hidden_mail(comment)
    return comment


def unhide_comment(comment: Comment, *, actor: User, note: str | None = None) -> Comment:
    """Publish a hidden comment after all, as long as the report is not out."""
    if comment.status != CommentStatus.HIDDEN:
        raise InvalidTransition(_("该意见没有被设为不予公开。"), code="not_hidden")
    if comment.consultation.report_published:
        raise Conflict(_("采纳情况报告已发布，不能再恢复公开。"), code="report_published")
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        message = _("说明不能超过 %(n)d 字。", n=NOTE_MAX)
        raise ValidationFailed(message, code="too_long", fields={"note": message})
    previous = comment.hidden_reason
    comment.status = _status_before_hiding(comment)
    comment.hidden_reason = None
    comment.hidden_note = None
    audit.record(actor, "unhide_comment", comment, unit_id=comment.consultation.unit_id,
                 reason=note,
                 detail={"hidden_reason": previous.value if previous else None,
                         "to": comment.status.value})
    return comment


def awaiting_moderation_query(consultation_ids):
    """Comments awaiting moderation, oldest first; `consultation_ids` is a list or a SELECT."""
    return (
        db.select(Comment)
        .where(Comment.consultation_id.in_(consultation_ids), Comment.status.in_(AWAITING))
        .order_by(Comment.created_at, Comment.id)
    )


def awaiting_count(consultation_ids) -> int:
    """Comments awaiting moderation on the given consultations (a list or a SELECT of ids)."""
    return db.session.scalar(
        db.select(db.func.count(Comment.id)).where(
            Comment.consultation_id.in_(consultation_ids), Comment.status.in_(AWAITING))
    )


def status_counts(consultation_ids) -> dict[int, dict[str, int]]:
    """{consultation id: {status: count}} in one query; `consultation_ids` is a list or a SELECT."""
    rows = db.session.execute(
        db.select(Comment.consultation_id, Comment.status, db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(consultation_ids))
        .group_by(Comment.consultation_id, Comment.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for consultation_id, status, n in rows:
        counts.setdefault(consultation_id, {})[CommentStatus(status).value] = n
    return counts


def _reason(code) -> HiddenReason:
    try:
        return HiddenReason((code or "").strip() if isinstance(code, str) else code)
    except ValueError:
        message = _("请选择不予公开的原因。")
        raise ValidationFailed(message, code="reason_required",
                               fields={"reason": message}) from None


def _status_before_hiding(comment: Comment) -> CommentStatus:
    """Unhiding publishes the comment, except one hidden before its author verified it."""
    event = next((e for e in reversed(audit.events_for(comment))
                  if e.action == "hide_comment"), None)
    before = (event.detail or {}).get("from") if event else None
    if before == CommentStatus.UNVERIFIED.value:
        return CommentStatus.UNVERIFIED
    return CommentStatus.PUBLISHED


def _queue_hidden_mail(comment: Comment) -> None:
    mail.queue_mail("comment_hidden", comment.email, language=comment.language, comment=comment,
                    note=mask(comment.hidden_note) if comment.hidden_note else None,
                    link=external_url("comments.receipt", tracking_no=comment.tracking_no))
