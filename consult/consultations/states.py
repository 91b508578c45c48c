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

Pure: states, dates and the clock's `now` in, a status out; no model is imported here (the
model imports its `State` from here, and `queries.py` turns statuses into SQL).
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l

from consult import labels


class State(enum.StrEnum):
    """The lifecycle of SPEC §3. OPEN and CLOSED are never stored: they follow the clock."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    SCHEDULED = "scheduled"  # stored for every approved consultation until the report
    OPEN = "open"
    CLOSED = "closed"
    REPORT_PUBLISHED = "report_published"
    POLICY_ISSUED = "policy_issued"
    WITHDRAWN = "withdrawn"


STATE_LABELS = labels.define("state", {
    State.DRAFT: _l("草稿"),
    State.PENDING_APPROVAL: _l("待审核"),
    State.SCHEDULED: _l("待发布"),
    State.OPEN: _l("征集中"),
    State.CLOSED: _l("已截止"),
    State.REPORT_PUBLISHED: _l("已反馈"),
    State.POLICY_ISSUED: _l("已出台"),
    State.WITHDRAWN: _l("已撤回"),
})


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


def status_of(state: State, opens_at: datetime, closes_at: datetime, now: datetime) -> State:
    """The public status at `now` of a consultation stored in `state` with this window."""
    if state != State.SCHEDULED:
        return state
    if now < opens_at:
        return State.SCHEDULED
    if now <= closes_at:
        return State.OPEN
    return State.CLOSED


def next_change(state: State, opens_at: datetime, closes_at: datetime,
                now: datetime) -> datetime | None:
    """When the public status of a consultation stored in `state` next changes by the clock
    alone (it opens, or its window ends), or None: a page showing it is good until then."""
    if state != State.SCHEDULED:
        return None
    if now < opens_at:
        return opens_at
    if now <= closes_at:
        return closes_at
    return None


def target_state(action: str, status: State) -> State | None:
    """The stored state `action` leads to from `status`, or None when it is not allowed."""
    return TRANSITIONS.get((action, status))


# The public list's status filter (SPEC §5): open, closed, reported, all (`queries.list_filter`).
LIST_FILTERS = ("open", "closed", "reported", "all")
