"""Uploaded files (attachments): checked by content, size-limited, stored outside static/.

Any domain attaches files through `store()`; the file's kind is decided by its bytes, never by
its name or the browser's content type. Files are kept by `consult.storage` (a local directory
or an S3 bucket) named by their SHA-256, and are served by `send()` as downloads with safe
headers, after the view has authorized the download.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from datetime import datetime
from urllib.parse import quote

from flask import abort, current_app, redirect, request, send_file
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage

from consult import archives, clock, storage
from consult.errors import ConsultError, ValidationFailed
from consult.extensions import db
from consult.types import UTCDateTime

KINDS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class TooLarge(ConsultError):
    status = 413
    code = "file_too_large"


class Attachment(db.Model):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(40))  # consultation, comment, hearing ...
    owner_id: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded; escape wherever shown
    kind: Mapped[str] = mapped_column(String(10))  # pdf, docx, xlsx
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(default=True)
    # Consultation attachments: a title shown instead of the filename (e.g. 附件1：收费标准), and
    # whether it was added as 补充材料 after the draft went public.
    title: Mapped[str | None] = mapped_column(String(200))
    supplement: Mapped[bool] = mapped_column(default=False, server_default=false())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def content_type(self) -> str:
        return KINDS[self.kind]


def sniff(head: bytes, data: bytes) -> str | None:
    """The kind of a file from its bytes: pdf, docx, xlsx, or None. A zip that would unpack too
    big is refused (ValidationFailed, consult/archives.py)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                # Never parsed here, but kept and handed to readers: no zip bombs (422).
                archives.check(archive, scan_xml=False)
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
            return None
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def _clean_name(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or "attachment"


def read_checked(file: FileStorage, allowed: set[str]) -> tuple[bytes, str]:
    """The bytes and kind of an upload, or a clear error (413 too big, 422 wrong kind)."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(_("文件不能超过 %(mb)d MB。", mb=limit // (1024 * 1024)))
    if not data:
        message = _("文件是空的。")
        raise ValidationFailed(message, code="empty_file", fields={"file": message})
    kind = sniff(data[:8], data)
    if kind not in allowed:
        names = "、".join(k.upper() for k in sorted(allowed))
        message = _("只能上传 %(kinds)s 文件（按文件内容识别，而非扩展名）。", kinds=names)
        raise ValidationFailed(message, code="file_type", fields={"file": message})
    return data, kind


def store(file: FileStorage, *, owner, allowed: set[str], actor=None,
          public: bool = True) -> Attachment:
    """Check and keep an uploaded file for `owner` (any model with __tablename__ and id)."""
    data, kind = read_checked(file, allowed)
    digest = hashlib.sha256(data).hexdigest()
    # Written even when the same bytes are stored already: that renews the file's time, so
    # the orphan cleanup (privacy purge) cannot take it while this row is being committed.
    storage.current().put(digest, data, content_type=KINDS[kind])
    db.session.flush()
    attachment = Attachment(
        owner_type=owner.__tablename__, owner_id=owner.id, filename=_clean_name(file.filename),
        kind=kind, size=len(data), sha256=digest, public=public,
        uploaded_by_id=getattr(actor, "id", None), created_at=clock.now(),
    )
    db.session.add(attachment)
    return attachment


def attachments_of(owner, *, public_only: bool = False) -> list[Attachment]:
    query = db.select(Attachment).where(
        Attachment.owner_type == owner.__tablename__, Attachment.owner_id == owner.id
    )
    if public_only:
        query = query.where(Attachment.public.is_(True))
    return db.session.scalars(query.order_by(Attachment.id)).all()


def content_disposition(filename: str) -> str:
    """`attachment; filename=...` as werkzeug's send_file writes it (ASCII + RFC 5987)."""
    from werkzeug.http import dump_options_header

    try:
        filename.encode("ascii")
        names = {"filename": filename}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        names = {"filename": simple,
                 "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}
    return dump_options_header("attachment", names)


def send(attachment: Attachment):
    """The file as a download: right type, escaped name, never sniffed or rendered inline.

    Streamed from the store; a public file in an object store with S3_PRESIGN_SECONDS set is a
    redirect to a short-lived signed URL that carries the same type and name. Private files are
    always streamed by the app, with `private, no-store`.
    """
    store = storage.current()
    if attachment.public:
        url = store.download_url(
            attachment.sha256, content_type=attachment.content_type,
            content_disposition=content_disposition(attachment.filename),
            cache_control="public, max-age=3600")
        if url:
            response = redirect(url, 302)
            response.headers["Cache-Control"] = "no-store"  # the signature expires
            return response
    try:
        stream = store.open(attachment.sha256)
    except storage.StoredFileMissing:
        current_app.logger.error("attachment %s: file %s is missing from the %s",
                                 attachment.id, attachment.sha256, store.describe())
        abort(404)
    response = send_file(
        stream, mimetype=attachment.content_type, as_attachment=True,
        download_name=attachment.filename, max_age=3600, conditional=False,
        etag=attachment.sha256, last_modified=attachment.created_at,
    )
    response.content_length = attachment.size
    response = response.make_conditional(request, accept_ranges=True,
                                         complete_length=attachment.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if not attachment.public:  # may carry personal data: no shared cache may keep it
        response.headers["Cache-Control"] = "private, no-store"
    return response
