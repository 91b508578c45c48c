"""Who may administer the platform: its admins only (the platform office, 政务公开办)."""

from __future__ import annotations

from consult.permissions import Perm, has_permission


def can_administer(user) -> bool:
    """Units, accounts, roles, settings and the audit log: platform admins, no unit's staff."""
    return has_permission(user, Perm.ADMINISTER)
