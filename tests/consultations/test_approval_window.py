"""Finding 7 (issue 9): approval re-checks the comment window against the moment it opens.

The minimum was checked only against the typed dates when the draft was saved and submitted, so
an approver approving late opened a rule with a 3-day public window and a start date in the
past, without the published reason SPEC §6 requires. Now a start in the past moves to the moment
of approval; if what remains is below the minimum (working days counted, the partly gone day of
approval not counted: 民法典 Art 201), approval is refused with 409 unless the draft carries the
published reason for a shorter window. A window that has already ended is never approved.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from consult import audit, clock
from consult.consultations import services, windows
from consult.consultations.models import ConsultationType, State
from consult.errors import Conflict
from consult.extensions import db
from tests.conftest import staff_post

D = date.fromisoformat
RULE = ConsultationType.RULE
NORMATIVE = ConsultationType.NORMATIVE_DOCUMENT


def local(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in local time (Asia/Shanghai), as the clock stores it."""
    return datetime.combine(D(day), time(hour, minute), tzinfo=clock.local_zone())


@pytest.fixture
def submitted(make, unit, editor, travel):
    """`submitted(type, opens_on, closes_on, reason=None)`: a draft submitted in good time."""

    def build(type_, opens_on: str, closes_on: str, reason: str | None = None):
        travel(local(opens_on, 9) - (D(opens_on) - D("2026-02-01")))  # weeks before it opens
        c = make.consultation("draft", unit=unit, type=type_.value,
                              opens_at=clock.start_of_day(D(opens_on)),
                              closes_at=clock.end_of_day(D(closes_on)),
                              short_window_reason=reason)
        services.submit(c, actor=editor)
        db.session.commit()
        return c

    return build


def test_a_rule_approved_three_days_before_its_close_is_refused(submitted, approver, travel):
    c = submitted(RULE, "2026-03-02", "2026-04-01")  # 31 days as typed: fine when submitted
    typed_start = c.opens_at
    travel(local("2026-03-29"))
    with pytest.raises(Conflict) as error:
        services.approve(c, actor=approver)
    assert error.value.code == "window_too_short"
    assert "不少于 30 日" in error.value.message and "2026-03-30" in error.value.message
    assert c.state == State.PENDING_APPROVAL and c.opens_at == typed_start
    assert "approve" not in [e.action for e in audit.events_for(c)]


def test_through_the_page_it_is_a_409_with_the_reason_and_nothing_changes(
        client_as, submitted, approver, travel):
    c = submitted(RULE, "2026-03-02", "2026-04-01")
    travel(local("2026-03-29"))
    response = staff_post(client_as(approver), f"/staff/consultations/{c.id}/approve")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "不少于 30 日" in html and "理由" in html
    db.session.expire_all()
    assert c.state == State.PENDING_APPROVAL
    assert client_as().get(f"/consultations/{c.id}").status_code == 404  # never went public


def test_with_the_published_reason_it_opens_now_not_in_the_past(client_as, submitted, approver,
                                                                 travel):
    c = submitted(RULE, "2026-03-02", "2026-04-01", reason="上位法修改，须于4月初出台。")
    moment = travel(local("2026-03-29"))
    services.approve(c, actor=approver)
    db.session.commit()
    assert c.opens_at == moment and c.status == State.OPEN
    event = audit.events_for(c)[-1]
    assert event.action == "approve"
    assert event.detail["opens_at_moved_from"] == clock.start_of_day(D("2026-03-02")).isoformat()
    html = client_as().get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "上位法修改，须于4月初出台。" in html


def test_a_past_start_with_enough_time_left_moves_to_the_approval(submitted, approver, travel):
    c = submitted(NORMATIVE, "2026-03-02", "2026-03-31")
    moment = travel(local("2026-03-04", 15, 30))
    services.approve(c, actor=approver)
    assert c.opens_at == moment and c.status == State.OPEN
    assert c.closes_at == clock.end_of_day(D("2026-03-31"))


def test_a_future_start_is_left_as_typed(submitted, approver, travel):
    c = submitted(NORMATIVE, "2026-03-02", "2026-03-31")
    travel(local("2026-02-27"))
    services.approve(c, actor=approver)
    assert c.opens_at == clock.start_of_day(D("2026-03-02")) and c.status == State.SCHEDULED
    assert "opens_at_moved_from" not in (audit.events_for(c)[-1].detail or {})


def test_working_days_are_counted_across_a_holiday(submitted, approver, travel):
    c = submitted(NORMATIVE, "2026-09-21", "2026-10-12")
    travel(local("2026-09-29"))
    remaining = (D("2026-09-30"), D("2026-10-12"))
    assert windows.working_days(*remaining) < 7 <= windows.calendar_days(*remaining)
    with pytest.raises(Conflict) as error:
        services.approve(c, actor=approver)
    assert "不少于 7 个工作日" in error.value.message


def test_the_day_of_a_late_approval_is_not_counted(submitted, approver, travel):
    """Seven working days from Monday 2 March to Tuesday 10 March 2026: approved at midnight
    they are all there; approved at nine on the Monday only six whole ones remain."""
    assert windows.working_days(D("2026-03-02"), D("2026-03-10")) == 7
    at_nine = submitted(NORMATIVE, "2026-03-02", "2026-03-10")
    travel(local("2026-03-02", 9))
    with pytest.raises(Conflict):
        services.approve(at_nine, actor=approver)
    at_midnight = submitted(NORMATIVE, "2026-03-02", "2026-03-10")
    travel(local("2026-03-02", 0))
    services.approve(at_midnight, actor=approver)
    assert at_midnight.status == State.OPEN


def test_a_window_that_has_ended_is_never_approved(submitted, approver, travel):
    c = submitted(NORMATIVE, "2026-03-02", "2026-03-10", reason="紧急。")
    travel(local("2026-03-11"))
    with pytest.raises(Conflict) as error:
        services.approve(c, actor=approver)
    assert error.value.code == "window_ended"
    assert c.state == State.PENDING_APPROVAL
