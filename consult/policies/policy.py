"""Who may draft and publish final policies and interpretations (role × unit).

Whether the object's state allows the step (a published policy is fixed) is the service's check,
which answers 409; these say whether the user may act in the unit at all (403 otherwise).
"""

from __future__ import annotations

from flask_babel import gettext as _

from consult.auth.models import Unit
from consult.errors import Conflict
from consult.extensions import db
from consult.permissions import Perm, Rule, has_permission, require, unit_ids_with


def is_public(policy) -> bool:
    return policy.published_at is not None


def is_public_interpretation(interpretation) -> bool:
    """Published, with its policy (an interpretation never goes out before the policy)."""
    return interpretation.published_at is not None and is_public(interpretation.policy)


def can_view_policy(user, policy) -> bool:
    """The unit's staff; the legal office too, for a policy that awaits its review."""
    return has_permission(user, Perm.VIEW_STAFF, policy.unit) or (
        policy.affects_market and can_review_competition(user, policy))


def can_review_competition(user, policy) -> bool:
    """The legal office's reviewers sign off the fair-competition review of any unit."""
    return has_permission(user, Perm.LEGAL_REVIEW, policy.unit)


def can_record_change(user, policy) -> bool:
    """Approvers of the unit record what later documents did to its published policies."""
    return policy.published_at is not None and has_permission(user, Perm.PUBLISH_POLICY,
                                                              policy.unit)


def can_record_filing(user, policy) -> bool:
    return policy.published_at is not None and can_draft_policy(user, policy)


def drafting_units(user) -> list[Unit]:
    """The units in which `user` may add policies (older ones, without a consultation)."""
    ids = unit_ids_with(user, Perm.DRAFT_POLICY)
    if not ids:
        return []
    return db.session.scalars(db.select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)).all()


def can_draft_policy(user, obj) -> bool:
    """Editors and approvers of the unit of `obj` (a consultation or a policy)."""
    return has_permission(user, Perm.DRAFT_POLICY, obj.unit)


def can_publish_policy(user, policy) -> bool:
    """Approvers of the unit publish the policy and its interpretations."""
    return has_permission(user, Perm.PUBLISH_POLICY, policy.unit)


EDIT = Rule(
    allows=lambda user, policy: policy.published_at is None and can_draft_policy(user, policy),
    state_allows=lambda policy: policy.published_at is None,
    conflict=lambda policy: Conflict(_("已发布的正式文件不能修改。"), code="policy_published"),
    concerned=can_draft_policy,
)


def require_edit(user, policy) -> None:
    """403 for those who may not draft the unit's policies; 409 once the policy is published."""
    require(EDIT, user, policy)
