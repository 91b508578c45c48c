"""Moderation (F9): approve a comment awaiting moderation, hide one with a reason, or unhide it.

Nothing is ever deleted: a hidden comment keeps its text (staff see it), is counted in the
report's totals by reason, and its author is told why by mail. Identical texts are grouped by
the answers domain, never hidden as duplicates, so there is no "duplicate" reason.
"""

from __future__ import annotations

from flask_babel import gettext as _

from consult import audit, mail
from consult.answers.services import publish_revision, published_report
from consult.comments.masking import mask
from consult.comments.models import Comment, CommentStatus, HiddenReason
from consult.comments.privacy import HIDDEN_AFTER_REPORT_NOTE
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.labels import label
from consult.urls import external_url

NOTE_MAX = 2_000
AWAITING = (CommentStatus.PENDING_MODERATION, CommentStatus.SUBMITTED)


def approve_comment(comment: Comment, *, actor) -> Comment:
    """A comment awaiting moderation goes public (and then needs an answer)."""
    if comment.status not in AWAITING:
        raise InvalidTransition(_("只有待审核的意见可以审核通过。"), code="not_pending")
    before = comment.status
    comment.status = CommentStatus.PUBLISHED
    audit.record(actor, "approve_comment", comment, unit_id=comment.consultation.unit_id,
                 detail={"from": before.value})
    return comment


def hide_comment(comment: Comment, reason_code: HiddenReason | str | None, note: str | None, *,
                 actor) -> Comment:
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
    if published_report(comment.consultation) is not None:
        publish_revision(comment.consultation, note=HIDDEN_AFTER_REPORT_NOTE, actor=actor)
    if comment.email:
        _queue_hidden_mail(comment)
    return comment


def unhide_comment(comment: Comment, *, actor, note: str | None = None) -> Comment:
    """Publish a hidden comment after all, as long as the report is not out."""
    if comment.status != CommentStatus.HIDDEN:
        raise InvalidTransition(_("该意见没有被设为不予公开。"), code="not_hidden")
    if published_report(comment.consultation) is not None:
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
    link = external_url("comments.receipt", tracking_no=comment.tracking_no)
    note = _("说明：%(note)s\n", note=mask(comment.hidden_note)) if comment.hidden_note else ""
    body = _(
        "您好：\n\n您对《%(title)s》提出的意见（意见编号：%(no)s）经审核不予公开。\n"
        "原因：%(reason)s\n%(note)s\n"
        "该意见没有被删除，仍计入意见采纳情况的统计。您可以凭意见编号查看回执：\n%(link)s\n\n"
        "此邮件由系统自动发送，请勿回复。",
        title=comment.consultation.title, no=comment.tracking_no,
        reason=label(comment.hidden_reason, "hidden_reason"), note=note, link=link,
    )
    mail.queue("comment_hidden", comment.email,
               _("您的意见不予公开：%(no)s", no=comment.tracking_no), body)
