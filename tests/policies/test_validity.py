"""Validity maintained: amended, repealed, replaced and renewed with dates and the document
that did it, linked both ways; 已失效 by the clock after the 有效期; the filing deadline; the
fair-competition review as a gate before issue."""

from datetime import UTC, date, datetime, timedelta

import pytest

from consult import clock
from consult.consultations.models import LegalDecision
from consult.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from consult.extensions import db
from consult.policies import queries, services, standing
from consult.policies.models import ChangeKind, Validity


def _input(number, **kw):
    values = dict(title=f"文件{number}", document_number=number, issued_on=date(2026, 1, 10),
                  effective_on=None,
                  text="第一条 为了规范管理，制定本办法。\n第二条 本办法自印发之日起施行。")
    values.update(kw)
    return services.PolicyInput(**values)


@pytest.fixture
def unit(make):
    return make.unit("市司法局")


@pytest.fixture
def approver(make, unit):
    return make.user("approver", unit)


@pytest.fixture
def publish(unit, approver):
    def make_policy(number, **kw):
        policy = services.create_standalone_policy(unit, _input(number, **kw), actor=approver)
        services.publish_policy(policy, actor=approver)
        return policy
    return make_policy


def test_amend_then_replace_with_dates_and_links_both_ways(travel, publish, approver, client):
    travel(datetime(2026, 6, 1, 4, tzinfo=UTC))
    old = publish("郑政〔2026〕1号")
    amending = publish("郑政〔2026〕5号", issued_on=date(2026, 3, 1))
    new = publish("郑政〔2026〕9号", issued_on=date(2026, 5, 1))
    services.record_change(old, services.ChangeInput(
        ChangeKind.AMEND, date(2026, 3, 1), by_policy=amending), actor=approver)
    assert standing.validity(old) == Validity.AMENDED and old.validity == Validity.AMENDED
    services.record_change(old, services.ChangeInput(
        ChangeKind.REPLACE, date(2026, 7, 1), by_policy=new, note="整体替代"), actor=approver)
    # Not yet: the replacement takes effect on 1 July.
    assert standing.validity(old) == Validity.AMENDED
    travel(datetime(2026, 7, 1, 4, tzinfo=UTC))
    assert standing.validity(old) == Validity.REPEALED
    assert standing.replaced_by(old) == new
    html = client.get(f"/policies/{old.id}").get_data(as_text=True)
    assert "本文件已被替代，现行文件为" in html and f'href="/policies/{new.id}"' in html
    assert "被修改：" in html and "郑政〔2026〕5号" in html and "已废止" in html
    other_way = client.get(f"/policies/{new.id}").get_data(as_text=True)
    assert "替代了：" in other_way and f'href="/policies/{old.id}"' in other_way
    assert "修改了：" in client.get(f"/policies/{amending.id}").get_data(as_text=True)
    # Once repealed, nothing more can be recorded.
    with pytest.raises(Conflict):
        services.record_change(old, services.ChangeInput(
            ChangeKind.AMEND, date(2026, 8, 1), document="某决定"), actor=approver)


def test_repeal_by_a_document_outside_the_library(publish, approver, client):
    policy = publish("郑政〔2026〕2号")
    services.record_change(policy, services.ChangeInput(
        ChangeKind.REPEAL, date(2026, 2, 1),
        document="省人民政府关于废止部分规章的决定（省政府令第300号）"),
        actor=approver)
    assert standing.validity(policy) == Validity.REPEALED
    html = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert "被废止：" in html and "省政府令第300号" in html and "本文件已废止" in html


def test_lapse_after_the_validity_period_and_renewal(travel, publish, approver, client):
    travel(datetime(2026, 3, 1, 4, tzinfo=UTC))
    policy = publish("郑政规〔2021〕4号", issued_on=date(2021, 3, 1),
                     valid_until=date(2026, 2, 28))
    assert standing.validity(policy) == Validity.EXPIRED
    html = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert "已失效" in html and "有效期已于 2026-02-28 届满" in html
    travel(datetime(2026, 2, 28, 4, tzinfo=UTC))  # its last day: still in force
    assert standing.validity(policy) == Validity.IN_FORCE
    services.record_change(policy, services.ChangeInput(
        ChangeKind.RENEW, date(2026, 2, 28), valid_until=date(2031, 2, 28),
        document="郑政办〔2026〕3号"), actor=approver)
    travel(datetime(2026, 3, 1, 4, tzinfo=UTC))
    assert standing.validity(policy) == Validity.IN_FORCE
    assert policy.valid_until == date(2031, 2, 28)
    assert "有效期延续至 2031-02-28" in client.get(f"/policies/{policy.id}").get_data(as_text=True)


