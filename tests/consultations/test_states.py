"""The state machine: every allowed and every refused transition, through the one service."""

import pytest

from consult.consultations import services
from consult.consultations.models import State
from consult.consultations.states import ACTIONS, TRANSITIONS
from consult.errors import InvalidTransition

STATES = [s for s in State]


@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_transition_table(make, status, action):
    approver = make.user("approver")
    consultation = make.consultation(status, unit=approver.memberships[0].unit)
    if status == State.OPEN or status == State.CLOSED or status == State.SCHEDULED:
        assert consultation.status == status
    expected = TRANSITIONS.get((action, status))
    if expected is None:
        with pytest.raises(InvalidTransition):
            services.transition(consultation, action, actor=approver, reason="理由")
        assert consultation.status == status
    else:
        services.transition(consultation, action, actor=approver, reason="理由")
        assert consultation.state == expected


def test_clock_drives_open_and_closed(make, travel):
    consultation = make.consultation(State.SCHEDULED)
    assert consultation.status == State.SCHEDULED
    travel(consultation.opens_at)
    assert consultation.status == State.OPEN
    travel(consultation.closes_at)
    assert consultation.status == State.OPEN  # the last instant still counts
    from datetime import timedelta

    travel(consultation.closes_at + timedelta(seconds=1))
    assert consultation.status == State.CLOSED
