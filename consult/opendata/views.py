"""Open data downloads (`/data`): the bulk tables as CSV or XLSX, streamed."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, send_file, stream_with_context

from consult.answers.exports import CONTENT_TYPES
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.extensions import db
from consult.opendata import exports
from consult.paging import int_param

bp = Blueprint("opendata", __name__)


@bp.get("/data")
def index():
    """What can be downloaded, and in which formats."""
    return render_template("opendata/index.html", tables=exports.TABLES)


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
    name = f"{table}-{consultation_id}" if consultation_id else table
    if fmt == "csv":
        response = Response(stream_with_context(exports.csv_chunks(table, **filters)),
                            mimetype="text/csv", content_type=CONTENT_TYPES["csv"])
        response.headers["Content-Disposition"] = f"attachment; filename={name}.csv"
    else:
        response = send_file(exports.xlsx_file(table, **filters), mimetype=CONTENT_TYPES["xlsx"],
                             as_attachment=True, download_name=f"{name}.xlsx")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
