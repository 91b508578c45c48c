"""Figures of a unit's workspace (`/staff`): what needs doing, and what is late.

Every function takes the consultations the user may see (`policy.staff_query`), already loaded,
and adds at most one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

from consult import clock
from consult.answers.models import Report
from consult.comments.models import Comment
from consult.comments.moderation import AWAITING
from consult.consultations.models import Consultation, State
from consult.extensions import db

CLOSING_SOON_DAYS = 7  # "this week": the window closes within the next seven days


def moderation_counts(ids: list[int]) -> dict[int, int]:
    """Comments awaiting moderation, per consultation."""
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(Comment.consultation_id, db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(ids), Comment.status.in_(AWAITING))
        .group_by(Comment.consultation_id)
    )
    return dict(rows.all())


def closing_soon(consultations: list[Consultation]) -> list[Consultation]:
    """Open windows that close within the week (today included), soonest first."""
    last = clock.today() + timedelta(days=CLOSING_SOON_DAYS - 1)
    return sorted(
        (c for c in consultations
         if c.status == State.OPEN and clock.local_date(c.closes_at) <= last),
        key=lambda c: (c.closes_at, c.id),
    )


@dataclass
class Overdue:
    consultation: Consultation
    due_on: date
    days_late: int


def report_due_on(consultation: Consultation) -> date:
    """The last day for the report: REPORT_DUE_DAYS after the window's last day."""
    days = current_app.config["REPORT_DUE_DAYS"]
    return clock.local_date(consultation.closes_at) + timedelta(days=days)


def overdue_reports(consultations: list[Consultation]) -> list[Overdue]:
    """Closed consultations (or ones whose policy came first) with no report past the due day,
    the latest first."""
    waiting = [c for c in consultations if c.status in (State.CLOSED, State.POLICY_ISSUED)]
    if not waiting:
        return []
    reported = set(db.session.scalars(
        db.select(Report.consultation_id).where(
            Report.consultation_id.in_([c.id for c in waiting]), Report.published_at.is_not(None)
        )
    ))
    today = clock.today()
    late = []
    for consultation in waiting:
        due_on = report_due_on(consultation)
        if consultation.id not in reported and today > due_on:
            late.append(Overdue(consultation, due_on, (today - due_on).days))
    return sorted(late, key=lambda o: (-o.days_late, o.consultation.id))
