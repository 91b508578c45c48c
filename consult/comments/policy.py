"""Who may moderate comments and record comments from other channels (role × unit)."""

from __future__ import annotations

from consult.comments.models import Comment
from consult.consultations.models import Consultation
from consult.extensions import db
from consult.permissions import Perm, has_permission, unit_ids_with


def _consultation(obj: Comment | Consultation) -> Consultation:
    return obj.consultation if isinstance(obj, Comment) else obj


def can_moderate(user, obj: Comment | Consultation) -> bool:
    """Approve, hide or unhide comments, and set pre/post-moderation: the unit's editors."""
    return has_permission(user, Perm.MODERATE, _consultation(obj).unit)


def can_record(user, consultation: Consultation) -> bool:
    """Record letters, e-mails and what was said at hearings and symposiums."""
    return has_permission(user, Perm.RECORD_COMMENT, consultation.unit)


def moderated_consultations_query(user):
    """Consultations whose comments the user may moderate (for the unit's moderation queue)."""
    ids = unit_ids_with(user, Perm.MODERATE)
    return db.select(Consultation).where(Consultation.unit_id.in_(ids or {-1}))
