"""Hearing and symposium pages: staff manage them (notice, participants, record, files); the public
sees a published one on its consultation's page and downloads its files."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import audit, clock, uploads
from consult.auth.views import staff_required
from consult.comments.models import Category
from consult.consultations.forms import attach_errors
from consult.consultations.models import Consultation
from consult.consultations.policy import can_view_staff, is_public
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.hearings import policy, services
from consult.hearings.forms import FileForm, HearingForm, ParticipantForm, RecordTextForm
from consult.hearings.models import Hearing, HearingParticipant

bp = Blueprint("hearings", __name__)


@bp.app_context_processor
def _hearing_helpers():
    return {"public_hearings": lambda c: services.hearings_of(c, public_only=True)
            if is_public(c) else [], "hearings_now": clock.now}


def _consultation(consultation_id: int) -> Consultation:
    consultation = db.get_or_404(Consultation, consultation_id)
    if not policy.can_manage_hearings(current_user, consultation):
        abort(403)
    return consultation


def _hearing(hearing_id: int) -> Hearing:
    hearing = db.get_or_404(Hearing, hearing_id)
    if not policy.can_manage_hearings(current_user, hearing.consultation):
        abort(403)
    return hearing


def _to_detail(hearing: Hearing, anchor: str | None = None):
    return redirect(url_for(".manage_detail", hearing_id=hearing.id, _anchor=anchor))


@bp.get("/staff/consultations/<int:consultation_id>/hearings")
@staff_required
def manage_index(consultation_id: int):
    """A consultation's hearings and symposiums."""
    consultation = _consultation(consultation_id)
    return render_template("staff/hearings.html", c=consultation,
                           hearings=services.hearings_of(consultation))


def _render_form(form, consultation, hearing=None, *, message=None, status=200):
    return render_template("staff/hearing_form.html", form=form, c=consultation,
                           hearing=hearing, message=message), status


@bp.route("/staff/consultations/<int:consultation_id>/hearings/new", methods=["GET", "POST"])
@staff_required
def manage_new(consultation_id: int):
    """Plan a hearing or symposium: what, when, where, and its notice."""
    consultation = _consultation(consultation_id)
    form = HearingForm(formdata=None) if request.method == "GET" else HearingForm()
    if request.method == "GET" or not form.validate():
        return _render_form(form, consultation, status=200 if request.method == "GET" else 422)
    try:
        with db.session.begin_nested():
            hearing = services.create_hearing(consultation, form.hearing_input(),
                                              actor=current_user)
    except ValidationFailed as error:
        attach_errors(form, error)
        return _render_form(form, consultation, message=error.message, status=422)
    db.session.commit()
    flash(_("已保存。请添加参加人，并在会前发布会议公告。"), "success")
    return _to_detail(hearing)


@bp.route("/staff/hearings/<int:hearing_id>/edit", methods=["GET", "POST"])
@staff_required
def manage_edit(hearing_id: int):
    """Change a hearing's title, time, place or notice (until its record is published)."""
    hearing = _hearing(hearing_id)
    if request.method == "GET":
        form = HearingForm(formdata=None, data={
            "kind": hearing.kind.value, "title": hearing.title, "place": hearing.place,
            "held_at": HearingForm.local(hearing.held_at), "notice": hearing.notice,
        })
        return _render_form(form, hearing.consultation, hearing)
    form = HearingForm()
    if not form.validate():
        return _render_form(form, hearing.consultation, hearing, status=422)
    try:
        with db.session.begin_nested():
            services.update_hearing(hearing, form.hearing_input(), actor=current_user)
    except ValidationFailed as error:
        attach_errors(form, error)
        return _render_form(form, hearing.consultation, hearing, message=error.message,
                            status=422)
    db.session.commit()
    flash(_("已保存修改。"), "success")
    return _to_detail(hearing)


def render_detail(hearing: Hearing, *, participant_form=None, record_form=None, file_form=None,
                  message=None, status=200):
    return render_template(
        "staff/hearing_detail.html", h=hearing, c=hearing.consultation,
        participant_form=participant_form or ParticipantForm(formdata=None),
        record_form=record_form or RecordTextForm(formdata=None, record=hearing.record or ""),
        file_form=file_form or FileForm(formdata=None),
        files=uploads.attachments_of(hearing), events=audit.events_for(hearing),
        consultation_public=is_public(hearing.consultation), message=message,
    ), status


