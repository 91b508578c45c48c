"""Who may draft and publish final policies and interpretations (role × unit).

Whether the object's state allows the step (a published policy is fixed) is the service's check,
which answers 409; these say whether the user may act in the unit at all (403 otherwise).
"""

from __future__ import annotations

from consult.permissions import Perm, has_permission


def can_view_policy(user, policy) -> bool:
    return has_permission(user, Perm.VIEW_STAFF, policy.unit)


def can_draft_policy(user, obj) -> bool:
    """Editors and approvers of the unit of `obj` (a consultation or a policy)."""
    return has_permission(user, Perm.DRAFT_POLICY, obj.unit)


def can_publish_policy(user, policy) -> bool:
    """Approvers of the unit publish the policy and its interpretations."""
    return has_permission(user, Perm.PUBLISH_POLICY, policy.unit)
