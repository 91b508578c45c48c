"""Staff set how a consultation receives comments: pre/post-moderation and verification."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired, ValidationError

from consult.auth.views import staff_required
from consult.comments.policy import can_moderate
from consult.consultations.models import Consultation, Moderation, Verification
from consult.consultations.settings import (
    MODERATION_LABELS,
    VERIFICATION_LABELS,
    change_settings,
    settings_editable,
    verification_editable,
)
from consult.consultations.views import bp
from consult.extensions import db


class CommentSettingsForm(FlaskForm):
    """Shown on the consultation's staff page under its one csrf_token."""

    class Meta:
        csrf = False

    moderation = SelectField(
        _l("意见审核方式"), validate_choice=False,
        choices=[(m.value, text) for m, text in MODERATION_LABELS.items()],
        validators=[InputRequired(_l("请选择意见审核方式。"))],
    )
    verification = SelectField(
        _l("提出意见的验证方式"), validate_choice=False,
        choices=[(v.value, text) for v, text in VERIFICATION_LABELS.items()],
        description=_l("征求意见开始后不能更改。"),
    )

    def validate_moderation(self, field):
        if field.data not in {m.value for m in Moderation}:
            raise ValidationError(_("请选择意见审核方式。"))

    def validate_verification(self, field):
        if field.data not in {v.value for v in Verification}:
            raise ValidationError(_("请选择验证方式。"))


def can_change_settings(user, consultation: Consultation) -> bool:
    """The unit's moderators, while the settings still matter."""
    return can_moderate(user, consultation) and settings_editable(consultation)


@bp.app_context_processor
def _settings_helpers():
    def comment_settings(consultation: Consultation, form=None) -> dict:
        return {
            "can": can_change_settings(current_user, consultation),
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
def manage_settings(consultation_id: int):
    """Switch pre/post-moderation (and, before the window opens, the verification)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    if not can_moderate(current_user, consultation):
        abort(403)
    form = CommentSettingsForm()
    if not form.verification.raw_data:  # the page offers no choice once the window has opened
        form.verification.data = consultation.verification.value
    if not form.validate():
        from consult.consultations.views.manage import render_detail

        return render_detail(consultation, message=_("意见设置有误，请检查后重试。"), status=422)
    changed = change_settings(
        consultation, moderation=Moderation(form.moderation.data),
        verification=Verification(form.verification.data), actor=current_user,
    )
    db.session.commit()
    flash(_("意见设置已保存。") if changed else _("意见设置没有变化。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id,
                            _anchor="comment-settings"))
