"""Public policy and interpretation pages, linked both ways with the draft and its report."""

from datetime import date

import pytest

from consult.answers.services import publish_report
from consult.policies import services
from consult.policies.models import InterpretationKind


def policy_input(**kw):
    values = dict(title="城市公共数据开放管理办法", document_number="某政〔2026〕12号",
                  issued_on=date(2026, 11, 1), effective_on=date(2026, 12, 1),
                  text="第一条 为了规范公共数据开放……")
    values.update(kw)
    return services.PolicyInput(**values)


@pytest.fixture
def chain(make):
    """Draft → report → policy → interpretation, all published."""
    c = make.consultation("closed", title="公共数据开放管理办法（征求意见稿）")
    approver = make.user("approver", c.unit)
    comment = make.comment(c, article=3)
    make.answer(comment, "adopted", None)
    publish_report(c, summary="总结", actor=approver)
    policy = services.create_policy(c, policy_input(), actor=approver)
    interpretation = services.add_interpretation(
        policy, title="一图读懂公共数据开放", kind=InterpretationKind.GRAPHIC,
        body="问：哪些数据开放？答：……", actor=approver)
    services.publish_policy(policy, actor=approver)
    return c, policy, interpretation


def html_of(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    return response.get_data(as_text=True)


def test_draft_report_policy_and_interpretation_link_each_other(client, chain):
    c, policy, interpretation = chain
    draft = f'href="/consultations/{c.id}"'
    report = f'href="/consultations/{c.id}/report"'
    policy_link = f'href="/policies/{policy.id}"'
    interp = f'href="/interpretations/{interpretation.id}"'
    pages = {
        "draft": html_of(client, f"/consultations/{c.id}"),
        "report": html_of(client, f"/consultations/{c.id}/report"),
        "policy": html_of(client, f"/policies/{policy.id}"),
        "interpretation": html_of(client, f"/interpretations/{interpretation.id}"),
    }
    links = {"draft": draft, "report": report, "policy": policy_link, "interpretation": interp}
    for here, html in pages.items():
        for there, link in links.items():
            if there != here:
                assert link in html, f"{here} page lacks a link to the {there}"


def test_the_policy_page_shows_its_facts(client, chain):
    _c, policy, interpretation = chain
    html = html_of(client, f"/policies/{policy.id}")
    assert "城市公共数据开放管理办法" in html and "某政〔2026〕12号" in html
    assert "2026-11-01" in html and "2026-12-01" in html and "现行有效" in html
    assert "为了规范公共数据开放" in html and "一图读懂公共数据开放" in html
    assert "解读待发布" not in html and "在意见采纳情况公布前出台" not in html


def test_the_policy_list_shows_published_policies(client, chain, make):
    _c, policy, _i = chain
    other = make.consultation("closed")
    services.create_policy(other, policy_input(title="尚未发布的文件",
                                               document_number="某政〔2026〕13号"),
                           actor=make.user("approver", other.unit))
    html = html_of(client, "/policies")
    assert policy.title in html and "尚未发布的文件" not in html
    assert html_of(client, "/policies?page=abc", 400)


def test_a_policy_before_the_report_is_flagged_and_its_interpretation_pending(client, make):
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    policy = services.create_policy(c, policy_input(), actor=approver)
    services.publish_policy(policy, actor=approver)
    html = html_of(client, f"/policies/{policy.id}")
    assert "在意见采纳情况公布前出台" in html and "解读待发布" in html
    assert f'href="/consultations/{c.id}"' in html
    assert f'href="/consultations/{c.id}/report"' not in html
    draft = html_of(client, f"/consultations/{c.id}")
    assert "在意见采纳情况公布前出台" in draft and f'href="/policies/{policy.id}"' in draft


def test_unpublished_policies_and_interpretations_are_not_found(client, make):
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    policy = services.create_policy(c, policy_input(), actor=approver)
    interpretation = services.add_interpretation(
        policy, title="解读", kind=InterpretationKind.TEXT, body="……", actor=approver)
    html_of(client, f"/policies/{policy.id}", 404)
    html_of(client, f"/interpretations/{interpretation.id}", 404)
    draft = html_of(client, f"/consultations/{c.id}")
    assert f"/policies/{policy.id}" not in draft
    html_of(client, "/policies/999999", 404)
    html_of(client, "/interpretations/999999", 404)


def test_an_interpretation_added_later_is_hidden_until_published(client, chain, make):
    c, policy, _i = chain
    approver = make.user("approver", c.unit)
    late = services.add_interpretation(policy, title="问答解读", kind=InterpretationKind.QA,
                                       body="问：……", actor=approver)
    html_of(client, f"/interpretations/{late.id}", 404)
    assert "问答解读" not in html_of(client, f"/policies/{policy.id}")
    services.publish_interpretation(late, actor=approver)
    assert "问答解读" in html_of(client, f"/policies/{policy.id}")
    assert "问：……" in html_of(client, f"/interpretations/{late.id}")
