"""The final policy and its interpretations, through the staff pages (F16, F17, 三同步)."""

import pytest

from consult import clock
from consult.consultations.models import State
from consult.extensions import db
from consult.policies.models import Interpretation, Policy

POLICY = {
    "title": "市物业管理办法",
    "document_number": "市政规〔2025〕7号",
    "issued_on": "2025-06-30",
    "effective_on": "2025-08-01",
    "text": "第一条 为了规范物业管理活动，制定本办法。",
}


@pytest.fixture
def consultation(make, unit):
    return make.consultation("report_published", unit=unit)


def _new_url(c):
    return f"/staff/consultations/{c.id}/policy/new"


def _create(client, post_form, c, **overrides):
    response = post_form(client, _new_url(c), {**POLICY, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(db.select(Policy).where(Policy.consultation_id == c.id))


def test_editor_adds_the_final_policy(client_as, post_form, editor, consultation):
    client = client_as(editor)
    page = client.get(_new_url(consultation))
    assert page.status_code == 200
    assert "文号" in page.get_data(as_text=True)
    policy = _create(client, post_form, consultation)
    assert policy.document_number == "市政规〔2025〕7号"
    assert policy.issued_on.isoformat() == "2025-06-30"
    assert policy.effective_on.isoformat() == "2025-08-01"
    assert policy.published_at is None
    assert consultation.status == State.REPORT_PUBLISHED  # issued only when published
    html = client.get(f"/staff/policies/{policy.id}").get_data(as_text=True)
    assert "市政规〔2025〕7号" in html and "起草正式文件" in html
    assert "正式文件由本单位审核人发布" in html  # an editor sees no publish button
    # A second visit to "new" leads to the existing policy.
    again = client.get(_new_url(consultation))
    assert again.status_code == 302 and f"/staff/policies/{policy.id}" in again.headers["Location"]
    assert post_form(client, _new_url(consultation), POLICY,
                     page=f"/staff/policies/{policy.id}").status_code == 409


@pytest.mark.parametrize("overrides,message", [
    ({"title": ""}, "请填写文件标题"),
    ({"document_number": ""}, "请填写文号"),
    ({"issued_on": "去年"}, "印发日期"),
    ({"text": " "}, "请填写正式文件全文"),
    ({"effective_on": "2025-01-01"}, "施行日期不能早于印发日期"),
    ({"document_number": "号" * 101}, "100"),
])
def test_bad_policy_input_is_422(client_as, post_form, editor, consultation, overrides, message):
    response = post_form(client_as(editor), _new_url(consultation), {**POLICY, **overrides})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert consultation.policy is None


def test_no_policy_before_the_window_closes(client_as, make, post_form, unit, editor):
    open_one = make.consultation("open", unit=unit)
    client = client_as(editor)
    html = client.get(_new_url(open_one)).get_data(as_text=True)
    assert "征求意见截止后才能添加正式文件" in html
    assert post_form(client, _new_url(open_one), POLICY, page="/staff").status_code == 409


def test_edit_until_published(client_as, post_form, editor, approver, consultation):
    client = client_as(editor)
    policy = _create(client, post_form, consultation)
    url = f"/staff/policies/{policy.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "市政规〔2025〕7号" in page
    assert post_form(client, url, {**POLICY, "title": "市物业管理办法（修订）"}).status_code == 302
    assert policy.title == "市物业管理办法（修订）"
    post_form(client_as(approver), f"/staff/policies/{policy.id}/publish", {},
              page=f"/staff/policies/{policy.id}")
    assert client.get(url).status_code == 409
    assert post_form(client, url, POLICY, page="/staff").status_code == 409


def test_publishing_without_an_interpretation_is_warned_and_flagged(client_as, post_form, editor,
                                                                    approver, consultation):
    policy = _create(client_as(editor), post_form, consultation)
    client = client_as(approver)
    detail = f"/staff/policies/{policy.id}"
    html = client.get(detail).get_data(as_text=True)
    assert "尚未添加政策解读" in html and "不附解读，仍然发布" in html
    response = post_form(client, f"{detail}/publish", {}, page=detail)
    assert response.status_code == 302
    assert consultation.status == State.POLICY_ISSUED
    html = client.get(detail).get_data(as_text=True)
    assert "尚无政策解读" in html  # the flash
    public = client_as().get(f"/policies/{policy.id}")
    assert public.status_code == 200
    assert post_form(client, f"{detail}/publish", {}, page=detail).status_code == 409


def test_interpretation_is_published_with_the_policy(client_as, post_form, editor, approver,
                                                     consultation):
    policy = _create(client_as(editor), post_form, consultation)
    url = f"/staff/policies/{policy.id}/interpretations/new"
    client = client_as(editor)
    assert client.get(url).status_code == 200
    response = post_form(client, url, {"title": "一图读懂", "kind": "graphic", "body": "要点……"})
    assert response.status_code == 302
    interpretation = policy.interpretations[0]
    assert interpretation.published_at is None
    detail = f"/staff/policies/{policy.id}"
    html = client_as(approver).get(detail).get_data(as_text=True)
    assert "一同发布" in html and "一图读懂" in html
    post_form(client_as(approver), f"{detail}/publish", {}, page=detail)
    assert interpretation.published_at == policy.published_at
    assert consultation.status == State.POLICY_ISSUED


def test_interpretation_after_publication(client_as, post_form, editor, approver, consultation,
                                          travel):
    policy = _create(client_as(editor), post_form, consultation)
    detail = f"/staff/policies/{policy.id}"
    post_form(client_as(approver), f"{detail}/publish", {}, page=detail)
    url = f"{detail}/interpretations/new"
    # An approver's interpretation goes out at once...
    post_form(client_as(approver), url, {"title": "答记者问", "kind": "qa", "body": "问：……"})
    # ... an editor's waits for an approver.
    post_form(client_as(editor), url, {"title": "文字解读", "kind": "text", "body": "……"})
    by_title = {i.title: i for i in policy.interpretations}
    assert by_title["答记者问"].published_at is not None
    waiting = by_title["文字解读"]
    assert waiting.published_at is None
    publish = f"/staff/interpretations/{waiting.id}/publish"
    assert post_form(client_as(editor), publish, {}, page=detail).status_code == 403
    assert post_form(client_as(approver), publish, {}, page=detail).status_code == 302
    assert waiting.published_at is not None
    assert post_form(client_as(approver), publish, {}, page=detail).status_code == 409


@pytest.mark.parametrize("data,message", [
    ({"title": "", "kind": "text", "body": "x"}, "请填写解读标题"),
    ({"title": "t", "kind": "video", "body": "x"}, "解读形式"),
    ({"title": "t", "kind": "text", "body": ""}, "请填写解读内容"),
])
def test_bad_interpretation_input_is_422(client_as, post_form, editor, consultation, data,
                                         message):
    policy = _create(client_as(editor), post_form, consultation)
    response = post_form(client_as(editor), f"/staff/policies/{policy.id}/interpretations/new",
                         data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Interpretation.id))) == 0


