"""What a citizen account may do. Citizens only ever reach their own comments and data."""

from __future__ import annotations

from consult.consultations.models import Consultation, Verification


def needs_account(consultation: Consultation) -> bool:
    """Commenting on this consultation needs a signed-in citizen account (F8, `account`)."""
    return consultation.verification == Verification.ACCOUNT


def can_comment(citizen, consultation: Consultation) -> bool:
    """Whether the comment form may be used (the window is checked by the service)."""
    return citizen is not None or not needs_account(consultation)


def owns(citizen, comment) -> bool:
    return citizen is not None and comment.citizen_id == citizen.id