@bp.get("/staff/hearings/<int:hearing_id>")
@staff_required
def manage_detail(hearing_id: int):
    """A hearing: notice, participants, record, files and the comments made at it."""
    return render_detail(_hearing(hearing_id))


@bp.post("/staff/hearings/<int:hearing_id>/publish")
@staff_required
def manage_publish(hearing_id: int):
    """Publish the notice on the consultation's public page."""
    hearing = _hearing(hearing_id)
    try:
        with db.session.begin_nested():
            services.publish_notice(hearing, actor=current_user)
    except ValidationFailed as error:
        return render_detail(hearing, message=error.message, status=422)
    db.session.commit()
    flash(_("会议公告已发布。"), "success")
    return _to_detail(hearing)


@bp.post("/staff/hearings/<int:hearing_id>/participants")
@staff_required
def manage_add_participant(hearing_id: int):
    """Add a participant to the list."""
    hearing = _hearing(hearing_id)
    form = ParticipantForm()
    if not form.validate():
        return render_detail(hearing, participant_form=form, status=422)
    try:
        with db.session.begin_nested():
            services.add_participant(hearing, name=form.name.data,
                                     affiliation=form.affiliation.data,
                                     category=Category(form.category.data), actor=current_user)
    except ValidationFailed as error:
        attach_errors(form, error)
        return render_detail(hearing, participant_form=form, message=error.message, status=422)
    db.session.commit()
    flash(_("已添加参加人 %(name)s。", name=form.name.data), "success")
    return _to_detail(hearing, "participants")


@bp.post("/staff/hearings/<int:hearing_id>/participants/<int:participant_id>/remove")
@staff_required
def manage_remove_participant(hearing_id: int, participant_id: int):
    """Take a participant off the list."""
    hearing = _hearing(hearing_id)
    participant = db.get_or_404(HearingParticipant, participant_id)
    if participant.hearing_id != hearing.id:
        abort(404)
    services.remove_participant(participant, actor=current_user)
    db.session.commit()
    flash(_("已移除参加人 %(name)s。", name=participant.name), "success")
    return _to_detail(hearing, "participants")


@bp.post("/staff/hearings/<int:hearing_id>/record")
@staff_required
def manage_save_record(hearing_id: int):
    """Write or revise the record before it is published."""
    hearing = _hearing(hearing_id)
    form = RecordTextForm()
    if not form.validate():
        return render_detail(hearing, record_form=form, status=422)
    services.save_record(hearing, form.record.data, actor=current_user)
    db.session.commit()
    flash(_("会议记录已保存（尚未公开）。"), "success")
    return _to_detail(hearing, "record")


@bp.post("/staff/hearings/<int:hearing_id>/record/publish")
@staff_required
def manage_publish_record(hearing_id: int):
    """Publish the record once the hearing has been held."""
    hearing = _hearing(hearing_id)
    try:
        with db.session.begin_nested():
            services.publish_record(hearing, actor=current_user)
    except ValidationFailed as error:
        return render_detail(hearing, message=error.message, status=422)
    db.session.commit()
    flash(_("会议记录已发布。"), "success")
    return _to_detail(hearing, "record")


@bp.post("/staff/hearings/<int:hearing_id>/files")
@staff_required
def manage_upload(hearing_id: int):
    """Attach the notice or the record as a PDF."""
    hearing = _hearing(hearing_id)
    form = FileForm()
    if not form.validate():
        return render_detail(hearing, file_form=form, status=422)
    try:
        with db.session.begin_nested():
            services.attach_file(hearing, form.file.data, form.role.data, actor=current_user)
    except ValidationFailed as error:
        form.file.errors = [*form.file.errors, error.fields.get("file", error.message)]
        return render_detail(hearing, file_form=form, status=422)
    db.session.commit()
    flash(_("文件已上传。"), "success")
    return _to_detail(hearing, "files")


@bp.get("/hearings/<int:hearing_id>/files/<int:attachment_id>")
def file(hearing_id: int, attachment_id: int):
    """A hearing's notice or record PDF: public once published; the unit's staff see it before."""
    hearing = db.get_or_404(Hearing, hearing_id)
    attachment = db.get_or_404(uploads.Attachment, attachment_id)
    if attachment.owner_type != Hearing.__tablename__ or attachment.owner_id != hearing.id:
        abort(404)
    public = policy.is_public_hearing(hearing) and attachment in hearing.public_files
    if not public and not can_view_staff(current_user, hearing.consultation):
        abort(404)
    return uploads.send(attachment)
