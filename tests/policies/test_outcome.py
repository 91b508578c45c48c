"""The outcome where people look: the banner on closed drafts, one dated timeline, the 采纳反馈
list linking to reports, the receipt's due date and outcome, 三同步 with a working-day deadline,
and the catalogue item's status derived from its consultations."""

from datetime import UTC, date, datetime, timedelta

import pytest

from consult import clock
from consult.answers.services import publish_report
from consult.catalogue.models import CatalogueStatus
from consult.consultations import legal, versions
from consult.consultations import services as consultation_services
from consult.consultations.models import LegalDecision
from consult.extensions import db
from consult.policies import services, standing
from consult.policies.catalogue_status import shown_status
from consult.policies.models import ChangeKind, InterpretationKind
from consult.policies.timeline import timeline_of


def _policy(c, approver, number="郑政〔2026〕88号", **kw):
    values = dict(title="郑州市公共数据开放管理办法", document_number=number,
                  issued_on=clock.today(), effective_on=None, text="第一条 内容。")
    values.update(kw)
    return services.create_policy(c, services.PolicyInput(**values), actor=approver)


@pytest.fixture
def closed(make):
    c = make.consultation("closed", title="公共数据开放管理办法（征求意见稿）")
    return c, make.user("approver", c.unit)


def _banner(client, c):
    html = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    return html.split('id="outcome"')[1].split("</div>")[0] if 'id="outcome"' in html else None


def test_no_banner_while_open_or_scheduled(client, make):
    for state in ("open", "scheduled"):
        assert _banner(client, make.consultation(state)) is None


def test_the_banner_on_every_closed_state(client, closed):
    c, approver = closed
    # Closed, no report yet: when it is due.
    banner = _banner(client, c)
    due = (clock.local_date(c.closes_at) + timedelta(days=30)).isoformat()
    assert "征求意见期限已结束" in banner and f"意见采纳情况应于 {due} 前公布" in banner
    # Report published.
    make_comment_answered = c  # noqa: F841 - the report may be empty
    publish_report(c, summary="总结", actor=approver)
    banner = _banner(client, c)
    assert "意见采纳情况已公布" in banner and f'href="/consultations/{c.id}/report"' in banner
    assert "正式文件已出台" not in banner
    # Policy issued.
    policy = _policy(c, approver)
    services.publish_policy(policy, actor=approver)
    banner = _banner(client, c)
    assert "正式文件已出台：" in banner and f'href="/policies/{policy.id}"' in banner
    assert "郑政〔2026〕88号" in banner and f'href="/policies/{policy.id}/changes"' in banner
    assert "意见采纳情况已公布" in banner


def test_the_banner_when_the_policy_came_before_the_report(client, closed):
    c, approver = closed
    services.publish_policy(_policy(c, approver), actor=approver)
    banner = _banner(client, c)
    assert "正式文件已出台：" in banner and "意见采纳情况应于" in banner


def test_the_timeline_is_dated_and_in_order_on_all_three_pages(client, make, travel):
    travel(datetime(2026, 9, 1, 2, tzinfo=UTC))
    unit = make.unit()
    approver = make.user("approver", unit)
    item = make.catalogue_item(unit, title="公共数据开放管理办法制定", year=2026)
    item.published_at = datetime(2026, 1, 10, 2, tzinfo=UTC)
    c = make.consultation("closed", unit=unit, type="rule", catalogue_item=item,
                          opens_at=datetime(2026, 6, 1, 1, tzinfo=UTC),
                          closes_at=datetime(2026, 7, 1, 15, 59, 59, tzinfo=UTC),
                          approved_at=datetime(2026, 5, 28, 2, tzinfo=UTC))
    legal_user = make.user("legal_reviewer", make.unit("市司法局"))
    travel(datetime(2026, 7, 10, 2, tzinfo=UTC))
    legal.review(c, LegalDecision.APPROVED, "同意", actor=legal_user)
    travel(datetime(2026, 7, 20, 2, tzinfo=UTC))
    publish_report(c, summary="总结", actor=approver)
    travel(datetime(2026, 8, 1, 2, tzinfo=UTC))
    policy = _policy(c, approver, issued_on=date(2026, 8, 1), effective_on=date(2026, 9, 1))
    services.add_interpretation(policy, title="一图读懂", kind=InterpretationKind.GRAPHIC,
                                body="图解", actor=approver)
    services.publish_policy(policy, actor=approver)
    travel(datetime(2026, 8, 15, 2, tzinfo=UTC))
    events = timeline_of(c)
    kinds = [e.kind for e in events]
    assert kinds == ["catalogue", "published", "opened", "closed", "legal_review", "report",
                     "policy", "interpretation", "policy"]
    assert [e.on for e in events] == sorted(e.on for e in events)
    assert events[-1].future and events[-1].text == "正式文件施行"
    for url in (f"/consultations/{c.id}", f"/consultations/{c.id}/report",
                f"/policies/{policy.id}"):
        page = client.get(url).get_data(as_text=True)
        assert 'id="timeline-title"' in page, url
        html = page.split('id="timeline-title"')[1]
        positions = [html.index(t) for t in ("2026-01-10", "2026-06-01", "2026-07-01",
                                             "2026-07-10", "2026-07-20", "2026-08-01")]
        assert positions == sorted(positions), url
        assert "合法性审核通过" in html and "公布意见采纳情况" in html


