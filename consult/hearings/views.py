"""Hearing and symposium pages: staff manage them (notice, participants, record, files); the public
sees a published one on its consultation's page and downloads its files."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import audit, clock, pagecache, uploads
from consult.comments.models import Category
from consult.consultations.models import Consultation
from consult.consultations.policy import can_view_staff, is_public
from consult.extensions import db
from consult.hearings import policy, services
from consult.hearings.forms import FileForm, HearingForm, ParticipantForm, RecordTextForm
from consult.hearings.models import Hearing, HearingParticipant
from consult.web import commits, form_errors, load_or_403, staff_required

bp = Blueprint("hearings", __name__)


def _public_hearings(consultation: Consultation) -> list[Hearing]:
    """The published hearings shown on a consultation's page; the page says "record to follow"
    once one has been held, so a stored copy of it is kept no longer than that."""
    hearings = services.hearings_of(consultation, public_only=True) \
        if is_public(consultation) else []
    for hearing in hearings:
        pagecache.expires_by(hearing.held_at)
    return hearings


@bp.app_context_processor
def _hearing_helpers():
    return {"public_hearings": _public_hearings, "hearings_now": clock.now}


def _consultation(consultation_id: int) -> Consultation:
    return load_or_403(Consultation, consultation_id, policy.can_manage_hearings)


def _hearing(hearing_id: int) -> Hearing:
    return load_or_403(Hearing, hearing_id,
                       lambda user, hearing: policy.can_manage_hearings(user, hearing.consultation))


def _to_detail(hearing: Hearing, anchor: str | None = None):
    return redirect(url_for(".manage_detail", hearing_id=hearing.id, _anchor=anchor))


@bp.get("/staff/consultations/<int:consultation_id>/hearings")
@staff_required
def manage_index(consultation_id: int):
    """A consultation's hearings and symposiums."""
    consultation = _consultation(consultation_id)
    return render_template("hearings/staff/hearings.html", c=consultation,
                           hearings=services.hearings_of(consultation))


def _render_form(form, consultation, hearing=None, *, message=None, status=200):
    return render_template("hearings/staff/hearing_form.html", form=form, c=consultation,
                           hearing=hearing, message=message), status


@bp.route("/staff/consultations/<int:consultation_id>/hearings/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_new(consultation_id: int):
    """Plan a hearing or symposium: what, when, where, and its notice."""
    consultation = _consultation(consultation_id)
    form = HearingForm(formdata=None) if request.method == "GET" else HearingForm()
    if request.method == "GET" or not form.validate():
        return _render_form(form, consultation, status=200 if request.method == "GET" else 422)
    with form_errors(form) as failed:
        hearing = services.create_hearing(consultation, form.hearing_input(), actor=current_user)
    if failed:
        return _render_form(form, consultation, message=failed.message, status=422)
    flash(_("已保存。请添加参加人，并在会前发布会议公告。"), "success")
    return _to_detail(hearing)


@bp.route("/staff/hearings/<int:hearing_id>/edit", methods=["GET", "POST"])
@staff_required
@commits
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
    with form_errors(form) as failed:
        services.update_hearing(hearing, form.hearing_input(), actor=current_user)
    if failed:
        return _render_form(form, hearing.consultation, hearing, message=failed.message,
                            status=422)
    flash(_("已保存修改。"), "success")
    return _to_detail(hearing)


def render_detail(hearing: Hearing, *, participant_form=None, record_form=None, file_form=None,
                  message=None, status=200):
    return render_template(
        "hearings/staff/hearing_detail.html", h=hearing, c=hearing.consultation,
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
@commits
def manage_publish(hearing_id: int):
    """Publish the notice on the consultation's public page."""
    hearing = _hearing(hearing_id)
    with form_errors(None) as failed:
        services.publish_notice(hearing, actor=current_user)
    if failed:
        return render_detail(hearing, message=failed.message, status=422)
    flash(_("会议公告已发布。"), "success")
    return _to_detail(hearing)


@bp.post("/staff/hearings/<int:hearing_id>/participants")
@staff_required
@commits
def manage_add_participant(hearing_id: int):
    """Add a participant to the list."""
    hearing = _hearing(hearing_id)
    form = ParticipantForm()
    if not form.validate():
        return render_detail(hearing, participant_form=form, status=422)
    with form_errors(form) as failed:
        services.add_participant(hearing, name=form.name.data, affiliation=form.affiliation.data,
                                 category=Category(form.category.data), actor=current_user)
    if failed:
        return render_detail(hearing, participant_form=form, message=failed.message, status=422)
    flash(_("已添加参加人 %(name)s。", name=form.name.data), "success")
    return _to_detail(hearing, "participants")


@bp.post("/staff/hearings/<int:hearing_id>/participants/<int:participant_id>/remove")
@staff_required
@commits
def manage_remove_participant(hearing_id: int, participant_id: int):
    """Take a participant off the list."""
    hearing = _hearing(hearing_id)
    participant = db.get_or_404(HearingParticipant, participant_id)
    if participant.hearing_id != hearing.id:
        abort(404)
    services.remove_participant(participant, actor=current_user)
    flash(_("已移除参加人 %(name)s。", name=participant.name), "success")
    return _to_detail(hearing, "participants")


@bp.post("/staff/hearings/<int:hearing_id>/record")
@staff_required
@commits
def manage_save_record(hearing_id: int):
    """Write or revise the record before it is published."""
    hearing = _hearing(hearing_id)
    form = RecordTextForm()
    if not form.validate():
        return render_detail(hearing, record_form=form, status=422)
    services.save_record(hearing, form.record.data, actor=current_user)
    flash(_("会议记录已保存（尚未公开）。"), "success")
    return _to_detail(hearing, "record")


@bp.post("/staff/hearings/<int:hearing_id>/record/publish")
@staff_required
@commits
def manage_publish_record(hearing_id: int):
    """Publish the record once the hearing has been held."""
    hearing = _hearing(hearing_id)
    with form_errors(None) as failed:
        services.publish_record(hearing, actor=current_user)
    if failed:
        return render_detail(hearing, message=failed.message, status=422)
    flash(_("会议记录已发布。"), "success")
    return _to_detail(hearing, "record")


@bp.post("/staff/hearings/<int:hearing_id>/files")
@staff_required
@commits
def manage_upload(hearing_id: int):
    """Attach the notice or the record as a PDF."""
    hearing = _hearing(hearing_id)
    form = FileForm()
    if not form.validate():
        return render_detail(hearing, file_form=form, status=422)
    with form_errors(form, field="file") as failed:
        services.attach_file(hearing, form.file.data, form.role.data, actor=current_user)
    if failed:
        return render_detail(hearing, file_form=form, status=422)
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
