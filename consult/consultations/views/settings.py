"""Staff set how a consultation receives comments: pre/post-moderation and verification."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.consultations import policy
from consult.consultations.forms import CommentSettingsForm
from consult.consultations.models import Consultation, Moderation, Verification
from consult.consultations.settings import (
    MODERATION_LABELS,
    VERIFICATION_LABELS,
    change_settings,
    verification_editable,
)
from consult.consultations.views import bp
from consult.consultations.views.manage import render_detail
from consult.web import commits, load_or_403, staff_required


@bp.app_context_processor
def _settings_helpers():
    def comment_settings(consultation: Consultation, form=None) -> dict:
        return {
            "can": policy.can_change_settings(current_user, consultation),
            "verification_editable": verification_editable(consultation),
            "form": form or CommentSettingsForm(formdata=None, data={
                "moderation": consultation.moderation.value,
                "verification": consultation.verification.value,
            }),
            "moderation_label": MODERATION_LABELS[consultation.moderation],
            "verification_label": VERIFICATION_LABELS[consultation.verification],
        }

    return {"comment_settings": comment_settings}


@bp.post("/staff/consultations/<int:consultation_id>/settings")
@staff_required
@commits
def manage_settings(consultation_id: int):
    """Switch pre/post-moderation (and, before the window opens, the verification)."""
    consultation = load_or_403(Consultation, consultation_id, policy.can_moderate_comments)
    form = CommentSettingsForm()
    if not form.verification.raw_data:  # the page offers no choice once the window has opened
        form.verification.data = consultation.verification.value
    if not form.validate():
        return render_detail(consultation, message=_("意见设置有误，请检查后重试。"), status=422)
    changed = change_settings(
        consultation, moderation=Moderation(form.moderation.data),
        verification=Verification(form.verification.data), actor=current_user,
    )
    flash(_("意见设置已保存。") if changed else _("意见设置没有变化。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id,
                            _anchor="comment-settings"))