def test_other_units_staff_cannot_touch_the_policy(client_as, make, post_form, editor,
                                                   consultation):
    policy = _create(client_as(editor), post_form, consultation)
    stranger = client_as(make.user("approver", make.unit("市民政局")))
    base = f"/staff/policies/{policy.id}"
    assert stranger.get(base).status_code == 403
    assert stranger.get(f"{base}/edit").status_code == 403
    assert post_form(stranger, f"{base}/publish", {}, page="/staff").status_code == 403
    assert post_form(stranger, f"{base}/interpretations/new",
                     {"title": "t", "kind": "text", "body": "b"}, page="/staff").status_code == 403
    assert policy.published_at is None and not policy.interpretations
    assert stranger.get("/staff/policies/999999").status_code == 404


def test_hostile_policy_text_is_escaped(client_as, post_form, editor, consultation):
    policy = _create(client_as(editor), post_form, consultation,
                     text="<script>alert(1)</script>", title="<img src=x onerror=alert(1)>")
    html = client_as(editor).get(f"/staff/policies/{policy.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_today_is_a_valid_issue_date(client_as, post_form, editor, consultation):
    policy = _create(client_as(editor), post_form, consultation,
                     issued_on=clock.today().isoformat(), effective_on="")
    assert policy.effective_on is None
