"""Approval and the legality review (F5): editor submits, approver approves or returns with a
reason, nobody approves their own draft; rules and major decisions need a legal reviewer's
sign-off (合法性审核) before the final policy can be linked; every step is in the audit log."""

from __future__ import annotations

import pytest

from consult import audit, clock
from consult.consultations import legal, services
from consult.consultations.models import LegalDecision, LegalReview, State
from consult.errors import Conflict, InvalidTransition, NotAllowed
from consult.extensions import db
from consult.policies import services as policy_services
from consult.policies.models import Policy
from tests.conftest import staff_post
from tests.factories import draft_input


@pytest.fixture
def legal_office(make):
    return make.unit("市司法局", is_legal_office=True)


@pytest.fixture
def reviewer(make, legal_office):
    """A legal reviewer of another unit: the legal office reviews every unit's rules."""
    return make.user("legal_reviewer", legal_office, name="褚法审")


@pytest.fixture
def rule(make, unit):
    return make.consultation("closed", unit=unit, type="rule", title="城市绿化管理办法")


def _policy_input():
    return policy_services.PolicyInput(
        title="城市绿化管理办法", document_number="市政府令第 1 号",
        issued_on=clock.today(), effective_on=None, text="第一条 为了……")


def _review(client, c, decision="approved", opinion="经审核，未发现与上位法相抵触的内容。"):
    return staff_post(client, f"/staff/consultations/{c.id}/legal-review",
                 {"legal-decision": decision, "legal-opinion": opinion})


# --- approval ---------------------------------------------------------------------------------


def test_submit_approve_and_return_are_audited(client_as, editor, approver, unit):
    c = services.create_draft(unit, draft_input(), actor=editor)
    client = client_as(editor)
    assert staff_post(client, f"/staff/consultations/{c.id}/submit").status_code == 302
    returned = staff_post(client_as(approver), f"/staff/consultations/{c.id}/return",
                     {"return-reason": "第二条适用范围过宽。"})
    assert returned.status_code == 302 and c.state == State.DRAFT
    assert staff_post(client, f"/staff/consultations/{c.id}/submit").status_code == 302
    approving = staff_post(client_as(approver), f"/staff/consultations/{c.id}/approve")
    assert approving.status_code == 302
    assert c.state == State.SCHEDULED
    assert [e.action for e in audit.events_for(c)] == [
        "create", "submit", "return", "submit", "approve"]
    html = client.get(f"/staff/consultations/{c.id}").get_data(as_text=True)
    assert "第二条适用范围过宽。" in html and "退回修改" in html and "审核通过" in html


def test_nobody_approves_their_own_draft(client_as, approver, unit):
    c = services.create_draft(unit, draft_input(), actor=approver)
    services.submit(c, actor=approver)
    approving = staff_post(client_as(approver), f"/staff/consultations/{c.id}/approve")
    assert approving.status_code == 403
    with pytest.raises(NotAllowed):
        services.approve(c, actor=approver)
    assert c.state == State.PENDING_APPROVAL


# --- the legality review ----------------------------------------------------------------------


def test_a_legal_reviewer_of_another_unit_signs_off(client_as, reviewer, rule):
    client = client_as(reviewer)
    page = client.get(f"/staff/consultations/{rule.id}").get_data(as_text=True)
    assert "合法性审核" in page and "提交审核结论" in page
    assert _review(client, rule).status_code == 302
    [review] = rule.legal_reviews
    assert (review.decision, review.reviewer_id) == (LegalDecision.APPROVED, reviewer.id)
    assert legal.is_signed_off(rule) and legal.review_state(rule) == "approved"
    assert rule.state == State.SCHEDULED  # a gate, not a state
    event = audit.events_for(rule)[-1]
    assert (event.action, event.actor_id) == ("legal_sign_off", reviewer.id)
    assert event.reason == "经审核，未发现与上位法相抵触的内容。"
    page = client.get(f"/staff/consultations/{rule.id}").get_data(as_text=True)
    assert "合法性审核通过" in page and "褚法审" in page and "提交审核结论" not in page


def test_return_needs_an_opinion_then_the_reviewer_may_sign_off_later(client_as, reviewer, rule):
    client = client_as(reviewer)
    response = _review(client, rule, "returned", "  ")
    assert response.status_code == 422
    assert 'id="legal-opinion-error"' in response.get_data(as_text=True)
    assert not rule.legal_reviews
    assert _review(client, rule, "returned", "第十条罚款幅度超出上位法规定。").status_code == 302
    assert legal.review_state(rule) == "returned" and not legal.is_signed_off(rule)
    queue = client.get("/staff/legal").get_data(as_text=True)
    assert rule.title in queue and "第十条罚款幅度超出上位法规定。" in queue
    assert _review(client, rule).status_code == 302
    assert legal.is_signed_off(rule)
    assert [e.action for e in audit.events_for(rule)][-2:] == ["legal_return", "legal_sign_off"]
    assert rule.title not in client.get("/staff/legal").get_data(as_text=True)
    assert _review(client, rule).status_code == 409  # signed off once is enough


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_a_decision_must_be_chosen(client_as, reviewer, rule, decision):
    assert _review(client_as(reviewer), rule, decision).status_code == 422
    assert not rule.legal_reviews


