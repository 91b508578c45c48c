"""The public's queries of consultations: which ones it may see, and the one list of them.

The home page, the list page (`/consultations`) and the API (`/api/v1/consultations`) list
consultations with `public_list_query`, so they agree on what is listed and in which order:
open ones closing soonest first; every other list the latest closing first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_

from consult import clock
from consult.auth.models import Unit
from consult.consultations.models import Consultation, ConsultationType
from consult.consultations.states import LIST_FILTERS, PUBLIC_STATES, State
from consult.extensions import db

__all__ = ["LIST_FILTERS", "list_filter", "next_change", "public_clause", "public_list_query",
           "public_units", "recently_reported", "status_clause"]


def public_clause():
    """A SQL condition for the consultations the public may see: a draft withdrawn before it was
    ever approved was never public, and stays unpublished."""
    C = Consultation
    return or_(
        C.state.in_([s for s in PUBLIC_STATES if s != State.WITHDRAWN]),
        and_(C.state == State.WITHDRAWN, C.approved_at.is_not(None)),
    )


def status_clause(status: State, now: datetime):
    """A SQL condition matching consultations whose public status is `status` at `now`."""
    C = Consultation
    if status == State.SCHEDULED:
        return and_(C.state == State.SCHEDULED, C.opens_at > now)
    if status == State.OPEN:
        return and_(C.state == State.SCHEDULED, C.opens_at <= now, C.closes_at >= now)
    if status == State.CLOSED:
        return and_(C.state == State.SCHEDULED, C.closes_at < now)
    return C.state == status


def list_filter(name: str, now: datetime):
    """The condition for the public list filter `status` (SPEC §5): open, closed, reported, all.
    "closed" includes a policy issued before its report (the report is still owed)."""
    reported = Consultation.report_published_at.is_not(None)
    if name == "open":
        return status_clause(State.OPEN, now)
    if name == "closed":
        return or_(
            status_clause(State.CLOSED, now),
            and_(Consultation.state == State.POLICY_ISSUED, ~reported),
        )
    if name == "reported":
        return reported
    if name == "all":
        return public_clause()
    raise ValueError(name)


def public_list_query(status: str, *, unit_id: int | None = None, type_: str | None = None,
                      q: str | None = None):
    """Public consultations matching the SPEC §5 filters, in the one order of every public
    list: open ones by the closing date, soonest first; the others the latest closing first."""
    C = Consultation
    query = db.select(C).where(public_clause(), list_filter(status, clock.now()))
    if unit_id is not None:
        query = query.where(C.unit_id == unit_id)
    if type_:
        query = query.where(C.type == ConsultationType(type_))
    if q:
        query = query.where(or_(C.title.icontains(q, autoescape=True),
                                C.summary.icontains(q, autoescape=True)))
    if status == "open":
        return query.order_by(C.closes_at, C.id)
    return query.order_by(C.closes_at.desc(), C.id.desc())


def public_units() -> list[Unit]:
    """Units with at least one public consultation (the list page's unit filter)."""
    return db.session.scalars(
        db.select(Unit)
        .where(db.select(Consultation.id).where(Consultation.unit_id == Unit.id,
                                                public_clause()).exists())
        .order_by(Unit.name)
    ).all()


def recently_reported(limit: int) -> list[Consultation]:
    """Public consultations whose report came out most recently (the home page)."""
    return db.session.scalars(
        db.select(Consultation)
        .where(Consultation.report_published_at.is_not(None), public_clause())
        .order_by(Consultation.report_published_at.desc(), Consultation.id.desc())
        .limit(limit)
    ).all()


def next_change(now: datetime) -> datetime | None:
    """The next moment any public consultation opens or its window ends (`states.next_change`
    for all of them at once): a list of consultations is good until then."""
    C = Consultation
    scheduled = C.state == State.SCHEDULED
    opening = db.select(db.func.min(C.opens_at)).where(scheduled, C.opens_at > now)
    closing = db.select(db.func.min(C.closes_at)).where(scheduled, C.closes_at >= now)
    moments = db.session.execute(db.select(opening.scalar_subquery(),
                                           closing.scalar_subquery())).one()
    return min((m for m in moments if m is not None), default=None)
