"""Who may do what to a consultation, given its state (role × unit × state).

`can_*` answer yes or no (for the page's buttons); `require(user, consultation, action)` is what
an action asks first: 403 when the user may not do it, 409 when they could and only the
consultation's state stands in the way (the page then says why).
"""

from __future__ import annotations

from flask_babel import gettext as _

from consult.auth.models import Unit, User
from consult.consultations import attachments, legal, settings
from consult.consultations.models import Consultation, State
from consult.consultations.states import PUBLIC_STATES, target_state
from consult.errors import InvalidTransition
from consult.extensions import db
from consult.labels import label
from consult.permissions import Perm, Rule, has_permission, unit_ids_with
from consult.permissions import require as require_rule


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


def can_see_legal_review(user, consultation: Consultation) -> bool:
    """A legal reviewer who may see the consultation: the review form's own checks (the
    window has closed, not yet signed off, not their own draft) are the service's."""
    return is_legal_reviewer(user) and can_view_staff(user, consultation)


def can_legal_review(user, consultation: Consultation) -> bool:
    """Legal reviewers (of any unit's consultations) once the window has closed, until signed
    off; never the draft's author or submitter."""
    return (
        is_legal_reviewer(user)
        and legal.requires_review(consultation)
        and consultation.status in legal.REVIEWABLE
        and not legal.is_signed_off(consultation)
        and user.id not in (consultation.created_by_id, consultation.submitted_by_id)
    )


def drafting_units(user: User) -> list[Unit]:
    """Units in which the user may create drafts (their units and the units below them)."""
    ids = unit_ids_with(user, Perm.EDIT_DRAFT)
    if not ids:
        return []
    return db.session.scalars(db.select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)).all()


def can_moderate_comments(user, consultation: Consultation) -> bool:
    """The unit's moderators (the comments domain's `can_moderate` asks the same permission)."""
    return has_permission(user, Perm.MODERATE, consultation.unit)


def can_change_settings(user, consultation: Consultation) -> bool:
    """How comments are received (moderation, verification): the unit's moderators, while the
    settings still matter."""
    return can_moderate_comments(user, consultation) and settings.settings_editable(consultation)


def staff_query(user):
    """Consultations the user may see in the staff workspace, newest first."""
    ids = unit_ids_with(user, Perm.VIEW_STAFF)
    query = db.select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())
    return query.where(Consultation.unit_id.in_(ids or {-1}))


def _state_refuses(consultation: Consultation) -> InvalidTransition:
    return InvalidTransition(
        _("当前状态（%(status)s）不允许此操作。", status=label(consultation.status, "state")))


def _by_state_machine(action: str, check) -> Rule:
    return Rule(allows=check,
                state_allows=lambda c: target_state(action, c.status) is not None,
                conflict=_state_refuses, concerned=can_view_staff)


RULES: dict[str, Rule] = {
    **{action: _by_state_machine(action, check) for action, check in (
        ("submit", can_submit), ("approve", can_approve), ("return", can_return),
        ("withdraw", can_withdraw), ("extend", can_extend), ("new_version", can_new_version),
    )},
    "edit": Rule(allows=can_edit, state_allows=lambda c: c.state == State.DRAFT,
                 conflict=lambda c: InvalidTransition(_("只有草稿可以修改。")),
                 concerned=can_view_staff),
    "add_attachment": Rule(
        allows=can_add_attachment, state_allows=attachments.accepts_files,
        conflict=lambda c: InvalidTransition(_("审核期间和征求意见截止后不能添加附件。"),
                                             code="attachments_closed")),
    "remove_attachment": Rule(
        allows=can_remove_attachment, state_allows=lambda c: c.state == State.DRAFT,
        conflict=lambda c: InvalidTransition(_("只有草稿的附件可以删除；已公开的附件不能删除。"),
                                             code="attachment_published")),
}


def require(user: User, consultation: Consultation, action: str) -> None:
    """403 unless `user` may do `action` (a key of RULES) now; 409 when only the state stands
    in the way."""
    require_rule(RULES[action], user, consultation)