@pytest.mark.parametrize("change,field", [
    (dict(kind=ChangeKind.AMEND, effective_on=date(2026, 2, 1)), "document"),
    (dict(kind=ChangeKind.REPLACE, effective_on=date(2026, 2, 1), document="某文件"), "by_policy"),
    (dict(kind=ChangeKind.RENEW, effective_on=date(2026, 2, 1)), "valid_until"),
    (dict(kind=ChangeKind.REPEAL, effective_on=date(2025, 1, 1), document="某文件"),
     "effective_on"),
    (dict(kind=ChangeKind.AMEND, effective_on=date(2026, 2, 1), document="某" * 301), "document"),
])
def test_bad_changes_are_refused_with_the_field(publish, approver, change, field):
    policy = publish("郑政〔2026〕3号")
    with pytest.raises(ValidationFailed) as error:
        services.record_change(policy, services.ChangeInput(**change), actor=approver)
    assert field in error.value.fields


def test_the_change_form_names_the_document_by_its_number(publish, approver, client_as,
                                                          post_form):
    """The staff form: a 文号 not in the library is refused on its field (422, nothing
    recorded), a form without its date too; a published one's number records the change."""
    old = publish("郑政〔2026〕7号")
    publish("郑政〔2026〕8号", issued_on=date(2026, 3, 1))
    staff = client_as(approver)
    page = f"/staff/policies/{old.id}"
    refusals = [({"kind": "amend", "effective_on": "2026-03-01", "by_policy": "郑政〔2026〕99号"},
                 "文件库中没有已发布的该文号的文件。"),
                ({"kind": "amend", "effective_on": "", "by_policy": "郑政〔2026〕8号"},
                 "请填写有效的日期（年-月-日）。")]
    for data, message in refusals:
        response = post_form(staff, f"{page}/changes", data, page=page)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert old.changes == []
    response = post_form(staff, f"{page}/changes", {
        "kind": "amend", "effective_on": "2026-03-01", "by_policy": "郑政[2026]8号"}, page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    db.session.refresh(old)
    assert [(c.kind, c.by_policy.document_number) for c in old.changes] == [
        (ChangeKind.AMEND, "郑政〔2026〕8号")]


def test_a_policy_cannot_change_itself_nor_be_changed_before_publication(
        publish, unit, approver):
    policy = publish("郑政〔2026〕4号")
    with pytest.raises(ValidationFailed):
        services.record_change(policy, services.ChangeInput(
            ChangeKind.AMEND, date(2026, 2, 1), by_policy=policy), actor=approver)
    draft = services.create_standalone_policy(unit, _input("郑政〔2026〕6号"), actor=approver)
    with pytest.raises(InvalidTransition):
        services.record_change(draft, services.ChangeInput(
            ChangeKind.REPEAL, date(2026, 2, 1), document="某文件"), actor=approver)


def test_the_library_filters_by_validity_on_today(travel, publish, approver, client):
    travel(datetime(2026, 6, 1, 4, tzinfo=UTC))
    in_force = publish("郑政〔2026〕11号")
    amended = publish("郑政〔2026〕12号")
    repealed = publish("郑政〔2026〕13号")
    expired = publish("郑政〔2026〕14号", valid_until=date(2026, 5, 31))
    later = publish("郑政〔2026〕15号")  # repealed from a later date: in force today
    services.record_change(amended, services.ChangeInput(
        ChangeKind.AMEND, date(2026, 2, 1), document="某决定"), actor=approver)
    services.record_change(repealed, services.ChangeInput(
        ChangeKind.REPEAL, date(2026, 2, 1), document="某决定"), actor=approver)
    services.record_change(later, services.ChangeInput(
        ChangeKind.REPEAL, date(2026, 9, 1), document="某决定"), actor=approver)
    db.session.flush()
    expected = {"in_force": {in_force, later}, "amended": {amended}, "repealed": {repealed},
                "expired": {expired}}
    for value, policies in expected.items():
        found = set(db.session.scalars(queries.library_query(validity=value)))
        assert found == policies, value
        html = client.get(f"/policies?validity={value}").get_data(as_text=True)
        for p in policies:
            assert p.document_number in html
    assert {p for p in db.session.scalars(queries.library_query(validity="in_force"))} == \
        {in_force, later}


def test_late_filing_is_flagged(travel, publish, approver, client, client_as, post_form):
    travel(datetime(2026, 3, 20, 4, tzinfo=UTC))
    policy = publish("郑政规〔2026〕1号", issued_on=date(2026, 2, 1))  # due 2026-03-03
    assert standing.filing_due_on(policy) == date(2026, 3, 3)
    assert standing.filing_state(policy) == "overdue"
    assert policy in standing.filing_overdue()
    assert "逾期未备案" in client.get(f"/policies/{policy.id}").get_data(as_text=True)
    staff = client_as(approver)
    assert "逾期未备案" in staff.get("/staff").get_data(as_text=True)
    page = f"/staff/policies/{policy.id}"
    response = post_form(staff, f"{page}/filing", {"filed_with": "市人大常委会",
                                                    "filed_on": "2026-03-10",
                                                    "filing_number": "备2026-07"}, page=page)
    assert response.status_code == 302
    assert standing.filing_state(policy) == "filed_late"
    html = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert "已于 2026-03-10 报 市人大常委会 备案" in html and "逾期备案" in html
    assert policy not in standing.filing_overdue()


def test_filing_in_time_and_bad_filings(publish, approver, client_as, post_form):
    policy = publish("郑政规〔2026〕2号", issued_on=clock.today())
    assert standing.filing_state(policy) == "due"
    staff = client_as(approver)
    page = f"/staff/policies/{policy.id}"
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    for data, message in [({"filed_with": "", "filed_on": clock.today().isoformat()},
                           "请填写备案机关"),
                          ({"filed_with": "市政府", "filed_on": tomorrow}, "备案日期不能晚于今天"),
                          ({"filed_with": "市政府", "filed_on": "昨天"}, "不是有效的日期")]:
        response = post_form(staff, f"{page}/filing", data, page=page)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert post_form(staff, f"{page}/filing", {"filed_with": "市政府",
                                               "filed_on": clock.today().isoformat()},
                     page=page).status_code == 302
    assert standing.filing_state(policy) == "filed"


def test_other_kinds_need_no_filing(unit, approver):
    policy = services.create_standalone_policy(
        unit, _input("郑政〔2026〕20号", type="major_decision"), actor=approver)
    assert standing.filing_state(policy) == "not_required"


def test_fair_competition_review_gates_issue(make, unit, approver, client_as, post_form):
    editor = make.user("editor", unit)
    policy = services.create_standalone_policy(unit, _input("郑政〔2026〕30号",
                                                            affects_market=True), actor=editor)
    with pytest.raises(Conflict) as refused:
        services.publish_policy(policy, actor=approver)
    assert refused.value.code == "competition_review_required"
    legal = make.user("legal_reviewer", make.unit("市司法局法制审核处"))
    # An editor or approver of the unit may not sign it off; a legal reviewer may.
    staff = client_as(approver)
    page = f"/staff/policies/{policy.id}"
    response = post_form(staff, f"{page}/competition-review", {"decision": "approved"}, page=page)
    assert response.status_code == 403
    reviewer = client_as(legal)
    assert "提交审查结论" in reviewer.get(page).get_data(as_text=True)
    response = post_form(reviewer, f"{page}/competition-review", {"decision": "returned"},
                         page=page)
    assert response.status_code == 422 and "退回修改时请写明审查意见" in \
        response.get_data(as_text=True)
    post_form(reviewer, f"{page}/competition-review",
              {"decision": "returned", "opinion": "第三条限定了供应商，请删去。"}, page=page)
    assert services.competition_review_state(policy) == "returned"
    with pytest.raises(Conflict):
        services.publish_policy(policy, actor=approver)
    post_form(reviewer, f"{page}/competition-review", {"decision": "approved"}, page=page)
    assert services.competition_review_state(policy) == "approved"
    services.publish_policy(policy, actor=approver)
    assert policy.published_at is not None
    # After issue the pre-issue review is closed.
    with pytest.raises(Conflict):
        services.review_competition(policy, LegalDecision.APPROVED, None, actor=legal)


def test_the_drafter_cannot_review_and_unmarked_policies_need_no_review(make, unit, approver):
    legal = make.user("legal_reviewer", unit)
    mine = services.create_standalone_policy(unit, _input("郑政〔2026〕31号",
                                                          affects_market=True), actor=legal)
    with pytest.raises(NotAllowed):
        services.review_competition(mine, LegalDecision.APPROVED, None, actor=legal)
    plain = services.create_standalone_policy(unit, _input("郑政〔2026〕32号"), actor=approver)
    with pytest.raises(Conflict):
        services.review_competition(plain, LegalDecision.APPROVED, None, actor=legal)
    assert services.competition_review_state(plain) == "not_required"


def test_an_edit_after_the_review_needs_a_new_review(make, unit, approver):
    legal = make.user("legal_reviewer", make.unit("市司法局审查处"))
    policy = services.create_standalone_policy(unit, _input("郑政〔2026〕33号",
                                                            affects_market=True), actor=approver)
    services.review_competition(policy, LegalDecision.APPROVED, None, actor=legal)
    assert services.competition_review_state(policy) == "approved"
    services.update_policy(policy, _input("郑政〔2026〕33号", affects_market=True,
                                          text="第一条 只有指定供应商可以参与。"), actor=approver)
    assert services.competition_review_state(policy) == "pending"
    with pytest.raises(Conflict):
        services.publish_policy(policy, actor=approver)
    services.review_competition(policy, LegalDecision.APPROVED, "已删去限定供应商的规定。",
                                actor=legal)
    services.publish_policy(policy, actor=approver)
