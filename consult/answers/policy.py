"""Who may answer comments and publish the adoption report (role × unit × state)."""

from __future__ import annotations

from consult.consultations.models import Consultation, State
from consult.permissions import Perm, has_permission


def can_view_comments(user, consultation: Consultation) -> bool:
    """The unit's staff see every comment with its original text and contact data."""
    return has_permission(user, Perm.VIEW_STAFF, consultation.unit)


def can_answer(user, consultation: Consultation) -> bool:
    return has_permission(user, Perm.ANSWER, consultation.unit)


def can_publish_report(user, consultation: Consultation) -> bool:
    """Approvers of the unit, once the window has closed, for the first revision."""
    from consult.answers.services import published_report

    return (
        has_permission(user, Perm.PUBLISH_REPORT, consultation.unit)
        and consultation.status in (State.CLOSED, State.POLICY_ISSUED)
        and published_report(consultation) is None
    )
