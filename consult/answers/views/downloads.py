"""Report downloads (F14): PDF, CSV and XLSX of the newest published revision; 404 before.

The PDF and XLSX are built by a job once per revision and language and served from the
database (consult/answers/files.py); until the file is ready a download answers 202 with a
page that says so and reloads itself. The CSV is written per request and kept per process.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from flask import abort, make_response, render_template, request
from flask_babel import get_locale
from sqlalchemy.exc import OperationalError

from consult.answers import exports, files
from consult.answers.models import Report
from consult.answers.services import published_report
from consult.answers.views import bp
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.extensions import db

log = logging.getLogger(__name__)

# CSV files of the newest revisions, per process: a published revision never changes.
# Bounded by total size.
CACHE_MAX_BYTES = 64 * 2**20
_cache: OrderedDict[tuple, bytes] = OrderedDict()
_lock = threading.Lock()
PREPARING_RETRY_SECONDS = 10  # Retry-After (and the page's refresh) while a file is built
FAILED_RETRY_SECONDS = 600


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


def _headers(response, etag: str):
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _not_modified(etag: str) -> bool:
    return bool(request.if_none_match and etag in request.if_none_match)


def _built_download(consultation: Consultation, report: Report, extension: str):
    """Send the stored file, or say it is being prepared (202) and make sure it is."""
    locale = str(get_locale())
    etag = files.etag_for(report, extension, locale)
    if _not_modified(etag):
        return _headers(make_response("", 304), etag)
    built = files.built_file(report, extension, locale, with_data=True)
    if built is not None:
        response = make_response(built.data)
        response.headers["Content-Type"] = built.content_type
        response.headers["Content-Disposition"] = built.content_disposition
        return _headers(response, etag)
    report_id, busy = report.id, False
    try:
        with db.session.begin_nested():  # a failure undoes this, not the request's reading
            job = files.request_build(report, extension, locale)
    except OperationalError:  # SQLite busy with a writer (this GET read first): ask again soon
        job, busy = None, True
    else:
        try:
            db.session.commit()
        except OperationalError:
            db.session.rollback()
            job, busy = None, True
    if busy:
        log.info("report %s: %s build not queued, the database is busy", report_id, extension)
        status, retry = 503, PREPARING_RETRY_SECONDS
    else:
        status, retry = (202, PREPARING_RETRY_SECONDS) if job else (503, FAILED_RETRY_SECONDS)
    response = make_response(render_template(
        "answers/report_preparing.html", c=consultation, extension=extension, job=job,
        refresh=retry), status)
    response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/consultations/<int:consultation_id>/report.pdf")
def report_pdf(consultation_id: int):
    """The adoption report as PDF, Chinese fonts embedded (built by a job)."""
    consultation, report = _published(consultation_id)
    return _built_download(consultation, report, "pdf")


@bp.get("/consultations/<int:consultation_id>/report.csv")
def report_csv(consultation_id: int):
    """Every comment of the report with its answer, as CSV (UTF-8 with BOM)."""
    _consultation, report = _published(consultation_id)
    etag = files.etag_for(report, "csv", str(get_locale()))
    if _not_modified(etag):
        return _headers(make_response("", 304), etag)
    response = make_response(_cached((report.id, etag),
                                     lambda: exports.report_csv(report.content)))
    response.headers["Content-Type"] = exports.CONTENT_TYPES["csv"]
    response.headers["Content-Disposition"] = exports.content_disposition(report.content, "csv")
    return _headers(response, etag)


@bp.get("/consultations/<int:consultation_id>/report.xlsx")
def report_xlsx(consultation_id: int):
    """Comments with answers, totals and the per-article table, as an Excel workbook (built
    by a job)."""
    consultation, report = _published(consultation_id)
    return _built_download(consultation, report, "xlsx")
