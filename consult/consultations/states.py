"""The consultation state machine (SPEC §3): which transitions exist, and the clock-driven states.

`State.SCHEDULED` is stored for every approved consultation; whether it is scheduled, open or
closed right now is read off `opens_at`/`closes_at` and the clock, so no cron job is needed.

Steps that keep the stored state (they are still checked here, and audited):
- `extend`: a later `closes_at` while scheduled or open, with a public notice (an `Extension`
  row). Closing early has no transition at all: a window only ever gets longer.
- `new_version`: a revised draft (version n+1) while open or closed, before the report. With a
  new window it is a *second round*: the round runs from the day the version is published to
  its new closing date (minimum rules applied, `consult.consultations.windows`), recorded as an
  extension with the reason 「第二轮征求意见」; a closed consultation is open again until then.
  New comments point at the new version's articles; earlier ones keep theirs.
The legality review (合法性审核) of rules and major decisions is a gate, not a state: a
consultation needs an approved `LegalReview` before its final policy can be linked
(`consult.consultations.legal`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select

from consult.consultations.models import Consultation, State

# (action, from public status) -> to stored state. The one table of allowed transitions.
TRANSITIONS: dict[tuple[str, State], State] = {
    ("submit", State.DRAFT): State.PENDING_APPROVAL,
    ("return", State.PENDING_APPROVAL): State.DRAFT,
    ("approve", State.PENDING_APPROVAL): State.SCHEDULED,
    ("publish_report", State.CLOSED): State.REPORT_PUBLISHED,
    # A policy linked before the report: allowed, and flagged publicly.
    ("publish_report", State.POLICY_ISSUED): State.POLICY_ISSUED,
    ("link_policy", State.CLOSED): State.POLICY_ISSUED,
    ("link_policy", State.REPORT_PUBLISHED): State.POLICY_ISSUED,
    ("withdraw", State.DRAFT): State.WITHDRAWN,
    ("withdraw", State.PENDING_APPROVAL): State.WITHDRAWN,
    ("withdraw", State.SCHEDULED): State.WITHDRAWN,
    ("withdraw", State.OPEN): State.WITHDRAWN,
    ("withdraw", State.CLOSED): State.WITHDRAWN,
    ("extend", State.SCHEDULED): State.SCHEDULED,
    ("extend", State.OPEN): State.SCHEDULED,
    ("new_version", State.OPEN): State.SCHEDULED,
    ("new_version", State.CLOSED): State.SCHEDULED,
}

ACTIONS = sorted({action for action, _ in TRANSITIONS})

PUBLIC_STATES = (
    State.SCHEDULED,
    State.OPEN,
    State.CLOSED,
    State.REPORT_PUBLISHED,
    State.POLICY_ISSUED,
    State.WITHDRAWN,
)


def public_clause():
    """A SQL condition for the consultations the public may see: a draft withdrawn before it was
    ever approved was never public, and stays unpublished."""
    C = Consultation
    return or_(
        C.state.in_([s for s in PUBLIC_STATES if s != State.WITHDRAWN]),
        and_(C.state == State.WITHDRAWN, C.approved_at.is_not(None)),
    )


def status_of(consultation: Consultation, now: datetime) -> State:
    """The public status of `consultation` at `now`."""
    if consultation.state != State.SCHEDULED:
        return consultation.state
    if now < consultation.opens_at:
        return State.SCHEDULED
    if now <= consultation.closes_at:
        return State.OPEN
    return State.CLOSED


def target_state(action: str, status: State) -> State | None:
    """The stored state `action` leads to from `status`, or None when it is not allowed."""
    return TRANSITIONS.get((action, status))


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
    """The condition for the public list filter `status` (SPEC §5): open, closed, reported, all."""
    from consult.answers.models import Report

    reported = exists(
        select(Report.id).where(Report.consultation_id == Consultation.id,
                                Report.published_at.is_not(None))
    )
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


LIST_FILTERS = ("open", "closed", "reported", "all")
