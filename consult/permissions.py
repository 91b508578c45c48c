"""Who may do what, and where: the one table of roles (SPEC §2).

A role held in a unit also holds in every unit below it. Domain `policy.py` modules combine
these permissions with an object's state; views and templates ask those `can_*` functions.
Core: it reads users, memberships and units by their attributes and imports no domain.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from consult import labels
from consult.errors import ConsultError, NotAllowed

if TYPE_CHECKING:  # the types only: this core module imports no domain at run time
    from consult.auth.models import Membership, Unit, User


class Role(enum.StrEnum):
    """The roles of SPEC §2, held by a staff user in a unit (`consult.auth.models.Membership`)."""

    EDITOR = "editor"
    APPROVER = "approver"
    LEGAL_REVIEWER = "legal_reviewer"
    ADMIN = "admin"


ROLE_LABELS = labels.define("role", {
    Role.EDITOR: _l("编辑"),
    Role.APPROVER: _l("审核人"),
    Role.LEGAL_REVIEWER: _l("合法性审核人"),
    Role.ADMIN: _l("平台管理员"),
})


class Perm(enum.StrEnum):
    EDIT_DRAFT = "edit_draft"  # create/edit drafts, import text
    MODERATE = "moderate"
    ANSWER = "answer"  # answer comments, draft the report
    RECORD_COMMENT = "record_comment"  # letters, hearings
    DRAFT_POLICY = "draft_policy"  # policy and interpretation drafts
    APPROVE = "approve"  # approve or return a draft
    PUBLISH_REPORT = "publish_report"
    PUBLISH_POLICY = "publish_policy"
    EXTEND = "extend"
    WITHDRAW = "withdraw"
    LEGAL_REVIEW = "legal_review"
    VIEW_STAFF = "view_staff"  # see the unit's workspace and non-public data
    ADMINISTER = "administer"  # units, users, roles, tokens, settings, audit log


_EDITOR = {
    Perm.VIEW_STAFF,
    Perm.EDIT_DRAFT,
    Perm.MODERATE,
    Perm.ANSWER,
    Perm.RECORD_COMMENT,
    Perm.DRAFT_POLICY,
}
_APPROVER = _EDITOR | {
    Perm.APPROVE,
    Perm.PUBLISH_REPORT,
    Perm.PUBLISH_POLICY,
    Perm.EXTEND,
    Perm.WITHDRAW,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.EDITOR: frozenset(_EDITOR),
    Role.APPROVER: frozenset(_APPROVER),
    # The legal office signs off any unit's rules and major decisions.
    Role.LEGAL_REVIEWER: frozenset({Perm.VIEW_STAFF, Perm.LEGAL_REVIEW}),
    Role.ADMIN: frozenset({Perm.ADMINISTER}),
}

# Permissions a legal reviewer holds for every unit, not only their own subtree.
GLOBAL_PERMISSIONS = frozenset({Perm.LEGAL_REVIEW})


def _active_staff(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def is_admin(user: User | None) -> bool:
    return _active_staff(user) and (
        user.is_admin or any(m.role == Role.ADMIN for m in user.memberships)
    )


def memberships_granting(user: User | None, perm: Perm) -> list[Membership]:
    if not _active_staff(user):
        return []
    return [m for m in user.memberships if perm in ROLE_PERMISSIONS[m.role]]


def has_permission(user: User | None, perm: Perm, unit: Unit | None = None) -> bool:
    """True when `user` holds `perm` in `unit` (directly or through a unit above it)."""
    if perm == Perm.ADMINISTER:
        return is_admin(user)
    grants = memberships_granting(user, perm)
    if not grants:
        return False
    if unit is None or perm in GLOBAL_PERMISSIONS:
        return True
    chain = {u.id for u in unit.ancestors_and_self()}
    return any(m.unit_id in chain for m in grants)


def unit_ids_with(user: User | None, perm: Perm) -> set[int]:
    """Ids of every unit in which `user` holds `perm` (for scoped list queries)."""
    ids: set[int] = set()
    for m in memberships_granting(user, perm):
        ids |= m.unit.descendant_ids()
    return ids


def is_staff(user: User | None) -> bool:
    return is_admin(user) or bool(memberships_granting(user, Perm.VIEW_STAFF))


# ------------------------------------------------------------------------------ role vs state


@dataclass(frozen=True)
class Rule:
    """A staff action on an object, as one policy decides it: whether it is allowed (`allows`:
    role × unit × state, the `can_*` the page's button also asks), whether the object's state
    allows it at all (`state_allows`), and the 409 that says why not (`conflict`), for users
    concerned with the object (`concerned`; by default anyone). The others get a 403."""

    allows: Callable[[Any, Any], bool]
    state_allows: Callable[[Any], bool]
    conflict: Callable[[Any], ConsultError]
    concerned: Callable[[Any, Any], bool] = lambda user, obj: True


def require(rule: Rule, user, obj) -> None:
    """Raise NotAllowed (403) unless `rule` allows `user` to act on `obj`; raise its conflict
    (409) instead when `user` is concerned and only the object's state stands in the way."""
    if rule.allows(user, obj):
        return
    if rule.concerned(user, obj) and not rule.state_allows(obj):
        raise rule.conflict(obj)
    raise NotAllowed()
