"""The staff workspace's read models: what needs doing across the domains, and what is late.

A cross-cutting read model: it reads consultations, comments, answers and legal reviews, so it
sits above every domain it reads (and below the views that show it: the dashboard `/staff`, the
legal queue `/staff/legal`). It changes nothing.

The dashboard's figures take the consultations the user may see (`consultations.policy.
staff_query`), already loaded, and add at most one query each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from consult import clock
from consult.answers.models import Disposition
from consult.auth.models import User
from consult.comments.models import Comment, CommentStatus
from consult.comments.moderation import AWAITING
from consult.consultations import legal, windows
from consult.consultations import policy as consultations_policy
from consult.consultations.models import Consultation, State
from consult.extensions import db
from consult.permissions import Perm, unit_ids_with

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
    return windows.report_due_on(consultation.closes_at)


def overdue_reports(consultations: list[Consultation]) -> list[Overdue]:
    """Closed consultations (or ones whose policy came first) with no report past the due day,
    the latest first."""
    waiting = [c for c in consultations if c.status in (State.CLOSED, State.POLICY_ISSUED)
               and not c.report_published]
    today = clock.today()
    late = []
    for consultation in waiting:
        due_on = report_due_on(consultation)
        if today > due_on:
            late.append(Overdue(consultation, due_on, (today - due_on).days))
    return sorted(late, key=lambda o: (-o.days_late, o.consultation.id))


def awaiting_counts(ids: list[int]) -> dict[int, int]:
    """Comments that need an answer (SPEC §6) and have none yet, per consultation."""
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(Comment.consultation_id, db.func.count(Comment.id))
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id.in_(ids), Comment.status == CommentStatus.PUBLISHED,
               Disposition.id.is_(None))
        .group_by(Comment.consultation_id)
    )
    return dict(rows.all())


def legal_unit_ids(user: User) -> set[int] | None:
    """Whose legal queue the user sees: every unit's for a legal reviewer (None), else the
    units where they may see the workspace."""
    if consultations_policy.is_legal_reviewer(user):
        return None
    return unit_ids_with(user, Perm.VIEW_STAFF)


def legal_queue(user: User):
    """Rules and major decisions closed without a legal sign-off that the user may see, oldest
    closing first (a query)."""
    return legal.pending_query(legal_unit_ids(user))


def legal_pending(user: User) -> int:
    return legal.pending_count(legal_unit_ids(user))
