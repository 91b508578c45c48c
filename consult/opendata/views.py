"""Open data downloads (`/data`): the bulk tables as CSV (written per request, streamed) or
XLSX (snapshots built by the worker, consult/opendata/files.py)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import get_locale
from sqlalchemy.exc import OperationalError

from consult.answers.exports import CONTENT_TYPES
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.extensions import db
from consult.opendata import exports, files
from consult.paging import int_param

bp = Blueprint("opendata", __name__)
log = logging.getLogger(__name__)

PREPARING_RETRY_SECONDS = 10  # Retry-After (and the page's refresh) while a file is built
FAILED_RETRY_SECONDS = 600


@bp.get("/data")
def index():
    """What can be downloaded, in which formats, and how current the XLSX snapshots are."""
    locale = str(get_locale())
    snapshots = {t: files.built_file(t, locale) for t in exports.TABLES}
    return render_template("opendata/index.html", tables=exports.TABLES, snapshots=snapshots,
                           max_age=files.max_age())


@bp.get("/data/<table>.<any(csv, xlsx):fmt>")
def download(table: str, fmt: str):
    """One table (comments: `?consultation=<id>` for one consultation's)."""
    if table not in exports.TABLES:
        abort(404)
    filters = {}
    consultation_id = int_param("consultation", minimum=1) if table == "comments" else None
    if consultation_id is not None:
        consultation = db.session.get(Consultation, consultation_id)
        if consultation is None or not is_public(consultation):
            abort(404)
        filters["consultation_id"] = consultation_id
    if fmt == "xlsx":
        return _snapshot(files.dataset_name(table, consultation_id))
    name = f"{table}-{consultation_id}" if consultation_id else table
    response = Response(stream_with_context(exports.csv_chunks(table, **filters)),
                        mimetype="text/csv", content_type=CONTENT_TYPES["csv"])
    response.headers["Content-Disposition"] = f"attachment; filename={name}.csv"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _snapshot(dataset: str):
    """The stored XLSX (a 304 when the reader has it); a new build asked for when it is due;
    until there is a first file, 202 with a page that reloads itself (503 after a failure)."""
    locale = str(get_locale())
    built = files.built_file(dataset, locale)
    job, busy = None, False
    if built is None or not files.is_current(built):
        try:
            with db.session.begin_nested():  # a failure undoes this, not the request's reading
                job = files.request_build(dataset, locale)
            db.session.commit()
        except OperationalError:  # SQLite busy with a writer (this GET read first)
            db.session.rollback()
            busy = True
            log.info("data %s: xlsx build not queued, the database is busy", dataset)
    if built is not None:
        if request.if_none_match and built.etag in request.if_none_match:
            return _headers(make_response("", 304), built)
        built = files.built_file(dataset, locale, with_data=True)
        response = make_response(built.data)
        response.headers["Content-Type"] = built.content_type
        response.headers["Content-Disposition"] = built.content_disposition
        return _headers(response, built)
    if busy:
        status, retry = 503, PREPARING_RETRY_SECONDS
    else:
        status, retry = (202, PREPARING_RETRY_SECONDS) if job else (503, FAILED_RETRY_SECONDS)
    response = make_response(render_template(
        "opendata/preparing.html", dataset=dataset, job=job, refresh=retry), status)
    response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response


def _headers(response, built):
    response.set_etag(built.etag)
    response.last_modified = built.created_at
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
