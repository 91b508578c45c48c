"""How a consultation receives comments: pre- or post-moderation (F9) and verification (F8)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit
from consult.auth.models import User
from consult.consultations.models import Consultation, Moderation, State, Verification
from consult.errors import Conflict

MODERATION_LABELS = {
    Moderation.POST: _l("先发后审（意见提交后即公开）"),
    Moderation.PRE: _l("先审后发（审核通过后公开）"),
}
VERIFICATION_LABELS = {
    Verification.NONE: _l("无需验证"),
    Verification.EMAIL: _l("验证电子邮箱"),
    Verification.ACCOUNT: _l("须登录公众账号"),
}
# Verification decides who may comment at all: it is fixed once the window opens.
VERIFICATION_EDITABLE = (State.DRAFT, State.PENDING_APPROVAL, State.SCHEDULED)


def settings_editable(consultation: Consultation) -> bool:
    """Settings matter until the report is out; a withdrawn consultation takes no comments."""
    return consultation.status != State.WITHDRAWN and not consultation.report_published


def verification_editable(consultation: Consultation) -> bool:
    return consultation.status in VERIFICATION_EDITABLE


def change_settings(consultation: Consultation, *, moderation: Moderation,
                    verification: Verification, actor: User) -> bool:
    """Set moderation and verification; returns whether anything changed.

    Switching to post-moderation does not publish comments already awaiting moderation: each
    still needs a decision. Verification can only change before the window opens.
    """
    moderation, verification = Moderation(moderation), Verification(verification)
    if not settings_editable(consultation):
        raise Conflict(_("该意见征集已撤回或已发布采纳情况报告，不能再更改意见设置。"),
                       code="settings_locked")
    if verification != consultation.verification and not verification_editable(consultation):
        raise Conflict(_("征求意见开始后不能更改验证方式。"), code="verification_locked")
    changed = {}
    if moderation != consultation.moderation:
        changed["moderation"] = moderation.value
        consultation.moderation = moderation
    if verification != consultation.verification:
        changed["verification"] = verification.value
        consultation.verification = verification
    if changed:
        audit.record(actor, "change_settings", consultation, detail=changed)
    return bool(changed)