def test_the_timeline_shows_extensions_versions_and_later_changes(make, client):
    c = make.consultation("open")
    approver = make.user("approver", c.unit)
    old_close = clock.local_date(c.closes_at)
    consultation_services.extend(c, old_close + timedelta(days=10), "听取更多意见",
                                 actor=approver)
    versions.new_version(c, "第一条 修改后的内容。", "根据意见修改", actor=approver)
    db.session.flush()
    events = timeline_of(c)
    texts = [e.text for e in events]
    assert f"延长征求意见期限至 {(old_close + timedelta(days=10)).isoformat()}" in texts
    assert "发布第 2 稿" in texts and "征求意见截止（预定）" in texts
    assert events[-1].kind == "closed" and events[-1].future
    html = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "延长征求意见期限至" in html.split('id="timeline-title"')[1]
    draft_only = make.consultation("draft")
    assert timeline_of(draft_only) == []  # nothing of a draft is public


def test_the_timeline_shows_a_policys_later_changes(make, closed):
    c, approver = closed
    policy = _policy(c, approver, issued_on=date(2026, 1, 5))
    services.publish_policy(policy, actor=approver)
    services.record_change(policy, services.ChangeInput(
        ChangeKind.AMEND, date(2026, 3, 1), document="市政府关于修改部分规章的决定"),
        actor=approver)
    texts = [e.text for e in timeline_of(c)]
    assert "修改：市政府关于修改部分规章的决定" in texts


def test_the_reported_list_links_to_reports(client, closed):
    c, approver = closed
    publish_report(c, summary="总结", actor=approver)
    html = client.get("/consultations?status=reported").get_data(as_text=True)
    card = html.split('class="card consultation-card"')[1]
    title_link = card.split("<a ", 1)[1].split(">", 1)[0]
    assert f'href="/consultations/{c.id}/report"' in title_link
    assert "意见采纳情况" in card and f'href="/consultations/{c.id}"' in card


def test_the_receipt_says_when_the_report_is_due_and_then_what_happened(client, closed, make):
    c, approver = closed
    comment = make.comment(c, article=1, body="建议增加开放目录的更新频率。")
    html = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    due = (clock.local_date(c.closes_at) + timedelta(days=30)).isoformat()
    assert f"意见采纳情况预计在 {due} 前公布" in html and 'id="receipt-outcome"' not in html
    make.answer(comment, "adopted", None)
    publish_report(c, summary="总结", actor=approver)
    policy = _policy(c, approver)
    services.publish_policy(policy, actor=approver)
    services.link_answer(policy, comment.disposition, 1, actor=approver)
    db.session.flush()
    html = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "预计在" not in html
    assert "采纳" in html and "您的意见促成了正式文件第一条的修改" in html


def test_interpretation_overdue_after_three_working_days(travel, make, client, client_as):
    travel(datetime(2026, 9, 30, 2, tzinfo=UTC))  # a Wednesday before the National Day holiday
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    policy = _policy(c, approver, issued_on=date(2026, 9, 30))
    services.publish_policy(policy, actor=approver)
    due = standing.interpretation_due_on(policy)
    assert due > date(2026, 10, 7)  # the holiday's days are not working days
    travel(datetime.combine(due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2))
    assert not standing.interpretation_overdue(policy)
    travel(datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
           + timedelta(hours=2))
    assert standing.interpretation_overdue(policy)
    assert policy in standing.overdue_interpretations()
    assert policy in standing.overdue_interpretations({policy.unit_id})
    assert policy not in standing.overdue_interpretations({policy.unit_id + 1000})
    html = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert "出台后 3 个工作日" in html
    staff = client_as(approver).get("/staff").get_data(as_text=True)
    assert "仍未发布政策解读" in staff and policy.title in staff
    services.add_interpretation(policy, title="解读", kind=InterpretationKind.TEXT, body="解读",
                                actor=approver, publish=True)
    assert not standing.interpretation_overdue(policy)


def test_catalogue_status_is_derived_from_consultations(make, travel, client):
    travel(datetime(2026, 5, 1, 2, tzinfo=UTC))
    unit = make.unit()
    approver = make.user("approver", unit)
    item = make.catalogue_item(unit, title="停车收费办法制定", year=2026)
    item.status = CatalogueStatus.PLANNED
    item.published_at = clock.now()
    assert shown_status(item) == CatalogueStatus.PLANNED  # hand-set, no consultation
    draft = make.consultation("draft", unit=unit, catalogue_item=item)
    db.session.refresh(item)
    assert shown_status(item) == CatalogueStatus.PLANNED  # a draft is not public
    draft.catalogue_item = None
    c = make.consultation("closed", unit=unit, catalogue_item=item)
    db.session.refresh(item)
    assert shown_status(item) == CatalogueStatus.CONSULTING
    html = client.get("/catalogue?year=2026&status=consulting").get_data(as_text=True)
    assert "停车收费办法制定" in html
    assert "停车收费办法制定" not in client.get("/catalogue?year=2026&status=planned").get_data(
        as_text=True)
    policy = _policy(c, approver, issued_on=date(2026, 5, 1), effective_on=date(2026, 6, 1))
    services.publish_policy(policy, actor=approver)
    db.session.refresh(item)
    assert shown_status(item) == CatalogueStatus.DECIDED
    travel(datetime(2026, 6, 2, 2, tzinfo=UTC))
    assert shown_status(item) == CatalogueStatus.IMPLEMENTED
    assert "停车收费办法制定" in client.get("/catalogue?year=2026&status=implemented").get_data(
        as_text=True)
    api = client.get("/api/v1/catalogue?year=2026").get_json()
    statuses = [i["status"] for i in api["items"] if i["title"] == "停车收费办法制定"]
    assert statuses == ["implemented"]
