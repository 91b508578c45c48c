"""Feeds (F20): `/feeds/consultations.atom` (per unit with `?unit=`, per type with `?type=`),
`/consultations/<id>.ics` and `/consultations.ics` (every open or coming window)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from consult import clock
from consult.consultations import queries
from consult.consultations.models import Consultation, ConsultationType
from consult.consultations.policy import is_public
from consult.consultations.states import State
from consult.extensions import db
from consult.feeds import documents
from consult.feeds.events import events
from consult.paging import bad_parameter, int_param
from consult.urls import external_url
from consult.web import public_or_404

bp = Blueprint("feeds", __name__)

FEED_MAX_AGE = 300


def _cached(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def _type_param() -> str | None:
    value = (request.args.get("type") or "").strip() or None
    if value is not None and value not in ConsultationType._value2member_map_:
        raise bad_parameter("type", _("参数 type 只能是：%(choices)s。",
                                      choices=", ".join(t.value for t in ConsultationType)))
    return value


@bp.get("/feeds/consultations.atom")
def consultations_atom():
    """New consultations, windows closing soon, reports and policies, newest first."""
    unit_id = int_param("unit", minimum=1)
    type_ = _type_param()
    args = {k: v for k, v in {"unit": unit_id, "type": type_}.items() if v is not None}
    body = documents.atom(events(unit_id=unit_id, type_=type_),
                          self_url=external_url("feeds.consultations_atom", **args),
                          title=_("公众参与平台：意见征集与采纳反馈"))
    return _cached(body, "application/atom+xml")


@bp.get("/consultations/<int:consultation_id>.ics")
def consultation_ics(consultation_id: int):
    """One consultation's comment window, for a calendar."""
    consultation = public_or_404(Consultation, consultation_id, is_public)
    body = documents.calendar([consultation], name=consultation.title)
    response = _cached(body, "text/calendar")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=consultation-{consultation_id}.ics")
    return response


@bp.get("/consultations.ics")
def consultations_ics():
    """Every window open now or still to come (subscribe to it in a calendar)."""
    open_now = db.session.scalars(queries.public_list_query("open")).all()
    coming = db.session.scalars(
        db.select(Consultation).where(queries.status_clause(State.SCHEDULED, clock.now()))
        .order_by(Consultation.opens_at, Consultation.id)).all()
    body = documents.calendar(open_now + coming, name=_("公众参与平台：正在征求意见"))
    return _cached(body, "text/calendar")
