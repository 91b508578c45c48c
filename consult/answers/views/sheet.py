"""Staff pages for the answering sheet: download it, upload it filled, preview, apply (F12)."""

from __future__ import annotations

from urllib.parse import quote

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import uploads
from consult.answers import policy
from consult.answers.forms import SheetUploadForm
from consult.answers.models import AnswerSheetImport
from consult.answers.services import published_report
from consult.answers.sheet import answer_sheet, apply_upload, check_rows, store_upload
from consult.answers.views import bp
from consult.consultations.models import Consultation
from consult.errors import Conflict, ValidationFailed
from consult.web import commits, form_errors, load_or_403, staff_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _load(consultation_id: int, check=policy.can_view_comments) -> Consultation:
    return load_or_403(Consultation, consultation_id, check)


def _upload_for(import_id: int, check=policy.can_view_comments) -> AnswerSheetImport:
    return load_or_403(AnswerSheetImport, import_id,
                       lambda user, upload: check(user, upload.consultation))


@bp.get("/staff/consultations/<int:consultation_id>/answers.xlsx")
@staff_required
def manage_answer_sheet(consultation_id: int):
    """The answering sheet: one row per comment or confirmed group, two columns to fill."""
    consultation = _load(consultation_id)
    response = make_response(answer_sheet(consultation))
    name = _("答复表-%(id)d.xlsx", id=consultation.id)
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = (
        f"attachment; filename=answers-{consultation.id}.xlsx; "
        f"filename*=UTF-8''{quote(name)}")
    response.headers["Cache-Control"] = "private, no-store"  # original texts and no more
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _render_upload(consultation: Consultation, form, *, message=None, status=200):
    return render_template("answers/staff/answer_import.html", c=consultation, form=form,
                           message=message, report=published_report(consultation)), status


@bp.route("/staff/consultations/<int:consultation_id>/answers/import", methods=["GET", "POST"])
@staff_required
@commits
def manage_import_sheet(consultation_id: int):
    """Upload a filled answering sheet; nothing changes until its preview is confirmed."""
    consultation = _load(consultation_id, policy.can_answer)
    form = SheetUploadForm()
    if not form.is_submitted():
        return _render_upload(consultation, form)
    if not form.validate():
        return _render_upload(consultation, form, status=422)
    with form_errors(form) as failed:
        data, _kind = uploads.read_checked(form.file.data, {"xlsx"})
        upload = store_upload(consultation, data, form.file.data.filename, actor=current_user)
    if failed:
        return _render_upload(consultation, form, message=failed.message, status=422)
    return redirect(url_for(".manage_import_preview", import_id=upload.id))


def _render_preview(upload: AnswerSheetImport, *, message=None, status=200):
    consultation = upload.consultation
    checks = check_rows(consultation, upload.rows)
    counts = {key: sum(1 for c in checks if c.change == key)
              for key in ("new", "revise", "unchanged", "error")}
    order = {"error": 0, "new": 1, "revise": 2, "unchanged": 3}
    return render_template(
        "answers/staff/answer_import_preview.html",
        c=consultation, upload=upload, counts=counts, message=message,
        checks=sorted(checks, key=lambda c: (order[c.change if not c.error else "error"],
                                             c.row)),
        report=published_report(consultation),
        can_apply=policy.can_answer(current_user, consultation),
    ), status


@bp.get("/staff/answer-imports/<int:import_id>")
@staff_required
def manage_import_preview(import_id: int):
    """Every change the sheet would make, row by row, with the rows that are wrong."""
    return _render_preview(_upload_for(import_id))


@bp.post("/staff/answer-imports/<int:import_id>/apply")
@staff_required
@commits
def manage_import_apply(import_id: int):
    """Apply the whole sheet in one transaction, or nothing when any row is wrong."""
    upload = _upload_for(import_id, policy.can_answer)
    with form_errors(None, catch=(ValidationFailed, Conflict)) as failed:
        counts = apply_upload(upload, actor=current_user)
    if failed:
        return _render_preview(upload, message=failed.message, status=failed.status)
    flash(_("答复表已导入：新答复 %(new)d 行，修改 %(revise)d 行，共 %(n)d 条意见。",
            new=counts["new"], revise=counts["revise"], n=counts["comments"]), "success")
    return redirect(url_for(".manage_queue", consultation_id=upload.consultation_id))
