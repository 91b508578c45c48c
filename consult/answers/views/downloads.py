"""Report downloads (F14): PDF, CSV and XLSX of the newest published revision; 404 before."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import abort, make_response, request
from flask_babel import get_locale
from flask_babel import gettext as _

from consult.answers import exports
from consult.answers.models import Report
from consult.answers.services import published_report
from consult.answers.views import bp
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.extensions import db
from consult.urls import external_url

# Built files of the newest revisions, per process: a published revision never changes, and a
# PDF takes WeasyPrint seconds to minutes. Bounded by total size.
CACHE_MAX_BYTES = 64 * 2**20
_cache: OrderedDict[tuple, bytes] = OrderedDict()
_lock = threading.Lock()


def _cached(key: tuple, build) -> bytes:
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    data = build()
    if len(data) <= CACHE_MAX_BYTES // 4:
        with _lock:
            _cache[key] = data
            while sum(map(len, _cache.values())) > CACHE_MAX_BYTES:
                _cache.popitem(last=False)
    return data


def _published(consultation_id: int) -> tuple[Consultation, Report]:
    consultation = db.get_or_404(Consultation, consultation_id)
    if not is_public(consultation):
        abort(404)
    report = published_report(consultation)
    if report is None or not report.digest:
        abort(404)
    return consultation, report


def _download(report: Report, extension: str, build):
    """Send the file built by `build()`; the frozen report is immutable, so its digest and the
    language make a strong ETag and a repeat request costs nothing."""
    etag = f"{report.digest}-{report.revision}-{get_locale()}-{extension}"
    if request.if_none_match and etag in request.if_none_match:
        response = make_response("", 304)
    else:
        response = make_response(_cached((report.id, etag), build))
        response.headers["Content-Type"] = exports.CONTENT_TYPES[extension]
        response.headers["Content-Disposition"] = exports.content_disposition(report.content,
                                                                              extension)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/consultations/<int:consultation_id>/report.pdf")
def report_pdf(consultation_id: int):
    """The adoption report as PDF, Chinese fonts embedded."""
    consultation, report = _published(consultation_id)
    links = {
        _("网页版"): external_url("answers.report", consultation_id=consultation_id),
        _("Excel 表格"): external_url("answers.report_xlsx", consultation_id=consultation_id),
        _("CSV 表格"): external_url("answers.report_csv", consultation_id=consultation_id),
    }
    return _download(report, "pdf", lambda: exports.report_pdf(
        report.content, unit_name=consultation.unit.name,
        correction_note=report.correction_note, links=links))


@bp.get("/consultations/<int:consultation_id>/report.csv")
def report_csv(consultation_id: int):
    """Every comment of the report with its answer, as CSV (UTF-8 with BOM)."""
    _consultation, report = _published(consultation_id)
    return _download(report, "csv", lambda: exports.report_csv(report.content))


@bp.get("/consultations/<int:consultation_id>/report.xlsx")
def report_xlsx(consultation_id: int):
    """Comments with answers, totals and the per-article table, as an Excel workbook."""
    _consultation, report = _published(consultation_id)
    return _download(report, "xlsx", lambda: exports.report_xlsx(report.content))
