"""Irreversible actions go through a check page that says what will happen (issue 13), and the
report's 总体情况说明 is drafted by the editors before an approver publishes it."""

import pytest

from consult.answers.models import ReportDraft
from consult.answers.services import published_report
from consult.consultations.models import State
from consult.extensions import db
from tests.conftest import csrf_from, table_counts


@pytest.fixture
def unit(make):
    return make.unit("市审核测试局")


def test_approving_goes_through_a_check_page(client_as, make, unit, editor, approver):
    c = make.consultation("pending_approval", unit=unit, submitted_by=editor)
    client = client_as(approver)
    detail = f"/staff/consultations/{c.id}"
    html = client.get(detail).get_data(as_text=True)
    assert f'href="{detail}/approve"' in html and f'action="{detail}/approve"' not in html
    check = client.get(f"{detail}/approve").get_data(as_text=True)
    assert "审核通过后将会" in check and "此操作不能撤销" in check
    assert "button-danger" in check and "返回，暂不操作" in check
    assert c.state == State.PENDING_APPROVAL  # looking changes nothing


def test_returning_asks_for_the_reason_on_its_check_page(client_as, make, unit, editor,
                                                         approver):
    c = make.consultation("pending_approval", unit=unit, submitted_by=editor)
    client = client_as(approver)
    page = f"/staff/consultations/{c.id}/return"
    html = client.get(page).get_data(as_text=True)
    assert "退回后将会" in html and 'name="return-reason"' in html
    token = csrf_from(html)
    response = client.post(page, data={"csrf_token": token, "return-reason": ""})
    assert response.status_code == 422 and "退回后将会" in response.get_data(as_text=True)
    response = client.post(page, data={"csrf_token": token, "return-reason": "第二条须修改。"})
    assert response.status_code == 302 and c.state == State.DRAFT


def test_the_editor_drafts_the_summary_and_the_approver_publishes_from_it(
        client_as, make, unit, editor, approver):
    c = make.consultation("closed", unit=unit)
    make.answer(make.comment(c, article=1, email="a@example.org"), "adopted", None)
    editor_client = client_as(editor)
    report = f"/staff/consultations/{c.id}/report"
    html = editor_client.get(report).get_data(as_text=True)
    assert "共收到公众意见 1 条" in html  # a first draft from the figures
    assert "发布采纳情况报告…" not in html  # editors do not publish
    token = csrf_from(html)
    response = editor_client.post(f"{report}/summary", data={
        "csrf_token": token, "draft-summary": "本次共收到意见 1 条，已采纳。"})
    assert response.status_code == 302
    draft = db.session.scalar(db.select(ReportDraft))
    assert draft.summary == "本次共收到意见 1 条，已采纳。" and draft.updated_by == editor

    approver_client = client_as(approver)
    assert "发布采纳情况报告…" in approver_client.get(report).get_data(as_text=True)
    check = approver_client.get(f"{report}/publish").get_data(as_text=True)
    assert "发布后将会" in check and "以电子邮件通知 1 位" in check
    assert "本次共收到意见 1 条，已采纳。</textarea>" in check
    response = approver_client.post(report, data={
        "csrf_token": csrf_from(check), "summary": "本次共收到意见 1 条，已采纳。"})
    assert response.status_code == 302
    assert published_report(c).summary == "本次共收到意见 1 条，已采纳。"


def test_an_over_long_summary_draft_is_422(client_as, make, unit, editor):
    c = make.consultation("closed", unit=unit)
    client = client_as(editor)
    report = f"/staff/consultations/{c.id}/report"
    token = csrf_from(client.get(report).get_data(as_text=True))
    before = table_counts()
    response = client.post(f"{report}/summary", data={"csrf_token": token,
                                                      "draft-summary": "长" * 20_001})
    assert response.status_code == 422 and table_counts() == before


def test_strangers_cannot_draft_the_summary(client_as, make, unit):
    c = make.consultation("closed", unit=unit)
    stranger = make.user("editor", make.unit("别的单位"))
    client = client_as(stranger)
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    response = client.post(f"/staff/consultations/{c.id}/report/summary",
                           data={"csrf_token": token, "draft-summary": "x"})
    assert response.status_code == 403


def test_publishing_a_policy_goes_through_a_check_page(client_as, make, unit, approver):
    from consult import clock
    from consult.policies import services as policy_services

    c = make.consultation("report_published", unit=unit)
    item = policy_services.create_policy(c, policy_services.PolicyInput(
        title="正式文件", document_number="测〔2026〕1号", issued_on=clock.today(),
        effective_on=None, text="正文"), actor=approver)
    client = client_as(approver)
    html = client.get(f"/staff/policies/{item.id}").get_data(as_text=True)
    assert f'href="/staff/policies/{item.id}/publish"' in html
    check = client.get(f"/staff/policies/{item.id}/publish").get_data(as_text=True)
    assert "尚未添加政策解读" in check and "此操作不能撤销" in check
    assert item.published_at is None
