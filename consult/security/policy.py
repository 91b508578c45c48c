"""Who may see and clear login failure counters: platform admins only."""

from __future__ import annotations

from consult.permissions import Perm, has_permission


def can_manage_logins(user) -> bool:
    return has_permission(user, Perm.ADMINISTER)
