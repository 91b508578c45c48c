"""The bulk tables, row by row: read in batches (`yield_per`), never whole in memory.

CSV is UTF-8 with a BOM (Excel reads the Chinese), streamed as it is read. XLSX is written by
the worker (consult/opendata/files.py) with openpyxl's write-only workbook into a temporary
file on disk (a row at a time), digesting the rows as they go; a cell that a spreadsheet would
run as a formula gets a leading `'` in both.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Iterator

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select

from consult import clock
from consult.answers.exports import safe_cell
from consult.answers.models import Disposition
from consult.comments.masking import mask
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.consultations.queries import public_clause
from consult.extensions import db
from consult.labels import label
from consult.policies.models import Policy
from consult.urls import external_url

BATCH = 1_000
TABLES = ("consultations", "comments", "policies")


def _time(moment) -> str:
    return clock.local(moment).isoformat() if moment is not None else ""


def _consultation_rows() -> Iterator[list]:
    yield [_("编号"), _("标题"), _("文件类型"), _("起草单位"), _("状态"), _("开始时间"),
           _("截止时间"), _("采纳情况公布时间"), _("网址")]
    query = (select(Consultation).where(public_clause()).order_by(Consultation.id)
             .options(db.selectinload(Consultation.unit)).execution_options(yield_per=BATCH))
    for c in db.session.scalars(query):
        yield [c.id, c.title, label(c.type, "type"), c.unit.name, label(c.status, "state"),
               _time(c.opens_at), _time(c.closes_at), _time(c.report_published_at),
               external_url("consultations.detail", consultation_id=c.id)]


def _comment_rows(consultation_id: int | None = None) -> Iterator[list]:
    yield [_("意见编号"), _("意见征集编号"), _("版本"), _("条款"), _("提出者类别"), _("渠道"),
           _("地区"), _("署名"), _("意见内容（已隐去个人信息）"), _("提交时间"), _("处理结果"),
           _("理由")]
    C = Comment
    query = (select(C, Consultation.report_published_at, Disposition.code, Disposition.reason)
             .join(Consultation, Consultation.id == C.consultation_id)
             .outerjoin(Disposition, Disposition.comment_id == C.id)
             .where(C.status == CommentStatus.PUBLISHED, public_clause())
             .order_by(C.consultation_id, C.id)
             .options(db.selectinload(C.article), db.selectinload(C.version))
             .execution_options(yield_per=BATCH))
    if consultation_id is not None:
        query = query.where(C.consultation_id == consultation_id)
    for comment, reported, code, reason in db.session.execute(query):
        answered = reported is not None and code is not None
        yield [comment.tracking_no, comment.consultation_id, comment.version.number,
               comment.article.label if comment.article is not None else "",
               label(comment.category, "category"), label(comment.channel, "channel"),
               comment.public_region or "", comment.public_name or "", mask(comment.body),
               _time(comment.created_at),
               label(code, "disposition") if answered else "",
               (reason or "") if answered else ""]


def _policy_rows() -> Iterator[list]:
    yield [_("编号"), _("标题"), _("文号"), _("发布单位"), _("印发日期"), _("施行日期"),
           _("效力"), _("发布时间"), _("意见征集编号"), _("网址")]
    query = (select(Policy).where(Policy.published_at.is_not(None)).order_by(Policy.id)
             .options(db.selectinload(Policy.unit)).execution_options(yield_per=BATCH))
    for p in db.session.scalars(query):
        yield [p.id, p.title, p.document_number, p.unit.name, p.issued_on.isoformat(),
               p.effective_on.isoformat() if p.effective_on else "", label(p.validity, "validity"),
               _time(p.published_at), p.consultation_id or "",
               external_url("policies.detail", policy_id=p.id)]


def rows(table: str, **filters) -> Iterator[list]:
    if table == "consultations":
        return _consultation_rows()
    if table == "comments":
        return _comment_rows(filters.get("consultation_id"))
    if table == "policies":
        return _policy_rows()
    raise ValueError(table)


def csv_chunks(table: str, **filters) -> Iterator[bytes]:
    """The table as CSV, a batch of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for number, row in enumerate(rows(table, **filters), start=1):
        writer.writerow([safe_cell(value) for value in row])
        if number % 200 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_snapshot(table: str, **filters) -> tuple[bytes, str]:
    """The table as XLSX bytes and the SHA-256 of its rows (the same rows give the same
    digest, whenever the file was written). The workbook is written row by row to a
    temporary file (write-only: one row in memory at a time)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table)
    digest = hashlib.sha256()
    for row in rows(table, **filters):
        cells = [safe_cell(value) for value in row]
        digest.update(json.dumps(cells, ensure_ascii=False, default=str).encode())
        digest.update(b"\n")
        sheet.append(cells)
    with tempfile.TemporaryFile(suffix=".xlsx") as handle:
        workbook.save(handle)
        handle.seek(0)
        return handle.read(), digest.hexdigest()
