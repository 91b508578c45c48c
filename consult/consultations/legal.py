"""The legality review (合法性审核, F5) of rules and major decisions.

A legal reviewer (the legal office's `legal_reviewer`, who may review any unit's consultations)
signs off a rule or a major decision once its comment window has closed, or returns it with an
opinion. The final policy of such a consultation can be linked only after a sign-off
(`require_sign_off`, called by `consult.policies.services`). Each review is audited; the review
does not change the consultation's state (see `consult.consultations.states`).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select

from consult import audit, clock
from consult.auth.models import User
from consult.consultations.models import (
    Consultation,
    ConsultationType,
    LegalDecision,
    LegalReview,
    State,
)
from consult.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from consult.extensions import db

REQUIRED_TYPES = (ConsultationType.RULE, ConsultationType.MAJOR_DECISION)
# When the review can be made: the comments are in (before or after the report).
REVIEWABLE = (State.CLOSED, State.REPORT_PUBLISHED)
OPINION_MAX = 5_000


def requires_review(consultation: Consultation) -> bool:
    return consultation.type in REQUIRED_TYPES


def latest(consultation: Consultation) -> LegalReview | None:
    reviews = consultation.legal_reviews
    return reviews[-1] if reviews else None


def is_signed_off(consultation: Consultation) -> bool:
    review = latest(consultation)
    return review is not None and review.decision == LegalDecision.APPROVED


def review_state(consultation: Consultation) -> str:
    """not_required, approved, returned, or pending (nobody has reviewed it yet)."""
    if not requires_review(consultation):
        return "not_required"
    review = latest(consultation)
    return review.decision.value if review is not None else "pending"


def require_sign_off(consultation: Consultation) -> None:
    """Refuse (409 legal_review_required) to link a policy before the legal sign-off."""
    if requires_review(consultation) and not is_signed_off(consultation):
        raise Conflict(
            _("政府规章和重大行政决策须经合法性审核通过后，才能关联正式文件。"),
            code="legal_review_required",
        )


def review(consultation: Consultation, decision: LegalDecision, opinion: str | None, *,
           actor: User) -> LegalReview:
    """Sign off (approved) or return (returned, with an opinion) the consultation."""
    if not requires_review(consultation):
        raise Conflict(_("只有政府规章和重大行政决策须经合法性审核。"),
                       code="legal_review_not_required")
    if consultation.status not in REVIEWABLE:
        raise InvalidTransition(_("征求意见截止后才能进行合法性审核。"), code="invalid_transition")
    if is_signed_off(consultation):
        raise Conflict(_("该意见征集已通过合法性审核。"), code="legal_review_done")
    if actor.id in (consultation.created_by_id, consultation.submitted_by_id):
        raise NotAllowed(_("起草人和提交人不能审核自己的草稿。"), code="own_submission")
    decision = LegalDecision(decision)
    opinion = (opinion or "").strip() or None
    if decision == LegalDecision.RETURNED and not opinion:
        message = _("退回须填写审核意见。")
        raise ValidationFailed(message, fields={"opinion": message})
    if opinion and len(opinion) > OPINION_MAX:
        message = _("审核意见不能超过 %(n)d 字。", n=OPINION_MAX)
        raise ValidationFailed(message, fields={"opinion": message})
    entry = LegalReview(consultation=consultation, reviewer_id=actor.id, decision=decision,
                        opinion=opinion, at=clock.now())
    db.session.add(entry)
    action = "legal_sign_off" if decision == LegalDecision.APPROVED else "legal_return"
    audit.record(actor, action, consultation, reason=opinion,
                 detail={"decision": decision.value})
    return entry


def _approved():
    return exists(select(LegalReview.id).where(
        LegalReview.consultation_id == Consultation.id,
        LegalReview.decision == LegalDecision.APPROVED,
    ))


def pending_clause(now):
    """Rules and major decisions whose window has closed, with no legal sign-off yet."""
    C = Consultation
    return and_(
        C.type.in_(REQUIRED_TYPES),
        or_(and_(C.state == State.SCHEDULED, C.closes_at < now), C.state == State.REPORT_PUBLISHED),
        ~_approved(),
    )


def pending_query(unit_ids: set[int] | None = None):
    """The legal queue, oldest closing first; `unit_ids` limits it to those units' items."""
    query = db.select(Consultation).where(pending_clause(clock.now()))
    if unit_ids is not None:
        query = query.where(Consultation.unit_id.in_(unit_ids or {-1}))
    return query.order_by(Consultation.closes_at, Consultation.id)


def pending_count(unit_ids: set[int] | None = None) -> int:
    return db.session.scalar(
        db.select(db.func.count()).select_from(pending_query(unit_ids).order_by(None).subquery())
    )
