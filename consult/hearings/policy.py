"""Who may manage hearings and symposiums, and which ones the public sees."""

from __future__ import annotations

from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.hearings.models import Hearing
from consult.permissions import Perm, has_permission


def can_manage_hearings(user, consultation: Consultation) -> bool:
    """Create and edit hearings, their participants, record and files: the unit's editors."""
    return has_permission(user, Perm.RECORD_COMMENT, consultation.unit)


def is_public_hearing(hearing: Hearing) -> bool:
    """A hearing is public once its notice is published on a public consultation."""
    return hearing.published_at is not None and is_public(hearing.consultation)
