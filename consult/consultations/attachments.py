"""A consultation's attachments (F2): PDF, Word and Excel files published with the draft.

Files are checked by content and stored by `consult.uploads`. A draft's files may be added and
removed freely; once the consultation is public, files can only be added, as 补充材料 (shown
with their date), until the window closes, and never removed. Every change is in the audit log.
"""

from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from consult import audit, uploads
from consult.auth.models import User
from consult.consultations.models import Consultation, State
from consult.errors import InvalidTransition, NotFound
from consult.extensions import db
from consult.uploads import Attachment

KINDS = {"pdf", "docx", "xlsx"}
TITLE_MAX = 200
KIND_LABELS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel"}


def accepts_files(consultation: Consultation) -> bool:
    """Whether the consultation's state lets files be added at all (roles aside)."""
    return consultation.state == State.DRAFT or consultation.status in (
        State.SCHEDULED, State.OPEN
    )


def files_of(consultation: Consultation, *, public_only: bool = False) -> list[Attachment]:
    return uploads.attachments_of(consultation, public_only=public_only)


def find(consultation: Consultation, attachment_id: int) -> Attachment:
    """The consultation's attachment `attachment_id` (NotFound when it belongs to anything else)."""
    attachment = db.session.get(Attachment, attachment_id)
    if (attachment is None or attachment.owner_type != Consultation.__tablename__
            or attachment.owner_id != consultation.id):
        raise NotFound()
    return attachment


def _note(attachment: Attachment) -> str:
    return _("附件：%(name)s", name=attachment.title or attachment.filename)


def add_attachment(consultation: Consultation, file: FileStorage, *, title: str | None = None,
                   actor: User) -> Attachment:
    """Attach a PDF/DOCX/XLSX file: to a draft, or as 补充材料 while scheduled or open."""
    if not accepts_files(consultation):
        raise InvalidTransition(_("审核期间和征求意见截止后不能添加附件。"),
                                code="attachments_closed")
    supplement = consultation.state != State.DRAFT
    attachment = uploads.store(file, owner=consultation, allowed=KINDS, actor=actor, public=True)
    attachment.title = (title or "").strip()[:TITLE_MAX] or None
    attachment.supplement = supplement
    db.session.flush()
    audit.record(actor, "add_supplement" if supplement else "add_attachment", consultation,
                 reason=_note(attachment),
                 detail={"attachment_id": attachment.id, "filename": attachment.filename,
                         "kind": attachment.kind, "size": attachment.size})
    return attachment


def remove_attachment(consultation: Consultation, attachment: Attachment, *, actor: User) -> None:
    """Remove a draft's file (the stored bytes go with the next purge of unreferenced files)."""
    if consultation.state != State.DRAFT:
        raise InvalidTransition(_("只有草稿的附件可以删除；已公开的附件不能删除。"),
                                code="attachment_published")
    audit.record(actor, "remove_attachment", consultation, reason=_note(attachment),
                 detail={"attachment_id": attachment.id, "filename": attachment.filename})
    db.session.delete(attachment)
    db.session.flush()
