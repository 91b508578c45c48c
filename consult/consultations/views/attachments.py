"""A consultation's attachments (F2): staff upload and remove them; the public downloads them.

Downloads go through `uploads.send` (a download, never rendered inline, with nosniff and an
escaped name). Staff copies of unpublished files are never cached by a shared proxy.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import uploads
from consult.consultations import attachments, policy
from consult.consultations.models import Consultation, State
from consult.consultations.upload_forms import AttachmentForm
from consult.consultations.views import bp
from consult.consultations.views.manage import load_for_staff
from consult.errors import ValidationFailed
from consult.uploads import TooLarge
from consult.web import commits, form_errors, public_or_404, staff_required


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """A file's size for people: 980 B, 12.5 KB, 3.2 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@bp.app_template_filter("attachment_kind")
def attachment_kind(kind: str) -> str:
    return attachments.KIND_LABELS.get(kind, kind.upper())


@bp.app_context_processor
def _attachment_helpers():
    def consultation_files(consultation: Consultation, form=None) -> dict:
        """What a staff page shows of the consultation's files, and which buttons."""
        return {
            "files": attachments.files_of(consultation),
            "can_add": policy.can_add_attachment(current_user, consultation),
            "can_remove": policy.can_remove_attachment(current_user, consultation),
            "supplement": consultation.state != State.DRAFT,
            "form": form or AttachmentForm(formdata=None),
        }

    def public_files(consultation: Consultation) -> list:
        return attachments.files_of(consultation, public_only=True)

    return {"consultation_files": consultation_files, "public_files": public_files}


def _render(consultation: Consultation, form=None, *, message=None, status=200):
    return render_template("consultations/staff/attachments.html", c=consultation, form=form,
                           message=message), status


@bp.route("/staff/consultations/<int:consultation_id>/attachments", methods=["GET", "POST"])
@staff_required
@commits
def manage_attachments(consultation_id: int):
    """The consultation's files; POST adds one (a draft's, or 补充材料 while it is open)."""
    consultation = load_for_staff(consultation_id)
    if request.method == "GET":
        return _render(consultation)
    policy.require(current_user, consultation, "add_attachment")
    form = AttachmentForm()
    if not form.validate():
        return _render(consultation, form, status=422)
    with form_errors(form, catch=(ValidationFailed, TooLarge), field="file") as failed:
        attachment = attachments.add_attachment(
            consultation, form.file.data, title=form.title.data, actor=current_user)
    if failed:
        return _render(consultation, form, message=failed.message, status=failed.status)
    if attachment.supplement:
        flash(_("补充材料已上传并已公开。"), "success")
    else:
        flash(_("附件已上传，将随征求意见稿一并公布。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id,
                            _anchor="attachments"))


@bp.get("/staff/consultations/<int:consultation_id>/attachments/<int:attachment_id>")
@staff_required
def manage_attachment(consultation_id: int, attachment_id: int):
    """Any of the consultation's files, also a draft's, for the unit's staff."""
    consultation = load_for_staff(consultation_id)
    response = uploads.send(attachments.find(consultation, attachment_id))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/staff/consultations/<int:consultation_id>/attachments/<int:attachment_id>/delete")
@staff_required
@commits
def manage_remove_attachment(consultation_id: int, attachment_id: int):
    """Remove a draft's file; published files stay."""
    consultation = load_for_staff(consultation_id)
    attachment = attachments.find(consultation, attachment_id)
    policy.require(current_user, consultation, "remove_attachment")
    attachments.remove_attachment(consultation, attachment, actor=current_user)
    flash(_("附件已删除。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id,
                            _anchor="attachments"))


@bp.get("/consultations/<int:consultation_id>/attachments/<int:attachment_id>")
def attachment(consultation_id: int, attachment_id: int):
    """A published consultation's public file, as a download."""
    consultation = public_or_404(Consultation, consultation_id, policy.is_public)
    file = attachments.find(consultation, attachment_id)
    if not file.public:
        abort(404)
    return uploads.send(file)
