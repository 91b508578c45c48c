"""Import a draft from a Word or text file (F3): upload, check the split, correct, save.

Nothing is stored before the editor saves: the extracted text travels in the preview form's
textarea, where it can be corrected and split again as often as needed.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import clock
from consult.auth.models import Unit
from consult.catalogue.queries import drafting_choices
from consult.consultations import importing, policy
from consult.consultations.upload_forms import ImportForm, ImportSaveForm
from consult.consultations.views import bp
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.uploads import TooLarge
from consult.web import commits, form_errors, staff_required

# Default window for a new draft, as on the "new consultation" page: from tomorrow, 30 days.
DEFAULT_WINDOW_DAYS = 30


def _unit_or_403(unit_id: int | None) -> Unit | None:
    """The chosen unit, if the user may draft in it; None when none was chosen (a form error)."""
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None or not policy.can_create(current_user, unit):
        abort(403)
    return unit


def _render_upload(form, *, message=None, status=200):
    return render_template(
        "consultations/staff/import_form.html", form=form, message=message,
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
    ), status


def _render_preview(form, units, *, extracted=None, message=None, status=200):
    form.unit_id.choices = [(u.id, u.name) for u in units]
    form.catalogue_item_id.choices = drafting_choices(units)
    return render_template(
        "consultations/staff/import_preview.html", form=form, extracted=extracted, message=message,
        preview=importing.preview(form.text.data or ""),
    ), status


@bp.route("/staff/consultations/import", methods=["GET", "POST"])
@staff_required
@commits
def manage_import():
    """Step 1: upload a .docx or .txt draft; its split is shown for correction, not saved."""
    units = policy.drafting_units(current_user)
    if not units:
        abort(403)
    form = ImportForm()
    form.unit_id.choices = [(u.id, u.name) for u in units]
    if request.method == "GET":
        if len(units) == 1:
            form.unit_id.data = units[0].id
        return _render_upload(form)
    unit = _unit_or_403(form.unit_id.data)
    if not form.validate():
        return _render_upload(form, status=422)
    upload = form.file.data
    with form_errors(form, catch=(ValidationFailed, TooLarge), field="file") as failed:
        data = importing.read_limited(upload.stream, current_app.config["IMPORT_MAX_BYTES"])
        extracted = importing.extract(data, upload.filename)
    if failed:
        return _render_upload(form, message=failed.message, status=failed.status)
    title = importing.detect_title(extracted)
    opens_on = clock.today() + timedelta(days=1)
    save_form = ImportSaveForm(formdata=None, data={
        "unit_id": unit.id, "type": form.type.data, "title": title,
        "text": importing.body_text(extracted, title),
        "opens_on": opens_on, "closes_on": opens_on + timedelta(days=DEFAULT_WINDOW_DAYS - 1),
        "source_name": importing.clean_filename(upload.filename),
    })
    return _render_preview(save_form, units, extracted=extracted)


@bp.post("/staff/consultations/import/save")
@staff_required
@commits
def manage_import_save():
    """Step 2: split the corrected text again (action=preview), or save it as a draft."""
    units = policy.drafting_units(current_user)
    if not units:
        abort(403)
    form = ImportSaveForm()
    form.unit_id.choices = [(u.id, u.name) for u in units]
    unit = _unit_or_403(form.unit_id.data)
    if request.form.get("action") != "save":
        return _render_preview(form, units)
    if not form.validate():
        return _render_preview(form, units, status=422)
    with form_errors(form) as failed:  # a refused draft leaves nothing behind
        consultation = importing.save_import(unit, form.draft_input(), actor=current_user,
                                             filename=form.source_name.data)
    if failed:
        return _render_preview(form, units, message=failed.message, status=422)
    flash(_("已从文件导入草稿，共 %(n)d 条。请核对后提交审核。",
            n=len(consultation.current_version.articles)), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))
