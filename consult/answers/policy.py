"""Who may answer comments and publish the adoption report (role × unit × state)."""

from __future__ import annotations

from flask_babel import gettext as _

from consult.consultations.models import Consultation, State
from consult.errors import InvalidTransition
from consult.permissions import Perm, Rule, has_permission, require


def can_view_comments(user, consultation: Consultation) -> bool:
    """The unit's staff see every comment with its original text and contact data."""
    return has_permission(user, Perm.VIEW_STAFF, consultation.unit)


def can_answer(user, consultation: Consultation) -> bool:
    return has_permission(user, Perm.ANSWER, consultation.unit)


def can_publish_report(user, consultation: Consultation) -> bool:
    """Approvers of the unit, once the window has closed, for the first revision."""
    return (
        has_permission(user, Perm.PUBLISH_REPORT, consultation.unit)
        and consultation.status in (State.CLOSED, State.POLICY_ISSUED)
        and not consultation.report_published
    )


PUBLISH_REPORT = Rule(
    allows=can_publish_report,
    state_allows=lambda c: c.status in (State.CLOSED, State.POLICY_ISSUED)
    and not c.report_published,
    conflict=lambda c: InvalidTransition(
        _("只能在征求意见截止后、报告尚未发布时发布采纳情况报告。")),
    concerned=lambda user, c: has_permission(user, Perm.PUBLISH_REPORT, c.unit),
)


def require_publish_report(user, consultation: Consultation) -> None:
    """403 for those who may not publish the unit's reports; 409 for its approvers while the
    consultation is not closed, or the report is out already."""
    require(PUBLISH_REPORT, user, consultation)
