"""What the feed and the e-mail alerts announce: public events, newest first.

An event is a consultation that opened (its window began), one whose window closes within
CLOSING_SOON_DAYS, an adoption report published, a final policy published. Opening and closing
follow the clock (no one "publishes" them), so events are read off the dates, not recorded.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consult import clock, labels
from consult.consultations.models import Consultation
from consult.consultations.queries import public_clause, status_clause
from consult.consultations.states import State
from consult.extensions import db
from consult.policies.models import Policy

CLOSING_SOON_DAYS = 3
FEED_DAYS = 90  # how far back the feed looks


class EventKind(enum.StrEnum):
    OPENED = "opened"
    CLOSING = "closing"
    REPORT = "report"
    POLICY = "policy"


EVENT_LABELS = labels.define("feed_event", {
    EventKind.OPENED: _l("开始征求意见"),
    EventKind.CLOSING: _l("即将截止"),
    EventKind.REPORT: _l("公布意见采纳情况"),
    EventKind.POLICY: _l("正式文件发布"),
})


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime
    consultation: Consultation | None
    policy: Policy | None = None

    @property
    def key(self) -> str:
        """Stable across requests: the feed entry's id."""
        if self.policy is not None:
            return f"policy-{self.policy.id}"
        return f"consultation-{self.consultation.id}-{self.kind.value}"

    @property
    def unit(self):
        return self.policy.unit if self.policy is not None else self.consultation.unit


def events(*, since: datetime | None = None, until: datetime | None = None,
           unit_id: int | None = None, type_: str | None = None,
           consultation_ids=None, limit: int = 50) -> list[Event]:
    """Public events in (since, until], newest first (`consultation_ids`: a subquery that
    narrows them, e.g. the search's matches of a keyword)."""
    now = clock.now()
    until = min(until or now, now)
    since = since or (until - timedelta(days=FEED_DAYS))
    C = Consultation

    def consultations(*conditions):
        query = select(C).where(public_clause(), *conditions).options(db.selectinload(C.unit))
        if unit_id is not None:
            query = query.where(C.unit_id == unit_id)
        if type_ is not None:
            query = query.where(C.type == type_)
        if consultation_ids is not None:
            query = query.where(C.id.in_(consultation_ids))
        return db.session.scalars(query.limit(limit)).all()

    found: list[Event] = []
    for c in consultations(C.opens_at > since, C.opens_at <= until,
                           C.state != State.DRAFT):
        found.append(Event(EventKind.OPENED, c.opens_at, c))
    soon = timedelta(days=CLOSING_SOON_DAYS)
    for c in consultations(status_clause(State.OPEN, until), C.closes_at <= until + soon,
                           C.closes_at > since + soon):
        found.append(Event(EventKind.CLOSING, max(c.closes_at - soon, c.opens_at), c))
    for c in consultations(C.report_published_at > since, C.report_published_at <= until):
        found.append(Event(EventKind.REPORT, c.report_published_at, c))
    P = Policy
    query = (select(P).where(P.published_at > since, P.published_at <= until)
             .options(db.selectinload(P.unit), db.selectinload(P.consultation)))
    if unit_id is not None:
        query = query.where(P.unit_id == unit_id)
    if type_ is not None or consultation_ids is not None:
        query = query.join(C, C.id == P.consultation_id)
        if type_ is not None:
            query = query.where(C.type == type_)
        if consultation_ids is not None:
            query = query.where(C.id.in_(consultation_ids))
    for p in db.session.scalars(query.limit(limit)):
        found.append(Event(EventKind.POLICY, p.published_at, p.consultation, p))
    found.sort(key=lambda e: (e.at, e.key), reverse=True)
    return found[:limit]
