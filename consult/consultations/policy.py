"""Who may do what to a consultation, given its state (role × unit × state)."""

from __future__ import annotations

from consult.consultations.models import Consultation, State
from consult.consultations.states import PUBLIC_STATES, target_state
from consult.extensions import db
from consult.permissions import Perm, has_permission, unit_ids_with


def is_public(consultation: Consultation) -> bool:
    """Approved at some point (a draft withdrawn before approval never went public)."""
    if consultation.state == State.WITHDRAWN:
        return consultation.approved_at is not None
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


def can_add_attachment(user, consultation: Consultation) -> bool:
    """Editors attach files to a draft; once public, only approvers add 补充材料 (it is
    published at once), and only until the window closes."""
    if consultation.state == State.DRAFT:
        return has_permission(user, Perm.EDIT_DRAFT, consultation.unit)
    return consultation.status in (State.SCHEDULED, State.OPEN) and has_permission(
        user, Perm.APPROVE, consultation.unit
    )


def can_remove_attachment(user, consultation: Consultation) -> bool:
    """Only a draft's files can be removed; a published file stays published."""
    return can_edit(user, consultation)


def can_extend(user, consultation: Consultation) -> bool:
    """Approvers of the unit, while the window is scheduled or open."""
    return _can_do(user, consultation, "extend", Perm.EXTEND)


def can_new_version(user, consultation: Consultation) -> bool:
    """Approvers of the unit publish a revised draft (it goes public at once)."""
    return _can_do(user, consultation, "new_version", Perm.APPROVE)


def is_legal_reviewer(user) -> bool:
    return has_permission(user, Perm.LEGAL_REVIEW)


def can_legal_review(user, consultation: Consultation) -> bool:
    """Legal reviewers (of any unit's consultations) once the window has closed, until signed
    off; never the draft's author or submitter."""
    from consult.consultations import legal

    return (
        is_legal_reviewer(user)
        and legal.requires_review(consultation)
        and consultation.status in legal.REVIEWABLE
        and not legal.is_signed_off(consultation)
        and user.id not in (consultation.created_by_id, consultation.submitted_by_id)
    )


def staff_query(user):
    """Consultations the user may see in the staff workspace, newest first."""
    ids = unit_ids_with(user, Perm.VIEW_STAFF)
    query = db.select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())
    return query.where(Consultation.unit_id.in_(ids or {-1}))
