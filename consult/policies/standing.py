"""A policy's standing today, read off its records and the clock — nothing here writes.

- validity: repealed or replaced from the change's date; 已失效 the day after its 有效期 unless
  renewed; 已修改 once an amendment takes effect; else 现行有效 (`validity_on`, and the same
  decision in SQL for the library's filter, `validity_clause`);
- history both ways: what later documents did to it, and what it did to others;
- filing (备案): due within POLICY_FILING_DAYS of issue for rules and normative documents;
  late when filed after, overdue while not filed past it;
- 三同步: an interpretation is due within INTERPRETATION_DUE_WORKING_DAYS working days of the
  policy's publication; `interpretation_overdue` flags it, `overdue_interpretations` lists them
  for the unit's workspace and the platform office (its reminder mail reads this list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, exists, not_

from consult import clock
from consult.consultations.models import ConsultationType
from consult.consultations.windows import is_working_day
from consult.extensions import db
from consult.policies.models import ChangeKind, Interpretation, Policy, PolicyChange, Validity

ENDING = (ChangeKind.REPEAL, ChangeKind.REPLACE)
FILING_TYPES = (ConsultationType.RULE, ConsultationType.NORMATIVE_DOCUMENT)


def validity_on(policy: Policy, day: date) -> Validity:
    """The validity a reader is shown on `day`."""
    done = [c for c in policy.changes if c.effective_on <= day]
    if any(c.kind in ENDING for c in done):
        return Validity.REPEALED
    if policy.valid_until is not None and day > policy.valid_until:
        return Validity.EXPIRED
    if any(c.kind == ChangeKind.AMEND for c in done):
        return Validity.AMENDED
    return Validity.IN_FORCE


def validity(policy: Policy) -> Validity:
    return validity_on(policy, clock.today())


def _changed(kinds, day: date):
    return exists().where(PolicyChange.policy_id == Policy.id, PolicyChange.kind.in_(kinds),
                          PolicyChange.effective_on <= day)


def validity_clause(wanted: Validity, day: date):
    """A WHERE clause on Policy: the policies whose validity on `day` is `wanted`."""
    repealed = _changed(ENDING, day)
    expired = and_(Policy.valid_until.is_not(None), Policy.valid_until < day)
    amended = _changed((ChangeKind.AMEND,), day)
    if wanted == Validity.REPEALED:
        return repealed
    if wanted == Validity.EXPIRED:
        return and_(not_(repealed), expired)
    if wanted == Validity.AMENDED:
        return and_(not_(repealed), not_(expired), amended)
    return and_(not_(repealed), not_(expired), not_(amended))


@dataclass
class HistoryEntry:
    """One line of a policy's history: what happened on a date, and the other document."""

    on: date
    kind: ChangeKind
    incoming: bool  # True: done to this policy; False: this policy did it to `other`
    other: Policy | None
    document: str | None
    note: str | None
    valid_until: date | None
    pending: bool  # takes effect later


def history(policy: Policy, *, public: bool = True) -> list[HistoryEntry]:
    """Both ways, by date: 修改/废止/被…替代/延续 of this policy, and what it did to others."""
    today = clock.today()
    entries = [HistoryEntry(c.effective_on, c.kind, True, c.by_policy, c.document, c.note,
                            c.valid_until, c.effective_on > today) for c in policy.changes]
    entries += [HistoryEntry(c.effective_on, c.kind, False, c.policy, None, c.note,
                             c.valid_until, c.effective_on > today) for c in policy.changes_made]
    if public:
        for entry in entries:
            if entry.other is not None and entry.other.published_at is None:
                entry.other = None
    return sorted(entries, key=lambda e: (e.on, not e.incoming))


def replaced_by(policy: Policy) -> Policy | None:
    """The published policy that took this one's place, if any."""
    for change in policy.changes:
        if change.kind == ChangeKind.REPLACE and change.by_policy is not None \
                and change.by_policy.published_at is not None:
            return change.by_policy
    return None


# --- filing (备案) -------------------------------------------------------------------------------


def filing_required(policy: Policy) -> bool:
    return policy.type in FILING_TYPES


def filing_due_on(policy: Policy) -> date | None:
    if not filing_required(policy):
        return None
    return policy.issued_on + timedelta(days=current_app.config["POLICY_FILING_DAYS"])


def filing_state(policy: Policy, today: date | None = None) -> str:
    """not_required, filed, filed_late, due (not yet, still in time) or overdue."""
    due = filing_due_on(policy)
    if due is None:
        return "not_required"
    if policy.filed_on is not None:
        return "filed_late" if policy.filed_on > due else "filed"
    return "overdue" if (today or clock.today()) > due else "due"


# --- 三同步: the interpretation within working days ---------------------------------------------


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (weekends, holidays and 调休 as the calendar says)."""
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        counted += is_working_day(day)
    return day


def interpretation_due_on(policy: Policy) -> date | None:
    if policy.published_at is None:
        return None
    return add_working_days(clock.local_date(policy.published_at),
                            current_app.config["INTERPRETATION_DUE_WORKING_DAYS"])


def interpretation_overdue(policy: Policy, today: date | None = None) -> bool:
    """Published, no interpretation published, and the due day has passed."""
    due = interpretation_due_on(policy)
    if due is None or any(i.published_at for i in policy.interpretations):
        return False
    return (today or clock.today()) > due


def overdue_interpretations(unit_ids: set[int] | None = None,
                            today: date | None = None) -> list[Policy]:
    """Published policies without a published interpretation past the 三同步 deadline, oldest
    first — for the unit's workspace and the platform office (`unit_ids` None: every unit)."""
    query = (db.select(Policy).where(
        Policy.published_at.is_not(None),
        not_(exists().where(Interpretation.policy_id == Policy.id,
                            Interpretation.published_at.is_not(None))))
        .order_by(Policy.published_at, Policy.id))
    if unit_ids is not None:
        query = query.where(Policy.unit_id.in_(unit_ids or {0}))
    today = today or clock.today()
    return [p for p in db.session.scalars(query) if interpretation_overdue(p, today)]


def filing_overdue(unit_ids: set[int] | None = None, today: date | None = None) -> list[Policy]:
    """Published rules and normative documents not filed past their due day."""
    query = (db.select(Policy).where(Policy.published_at.is_not(None),
                                     Policy.filed_on.is_(None), Policy.type.in_(FILING_TYPES))
             .order_by(Policy.issued_on, Policy.id))
    if unit_ids is not None:
        query = query.where(Policy.unit_id.in_(unit_ids or {0}))
    today = today or clock.today()
    return [p for p in db.session.scalars(query) if filing_state(p, today) == "overdue"]


__all__ = ["HistoryEntry", "add_working_days", "filing_due_on", "filing_overdue",
           "filing_required", "filing_state", "history", "interpretation_due_on",
           "interpretation_overdue", "overdue_interpretations", "replaced_by", "validity",
           "validity_clause", "validity_on"]
