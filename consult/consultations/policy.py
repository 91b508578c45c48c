"""Who may do what to a consultation, given its state (role × unit × state)."""

from __future__ import annotations

from consult.consultations.models import Consultation, State
from consult.consultations.states import PUBLIC_STATES, target_state
from consult.extensions import db
from consult.permissions import Perm, has_permission, unit_ids_with


def is_public(consultation: Consultation) -> bool:
    return consultation.state in PUBLIC_STATES


def can_view_staff(user, consultation: Consultation) -> bool:
    return has_permission(user, Perm.VIEW_STAFF, consultation.unit) or (
        consultation.state != State.DRAFT and has_permission(user, Perm.LEGAL_REVIEW)
        and consultation.type in ("rule", "major_decision")
    )


def can_create(user, unit=None) -> bool:
    return has_permission(user, Perm.EDIT_DRAFT, unit)


def can_edit(user, consultation: Consultation) -> bool:
    return consultation.state == State.DRAFT and has_permission(
        user, Perm.EDIT_DRAFT, consultation.unit
    )


def _can_do(user, consultation: Consultation, action: str, perm: Perm) -> bool:
    return target_state(action, consultation.status) is not None and has_permission(
        user, perm, consultation.unit
    )


def can_submit(user, consultation: Consultation) -> bool:
    return _can_do(user, consultation, "submit", Perm.EDIT_DRAFT)


def can_approve(user, consultation: Consultation) -> bool:
    """Approvers of the unit, except the one who submitted it."""
    return (
        _can_do(user, consultation, "approve", Perm.APPROVE)
        and consultation.submitted_by_id != user.id
    )


def can_return(user, consultation: Consultation) -> bool:
    return _can_do(user, consultation, "return", Perm.APPROVE)


def can_withdraw(user, consultation: Consultation) -> bool:
    return _can_do(user, consultation, "withdraw", Perm.WITHDRAW)


def staff_query(user):
    """Consultations the user may see in the staff workspace, newest first."""
    ids = unit_ids_with(user, Perm.VIEW_STAFF)
    query = db.select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())
    return query.where(Consultation.unit_id.in_(ids or {-1}))
