"""Answering many comments at once (F12): one answer for a selection, a group or a sheet row.

Every answered comment gets its own Disposition and its own audit row (who, when, which
answer, and whether it came from a group, a selection or a sheet), exactly as if it had been
answered alone; the rows are written in one flush, so 3 000 answers take one round of INSERTs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import gettext as _

from consult import audit, clock
from consult.answers.models import (
    CommentGroup,
    Disposition,
    DispositionCode,
    GroupStatus,
    ReasonTemplate,
)
from consult.audit import AuditEvent
from consult.auth.models import User
from consult.comments.models import Comment
from consult.consultations.models import Consultation
from consult.errors import Conflict, NotFound, ValidationFailed
from consult.extensions import db

CHUNK = 500  # ids per IN (...) query
REASON_MAX = 5_000  # characters of an answer's reason


def check_reason(code: DispositionCode, reason: str | None) -> str | None:
    """The reason, stripped; every answer but "adopted" needs one (SPEC §6)."""
    reason = (reason or "").strip() or None
    if code != DispositionCode.ADOPTED and not reason:
        message = _("除“采纳”外，答复须说明理由。")
        raise ValidationFailed(message, code="reason_required", fields={"reason": message})
    return reason


def check_editable(consultation: Consultation) -> None:
    """Answers and groups change until the report is published, never after."""
    if consultation.report_published:
        raise Conflict(_("采纳情况报告已发布，答复不能再修改。"), code="report_published")


def load_comments(consultation: Consultation, ids: Iterable[int]) -> list[Comment]:
    """The consultation's comments with these ids, answers loaded, in id order; an id that is
    not one of its comments is a 404."""
    wanted = sorted({int(i) for i in ids})
    found: list[Comment] = []
    for start in range(0, len(wanted), CHUNK):
        found.extend(db.session.scalars(
            db.select(Comment)
            .where(Comment.consultation_id == consultation.id,
                   Comment.id.in_(wanted[start:start + CHUNK]))
            .options(db.selectinload(Comment.disposition))
            .order_by(Comment.id)
        ))
    if len(found) != len(wanted):
        raise NotFound()
    return found


def in_confirmed_group(comment: Comment) -> bool:
    """Whether the comment is answered through its group (its FK is read afresh: bulk updates
    of group_id do not refresh an already loaded `comment.group`)."""
    if comment.group_id is None:
        return False
    group = db.session.get(CommentGroup, comment.group_id)
    return group is not None and group.status == GroupStatus.CONFIRMED


def write_answers(comments: Sequence[Comment], code: DispositionCode, reason: str | None, *,
                  actor: User, detail: dict) -> int:
    """Give each comment this answer (checked by the caller); return how many changed."""
    return write_answer_list([(c, code, reason) for c in comments], actor=actor, detail=detail)


def write_answer_list(answers: Sequence[tuple[Comment, DispositionCode, str | None]], *,
                      actor: User, detail: dict) -> int:
    """Give each comment its answer (checked by the caller), with one audit row each, in one
    flush; return how many changed (an answer that is already so writes nothing)."""
    now = clock.now()
    events = []
    for comment, code, reason in answers:
        disposition = comment.disposition
        if disposition is not None and disposition.code == code and disposition.reason == reason:
            continue
        action = "answer" if disposition is None else "revise_answer"
        if disposition is None:
            disposition = Disposition(comment=comment)
            db.session.add(disposition)
        disposition.code = code
        disposition.reason = reason
        disposition.answered_by = actor
        disposition.answered_at = now
        events.append(AuditEvent(
            at=now, actor_id=getattr(actor, "id", None), action=action,
            object_type=Comment.__tablename__, object_id=comment.id,
            unit_id=comment.consultation.unit_id, reason=reason,
            detail={"disposition": code.value, **detail},
        ))
    db.session.add_all(events)
    db.session.flush()
    return len(events)


def answer_many(consultation: Consultation, comments: Sequence[Comment], code: DispositionCode,
                reason: str | None, *, actor: User) -> int:
    """One answer for a selection of comments (all or nothing); return how many changed.

    Every comment must need an answer and must not belong to a confirmed group (a group is
    answered as a whole, so that its members never disagree).
    """
    reason = check_reason(code, reason)
    check_editable(consultation)
    if not comments:
        message = _("请至少选择一条意见。")
        raise ValidationFailed(message, code="nothing_selected", fields={"comment_ids": message})
    if any(c.consultation_id != consultation.id for c in comments):
        raise NotFound()
    not_answerable = [c.tracking_no for c in comments if not c.needs_answer]
    if not_answerable:
        raise Conflict(_("以下意见未公开（未验证、待审核或不予公开），无需答复：%(nos)s",
                         nos="、".join(not_answerable)), code="not_answerable")
    in_groups = [c.tracking_no for c in comments if in_confirmed_group(c)]
    if in_groups:
        raise Conflict(_("以下意见属于已确认的相同意见组，请答复整组：%(nos)s",
                         nos="、".join(in_groups)), code="answer_the_group")
    return write_answers(comments, code, reason, actor=actor, detail={"bulk": True})


# --- reason templates ------------------------------------------------------------------------


def reason_templates(consultation: Consultation) -> list[ReasonTemplate]:
    return db.session.scalars(
        db.select(ReasonTemplate)
        .where(ReasonTemplate.consultation_id == consultation.id)
        .order_by(ReasonTemplate.title, ReasonTemplate.id)
    ).all()


def add_reason_template(consultation: Consultation, *, title: str, code: DispositionCode,
                        text: str, actor: User) -> ReasonTemplate:
    """Keep a reason the unit gives often, to fill answers with (F12)."""
    title, text = (title or "").strip(), (text or "").strip()
    fields = {}
    if not title:
        fields["title"] = _("请填写模板名称。")
    if not text:
        fields["text"] = _("请填写理由。")
    if fields:
        raise ValidationFailed(next(iter(fields.values())), code="template_incomplete",
                               fields=fields)
    template = ReasonTemplate(consultation=consultation, title=title, code=code, text=text,
                              created_by_id=getattr(actor, "id", None), created_at=clock.now())
    db.session.add(template)
    audit.record(actor, "add_reason_template", template, unit_id=consultation.unit_id,
                 detail={"title": title, "disposition": code.value})
    return template


def delete_reason_template(template: ReasonTemplate, *, actor: User) -> None:
    """Answers already given keep their text: a template is only copied into them."""
    audit.record(actor, "delete_reason_template", template,
                 unit_id=template.consultation.unit_id, detail={"title": template.title})
    db.session.delete(template)
    db.session.flush()


def template_for(consultation: Consultation, template_id) -> ReasonTemplate | None:
    """The consultation's template with this id (None for none; 404 for another one's)."""
    if template_id in (None, "", "0", 0):
        return None
    try:
        template = db.session.get(ReasonTemplate, int(template_id))
    except (TypeError, ValueError):
        raise NotFound() from None
    if template is None or template.consultation_id != consultation.id:
        raise NotFound()
    return template


def fill_from_template(template: ReasonTemplate | None, code: str | None,
                       reason: str | None) -> tuple[str | None, str | None]:
    """A chosen template fills what the form left empty: the disposition and the reason. What
    staff typed always wins, so a template never overwrites an edited reason."""
    if template is None:
        return code, reason
    return (code or template.code.value), ((reason or "").strip() or template.text)
