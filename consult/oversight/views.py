"""Public statistics (F22): `/stats` with charts, data tables and a CSV per chart; the yearly
figures (F23); the staff page of a unit's reminders."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from consult import clock, pagecache
from consult.auth.models import Unit
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.oversight import reminders, stats, yearly
from consult.oversight.tables import NAMES, tables, to_csv
from consult.paging import id_filter
from consult.permissions import Perm, unit_ids_with
from consult.web import ConfirmForm, commits, staff_required

bp = Blueprint("oversight", __name__)

PUBLIC_MAX_AGE = 60  # seconds a proxy may keep a statistics page
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _personal() -> bool:
    """Whether this visitor's page is their own: signed in (the header's logout form carries
    their CSRF token), a message waiting, a language kept: anything in the session."""
    return bool(session)


def _public(response, *, personal: bool = False):
    """Anyone's page: a shared cache may keep it a minute (ETag to revalidate). Someone's own
    page never goes to a shared cache."""
    if personal:
        response.cache_control.private = True
        response.cache_control.no_cache = True
        response.vary.add("Cookie")
        return response
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


# Pages rendered from a snapshot, by (snapshot version, filters, language): a snapshot never
# changes, so neither does its page; a newer snapshot has another version.
_pages: dict[tuple, bytes] = {}
KEPT_PAGES = 256


@bp.get("/stats")
@pagecache.page(params=("year", "unit"), scopes=(pagecache.SITE, pagecache.STATS))
def index():
    """Charts and tables of consultations, comments, answers, reports and interpretations.

    Anonymous readers get it from the page cache, which keeps it until a consultation, report,
    policy or interpretation is written (its `stats` stamp) or the snapshot is due to count
    comments again; a page of older figures served during a recount is not kept."""
    filters = stats.filters_from(request.args)
    kept = stats.snapshot(filters)
    if kept.fresh_until is None:
        pagecache.keep_not()
    else:
        pagecache.expires_by(kept.fresh_until)
    if _personal():  # rendered for this visitor alone, never kept
        return _public(make_response(_stats_page(kept.content, filters)), personal=True)
    key = (kept.version, filters.key, str(get_locale()))
    page = _pages.get(key)
    if page is None:
        page = _stats_page(kept.content, filters).encode("utf-8")
        if len(_pages) >= KEPT_PAGES:
            _pages.clear()
        _pages[key] = page
    return _public(make_response(page))


def _stats_page(figures: dict, filters: stats.Filters) -> str:
    return render_template("oversight/stats.html", figures=figures, tables=tables(figures),
                           filters=filters, years=stats.years(), units=stats.units())


@bp.get("/stats/<name>.csv")
def table_csv(name: str):
    """One chart's figures as CSV, with the page's filters."""
    if name not in NAMES:
        abort(404)
    filters = stats.filters_from(request.args)
    table = next(t for t in tables(stats.figures(filters)) if t.name == name)
    response = make_response(to_csv(table))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    suffix = "-".join(str(part) for part in (filters.year, filters.unit_id) if part)
    filename = f"stats-{name}{'-' + suffix if suffix else ''}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _public(response)


def _yearly():
    filters = stats.filters_from(request.args)
    year = filters.year or clock.today().year
    return year, filters.unit_id, yearly.figures(year, filters.unit_id)


@bp.get("/stats/yearly")
def yearly_page():
    """Each unit's figures for one year, for its open-government annual report (F23)."""
    year, unit_id, content = _yearly()
    return _public(make_response(render_template(
        "oversight/yearly.html", content=content, columns=yearly.columns(),
        rows=yearly.rows(content), year=year, unit_id=unit_id, years=stats.years(),
        units=stats.units(),
    )), personal=_personal())


@bp.get("/stats/yearly.<any(csv, xlsx):extension>")
def yearly_download(extension: str):
    """The yearly figures as CSV or as an Excel workbook."""
    year, unit_id, content = _yearly()
    if extension == "csv":
        response = make_response(yearly.to_csv(content))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        response = make_response(yearly.to_xlsx(content))
        response.headers["Content-Type"] = XLSX
    filename = f"yearly-{year}{f'-unit-{unit_id}' if unit_id else ''}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _public(response)


# ------------------------------------------------------------------------------ reminders


@bp.get("/staff/reminders")
@staff_required
def manage_reminders():
    """The reminders the user's units get, which optional ones they switched off, and what was
    sent lately."""
    units = _reminder_units()
    off = {(row.unit_id, row.cause) for row in db.session.scalars(
        db.select(reminders.ReminderOptOut).where(
            reminders.ReminderOptOut.unit_id.in_([u.id for u in units])))}
    return render_template(
        "oversight/staff/reminders.html", units=units, off=off, causes=reminders.CAUSES,
        can_switch={u.id: reminders.can_switch(current_user, u) for u in units},
        sent=reminders.recent({u.id for u in units}), form=ConfirmForm())


def _reminder_units() -> list[Unit]:
    ids = unit_ids_with(current_user, Perm.VIEW_STAFF)
    if not ids:
        return []
    return db.session.scalars(db.select(Unit).where(Unit.id.in_(ids))
                              .order_by(Unit.name)).all()


@bp.post("/staff/reminders")
@staff_required
@commits
def manage_switch_reminder():
    """Switch one optional reminder on or off for one unit (its approvers)."""
    unit_id = id_filter(request.form.get("unit_id", ""))
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        abort(404)
    if not reminders.can_switch(current_user, unit):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    cause = request.form.get("cause", "")
    try:
        changed = reminders.switch(unit, cause, on=request.form.get("on") == "1",
                                   actor=current_user)
    except (ValidationFailed, Conflict) as error:
        flash(error.message, "error")
        return redirect(url_for(".manage_reminders"), 303)
    if changed:
        flash(_("已保存。"), "success")
    return redirect(url_for(".manage_reminders"), 303)
