"""Hearings and symposiums (F11b): the notice published before, the participant list, the record
published after. Comments made at one are recorded with `comments.services.record_comment`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from consult import audit, clock, uploads
from consult.auth.models import User
from consult.comments.models import Category
from consult.consultations.models import Consultation, State
from consult.consultations.policy import is_public
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.hearings.models import Hearing, HearingKind, HearingParticipant

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "create_hearing": _l("新建听证会/座谈会"),
    "edit_hearing": _l("修改听证会/座谈会"),
    "publish_hearing_notice": _l("发布会议公告"),
    "add_hearing_participant": _l("添加参加人"),
    "remove_hearing_participant": _l("移除参加人"),
    "save_hearing_record": _l("保存会议记录"),
    "publish_hearing_record": _l("发布会议记录"),
    "attach_hearing_file": _l("上传会议文件"),
})

FILE_ROLES = ("notice", "record")


@dataclass
class HearingInput:
    kind: HearingKind
    title: str
    held_at: datetime  # aware
    place: str
    notice: str = ""


def _audit(actor: User, action: str, hearing: Hearing, **kwargs) -> None:
    audit.record(actor, action, hearing, unit_id=hearing.consultation.unit_id, **kwargs)


def _required(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, code="required", fields={field: message})
    return value


def _check_input(data: HearingInput) -> dict:
    if data.held_at is None or data.held_at.tzinfo is None:
        message = _("请填写举行时间。")
        raise ValidationFailed(message, code="required", fields={"held_at": message})
    return {
        "kind": HearingKind(data.kind),
        "title": _required(data.title, "title", _("请填写会议名称。")),
        "held_at": data.held_at,
        "place": _required(data.place, "place", _("请填写举行地点。")),
        "notice": (data.notice or "").strip(),
    }


def _check_consultation(consultation: Consultation) -> None:
    """Hearings belong to a consultation still gathering comments (or about to)."""
    if consultation.status == State.WITHDRAWN:
        raise Conflict(_("该意见征集已撤回。"), code="withdrawn")
    if consultation.report_published:
        raise Conflict(_("采纳情况报告已发布，不能再添加或修改听证会、座谈会。"),
                       code="report_published")


def _check_changeable(hearing: Hearing) -> None:
    _check_consultation(hearing.consultation)
    if hearing.record_published_at is not None:
        raise Conflict(_("会议记录已发布，不能再修改。"), code="record_published")


def create_hearing(consultation: Consultation, data: HearingInput, *, actor: User) -> Hearing:
    """Plan a hearing or symposium on a consultation; nothing is public until its notice is."""
    _check_consultation(consultation)
    values = _check_input(data)
    now = clock.now()
    hearing = Hearing(consultation=consultation, created_by_id=getattr(actor, "id", None),
                      created_at=now, updated_at=now, **values)
    db.session.add(hearing)
    _audit(actor, "create_hearing", hearing)
    return hearing


def update_hearing(hearing: Hearing, data: HearingInput, *, actor: User) -> Hearing:
    """Change what, when and where (a published notice shows that it was updated)."""
    _check_changeable(hearing)
    for name, value in _check_input(data).items():
        setattr(hearing, name, value)
    hearing.updated_at = clock.now()
    _audit(actor, "edit_hearing", hearing)
    return hearing


def publish_notice(hearing: Hearing, *, actor: User) -> Hearing:
    """Publish the notice (time, place, participants) on the consultation's public page."""
    _check_changeable(hearing)
    if hearing.published_at is not None:
        raise InvalidTransition(_("会议公告已发布。"), code="already_published")
    if not is_public(hearing.consultation):
        raise InvalidTransition(_("意见征集审核发布后，才能发布会议公告。"), code="not_public")
    if not hearing.notice and hearing.notice_file is None:
        message = _("请先填写公告内容或上传公告文件。")
        raise ValidationFailed(message, code="notice_required", fields={"notice": message})
    hearing.published_at = clock.now()
    _audit(actor, "publish_hearing_notice", hearing)
    return hearing


def add_participant(hearing: Hearing, *, name: str, affiliation: str | None,
                    category: Category, actor: User) -> HearingParticipant:
    """Add a person to the participant list (published with the notice)."""
    _check_changeable(hearing)
    participant = HearingParticipant(
        name=_required(name, "name", _("请填写参加人姓名。")),
        affiliation=(affiliation or "").strip() or None, category=Category(category),
    )
    hearing.participants.append(participant)
    db.session.flush()
    # The id, not the name: the audit log holds no personal data (consult/audit.py).
    _audit(actor, "add_hearing_participant", hearing, detail={"participant_id": participant.id})
    return participant


def remove_participant(participant: HearingParticipant, *, actor: User) -> None:
    """Take a person off the list (a mistake, or they did not come), until the record is out."""
    hearing = participant.hearing
    _check_changeable(hearing)
    participant_id = participant.id
    hearing.participants.remove(participant)
    _audit(actor, "remove_hearing_participant", hearing,
           detail={"participant_id": participant_id})


def save_record(hearing: Hearing, text: str | None, *, actor: User) -> Hearing:
    """Write or revise the record (minutes) before it is published."""
    _check_changeable(hearing)
    hearing.record = (text or "").strip() or None
    _audit(actor, "save_hearing_record", hearing)
    return hearing


def publish_record(hearing: Hearing, *, actor: User) -> Hearing:
    """Publish the record once the hearing has been held; it cannot change afterwards."""
    _check_changeable(hearing)
    if hearing.published_at is None:
        raise InvalidTransition(_("请先发布会议公告。"), code="notice_unpublished")
    if hearing.held_at > clock.now():
        raise InvalidTransition(_("会议举行后才能发布会议记录。"), code="not_held")
    if not hearing.record and hearing.record_file is None:
        message = _("请先填写会议记录或上传记录文件。")
        raise ValidationFailed(message, code="record_required", fields={"record": message})
    hearing.record_published_at = clock.now()
    _audit(actor, "publish_hearing_record", hearing)
    return hearing


def attach_file(hearing: Hearing, file: FileStorage, role: str, *, actor: User):
    """Keep the notice or record as a PDF; it is public once the notice or record is."""
    if role not in FILE_ROLES:
        message = _("请选择文件类别。")
        raise ValidationFailed(message, code="role", fields={"role": message})
    _check_changeable(hearing)
    attachment = uploads.store(file, owner=hearing, allowed={"pdf"}, actor=actor, public=True)
    db.session.flush()
    if role == "notice":
        hearing.notice_file = attachment
        hearing.updated_at = clock.now()  # the public notice shows that it changed
    else:
        hearing.record_file = attachment
    _audit(actor, "attach_hearing_file", hearing,
           detail={"role": role, "attachment_id": attachment.id})
    return attachment


def hearings_of(consultation: Consultation, *, public_only: bool = False) -> list[Hearing]:
    """A consultation's hearings in the order they are held."""
    query = db.select(Hearing).where(Hearing.consultation_id == consultation.id)
    if public_only:
        query = query.where(Hearing.published_at.is_not(None))
    return db.session.scalars(query.order_by(Hearing.held_at, Hearing.id)).all()