def test_editors_and_approvers_may_not_sign_off(client_as, editor, approver, rule):
    assert _review(client_as(editor), rule).status_code == 403
    assert _review(client_as(approver), rule).status_code == 403
    assert not rule.legal_reviews
    page = client_as(approver).get(f"/staff/consultations/{rule.id}").get_data(as_text=True)
    assert "合法性审核" in page and "提交审核结论" not in page


def test_the_author_may_not_review_their_own_draft(make, unit, reviewer):
    c = make.consultation("closed", unit=unit, type="rule", created_by_id=reviewer.id)
    with pytest.raises(NotAllowed):
        legal.review(c, LegalDecision.APPROVED, None, actor=reviewer)


def test_the_review_comes_after_the_window(client_as, make, unit, reviewer):
    c = make.consultation("open", unit=unit, type="major_decision")
    assert _review(client_as(reviewer), c).status_code == 409
    with pytest.raises(InvalidTransition):
        legal.review(c, LegalDecision.APPROVED, None, actor=reviewer)


def test_a_normative_document_needs_no_legal_review(client_as, make, unit, reviewer):
    c = make.consultation("closed", unit=unit, type="normative_document")
    with pytest.raises(Conflict) as error:
        legal.review(c, LegalDecision.APPROVED, None, actor=reviewer)
    assert error.value.code == "legal_review_not_required"
    assert _review(client_as(reviewer), c).status_code == 403  # not theirs to see at all
    assert legal.review_state(c) == "not_required"


def test_unknown_consultation_is_404(client_as, reviewer):
    assert _review(client_as(reviewer), type("C", (), {"id": 999999})()).status_code == 404


# --- the policy gate --------------------------------------------------------------------------


def test_no_policy_for_a_rule_without_sign_off(client_as, approver, reviewer, rule):
    with pytest.raises(Conflict) as error:
        policy_services.create_policy(rule, _policy_input(), actor=approver)
    assert error.value.code == "legal_review_required"
    response = staff_post(client_as(approver), f"/staff/consultations/{rule.id}/policy/new", {
        "title": "城市绿化管理办法", "document_number": "市政府令第 1 号",
        "issued_on": clock.today().isoformat(), "effective_on": "", "text": "第一条 为了……",
    })
    assert response.status_code == 409
    assert not db.session.scalars(db.select(Policy)).all()

    legal.review(rule, LegalDecision.APPROVED, "同意。", actor=reviewer)
    policy = policy_services.create_policy(rule, _policy_input(), actor=approver)
    policy_services.publish_policy(policy, actor=approver)
    assert rule.status == State.POLICY_ISSUED


def test_a_returned_review_does_not_open_the_gate(approver, reviewer, make, unit):
    c = make.consultation("report_published", unit=unit, type="major_decision")
    legal.review(c, LegalDecision.RETURNED, "程序不完备。", actor=reviewer)
    with pytest.raises(Conflict):
        policy_services.create_policy(c, _policy_input(), actor=approver)


def test_a_normative_document_links_its_policy_without_review(approver, make, unit):
    c = make.consultation("closed", unit=unit, type="normative_document")
    policy = policy_services.create_policy(c, _policy_input(), actor=approver)
    policy_services.publish_policy(policy, actor=approver)
    assert c.status == State.POLICY_ISSUED


# --- the queue --------------------------------------------------------------------------------


def test_the_legal_queue(client_as, make, unit, reviewer, approver, rule):
    other_unit = make.unit("市城市管理局")
    major = make.consultation("report_published", unit=other_unit, type="major_decision",
                              title="垃圾分类实施方案")
    make.consultation("closed", unit=unit, type="normative_document", title="规范性文件甲")
    make.consultation("open", unit=unit, type="rule", title="尚在征集的规章")
    signed = make.consultation("closed", unit=other_unit, type="rule", title="已审核的规章")
    db.session.add(LegalReview(consultation=signed, reviewer_id=reviewer.id,
                               decision=LegalDecision.APPROVED, at=clock.now()))
    db.session.flush()

    html = client_as(reviewer).get("/staff/legal").get_data(as_text=True)
    assert rule.title in html and major.title in html
    for title in ("规范性文件甲", "尚在征集的规章", "已审核的规章"):
        assert title not in html
    # The unit's own staff see their own items waiting, without the review form.
    html = client_as(approver).get("/staff/legal").get_data(as_text=True)
    assert rule.title in html and major.title not in html
    assert legal.pending_count() == 2
    assert legal.pending_count({unit.id}) == 1


def test_the_queue_needs_a_staff_account(client_as, make):
    assert client_as().get("/staff/legal").status_code == 302
    assert client_as(make.user(role=None)).get("/staff/legal").status_code == 403


def test_when_a_policy_came_first_the_item_leaves_the_queue(make, unit, reviewer):
    c = make.consultation("policy_issued", unit=unit, type="rule", title="先出台的规章")
    assert c not in db.session.scalars(legal.pending_query()).all()
