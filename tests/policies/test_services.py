"""Final policy and interpretation, linked to the draft."""

from datetime import date

import pytest

from consult.consultations.models import State
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.policies import services
from consult.policies.models import InterpretationKind


def policy_input(**kw):
    values = dict(title="郑州市公共数据开放管理办法", document_number="郑政〔2026〕12号",
                  issued_on=date(2026, 11, 1), effective_on=date(2026, 12, 1), text="第一条 ……")
    values.update(kw)
    return services.PolicyInput(**values)


def test_policy_cannot_be_linked_while_the_window_is_open(make):
    c = make.consultation("open")
    with pytest.raises(InvalidTransition):
        services.create_policy(c, policy_input(), actor=make.user("approver", c.unit))


def test_publishing_the_policy_issues_it_with_its_interpretation(make):
    c = make.consultation("report_published")
    approver = make.user("approver", c.unit)
    policy = services.create_policy(c, policy_input(), actor=approver)
    interpretation = services.add_interpretation(
        policy, title="解读", kind=InterpretationKind.QA, body="问：……答：……", actor=approver)
    assert services.policy_flags(policy)["interpretation_pending"]
    services.publish_policy(policy, actor=approver)
    assert c.status == State.POLICY_ISSUED
    assert interpretation.published_at == policy.published_at
    assert not services.policy_flags(policy)["interpretation_pending"]
    with pytest.raises(Conflict):
        services.publish_policy(policy, actor=approver)
    with pytest.raises(Conflict):
        services.update_policy(policy, policy_input(title="改"), actor=approver)


def test_policy_before_the_report_is_flagged(make):
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    policy = services.create_policy(c, policy_input(), actor=approver)
    services.publish_policy(policy, actor=approver)
    assert c.status == State.POLICY_ISSUED
    assert services.policy_flags(policy)["before_report"]


def test_one_policy_per_consultation_and_dates_in_order(make):
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    with pytest.raises(ValidationFailed):
        services.create_policy(c, policy_input(effective_on=date(2026, 1, 1)), actor=approver)
    services.create_policy(c, policy_input(), actor=approver)
    with pytest.raises(Conflict):
        services.create_policy(c, policy_input(), actor=approver)
