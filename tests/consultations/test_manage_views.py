"""The staff side of a consultation through HTTP: drafting, approval, window, audit trail."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from consult import clock
from consult.answers.models import Disposition
from consult.audit import events_for
from consult.comments.models import CommentStatus
from consult.consultations.models import Consultation, State
from consult.extensions import db
from consult.policies.models import Policy
from tests.conftest import staff_post, table_counts
from tests.factories import draft_form


def _path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def _create(client, post_form, unit, **overrides):
    response = post_form(client, "/staff/consultations/new", draft_form(unit, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    consultation_id = int(_path(response).rsplit("/", 1)[1])
    return db.session.get(Consultation, consultation_id)


@pytest.fixture
def unit(make):
    return make.unit("市交通运输局")


@pytest.fixture
def editor(make, unit):
    return make.user("editor", unit, name="王编辑")


@pytest.fixture
def approver(make, unit):
    return make.user("approver", unit, name="李审核")


@pytest.fixture
def approver2(make, unit):
    return make.user("approver", unit, name="赵审核")


# --- creating a draft --------------------------------------------------------------------------


def test_new_form_offers_only_the_users_units_and_shows_minimum_days(client_as, make, editor,
                                                                      unit):
    child = make.unit("市交通运输局执法支队", parent=unit)
    other = make.unit("市教育局")
    html = client_as(editor).get("/staff/consultations/new").get_data(as_text=True)
    assert "市交通运输局" in html and child.name in html
    assert other.name not in html
    assert "行政规范性文件 不少于 7 个工作日" in html and "政府规章 不少于 30 日" in html
    assert "涉及市场主体经营活动" in html
    assert "第一条" in html and "（一）" in html  # the hint about headings


def test_pasting_text_splits_it_into_articles(client_as, post_form, editor, unit):
    client = client_as(editor)
    consultation = _create(client, post_form, unit)
    assert consultation.state == State.DRAFT
    assert consultation.unit_id == unit.id
    assert consultation.created_by_id == editor.id
    articles = consultation.current_version.articles
    assert [a.label for a in articles] == ["第一条", "第二条", "第三条"]
    assert articles[0].chapter == "第一章 总则"
    assert articles[0].text == "为了规范城市道路停车秩序，根据有关法律法规，制定本规定。"
    assert articles[2].chapter == "第二章 停车泊位"
    html = client.get(f"/staff/consultations/{consultation.id}").get_data(as_text=True)
    assert "第二章 停车泊位" in html and "第三条" in html
    assert "王编辑" in html and "创建草稿" in html  # the audit trail


def test_plan_style_headings_split_too(client_as, post_form, editor, unit):
    text = ("一、总体要求\n（一）坚持公开为常态。\n(二)坚持以人民为中心。\n"
            "二、主要任务\n（一）推进决策公开。")
    consultation = _create(client_as(editor), post_form, unit, text=text)
    labels = [a.label for a in consultation.current_version.articles]
    assert labels == ["一(一)", "一(二)", "二(一)"]


def test_short_window_needs_a_reason_which_the_public_page_shows(
        client_as, post_form, editor, approver, unit, travel):
    client = client_as(editor)
    today = clock.today()
    short = {"opens_on": (today + timedelta(days=1)).isoformat(),
             "closes_on": (today + timedelta(days=5)).isoformat()}
    response = post_form(client, "/staff/consultations/new", draft_form(unit, **short))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "不少于 7 个工作日" in html
    assert 'id="short_window_reason-error"' in html
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0

    consultation = _create(client, post_form, unit, short_window_reason="春节前须完成备案。",
                           **short)
    assert consultation.short_window_reason == "春节前须完成备案。"
    assert staff_post(client, f"/staff/consultations/{consultation.id}/submit").status_code == 302
    approve = staff_post(client_as(approver), f"/staff/consultations/{consultation.id}/approve")
    assert approve.status_code == 302
    travel(consultation.opens_at + timedelta(hours=1))
    public = client_as().get(f"/consultations/{consultation.id}")
    assert public.status_code == 200
    assert "春节前须完成备案。" in public.get_data(as_text=True)


def test_a_rule_needs_thirty_days(client_as, post_form, editor, unit):
    today = clock.today()
    response = post_form(client_as(editor), "/staff/consultations/new", draft_form(
        unit, type="rule", opens_on=(today + timedelta(days=1)).isoformat(),
        closes_on=(today + timedelta(days=29)).isoformat()))
    assert response.status_code == 422
    assert "不少于 30 日" in response.get_data(as_text=True)


@pytest.mark.parametrize("overrides,message", [
    ({"title": ""}, "请填写标题"),
    ({"title": "   "}, "请填写标题"),
    ({"title": "长" * 301}, "300"),
    ({"text": ""}, "请粘贴征求意见稿全文"),
    ({"summary": ""}, "请填写内容摘要"),
    ({"type": "law"}, "文件类型"),
    ({"opens_on": "明天"}, "开始日期"),
    ({"closes_on": ""}, "请填写有效的截止日期"),
    ({"closes_on": (clock.today() - timedelta(days=3)).isoformat()}, "截止日期不能早于开始日期"),
])
def test_bad_input_rerenders_the_form_with_422(client_as, post_form, editor, unit, overrides,
                                               message):
    response = post_form(client_as(editor), "/staff/consultations/new",
                         draft_form(unit, **overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "error-summary" in html
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_hostile_html_is_shown_escaped(client_as, post_form, editor, unit):
    client = client_as(editor)
    consultation = _create(client, post_form, unit, title="<script>alert(1)</script>停车",
                           text="第一条 <b>加粗</b>内容。")
    html = client.get(f"/staff/consultations/{consultation.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;停车" in html
    assert "&lt;b&gt;加粗&lt;/b&gt;" in html


def test_creating_in_another_units_name_is_403(client_as, post_form, make, editor):
    other = make.unit("市教育局")
    response = post_form(client_as(editor), "/staff/consultations/new", draft_form(other))
    assert response.status_code == 403
    response = post_form(client_as(editor), "/staff/consultations/new",
                         draft_form(other, unit_id=999999))
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_legal_reviewer_cannot_create(client_as, make):
    reviewer = make.user("legal_reviewer", make.unit("市司法局", is_legal_office=True))
    client = client_as(reviewer)
    assert "新建意见征集" not in client.get("/staff").get_data(as_text=True)
    assert client.get("/staff/consultations/new").status_code == 403


def test_forged_csrf_token_is_400(client_as, editor, unit):
    client = client_as(editor)
    response = client.post("/staff/consultations/new",
                           data={**draft_form(unit), "csrf_token": "forged"})
    assert response.status_code == 400
    assert client.post("/staff/consultations/new", data=draft_form(unit)).status_code == 400


# --- editing -----------------------------------------------------------------------------------


def test_edit_is_prefilled_with_the_draft_text_and_saves(client_as, post_form, editor, unit):
    client = client_as(editor)
    consultation = _create(client, post_form, unit)
    page = client.get(f"/staff/consultations/{consultation.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "第一章 总则" in html and "第三条 公安交通管理部门" in html
    assert 'name="unit_id"' not in html  # the unit stays
    url = f"/staff/consultations/{consultation.id}/edit"
    response = post_form(client, url, draft_form(unit, title="修改后的标题",
                                            text="第一条 新内容。\n第二条 更多内容。"))
    assert response.status_code == 302
    assert consultation.title == "修改后的标题"
    assert [a.text for a in consultation.current_version.articles] == ["新内容。", "更多内容。"]
    assert [e.action for e in events_for(consultation)] == ["create", "edit"]


def test_edit_with_a_too_short_window_is_422(client_as, post_form, editor, unit):
    client = client_as(editor)
    consultation = _create(client, post_form, unit)
    today = clock.today()
    url = f"/staff/consultations/{consultation.id}/edit"
    short = (today + timedelta(days=3)).isoformat()
    response = post_form(client, url, draft_form(unit, closes_on=short))
    assert response.status_code == 422
    assert consultation.title == "关于加强城市道路停车管理的若干规定（征求意见稿）"


def test_only_drafts_can_be_edited(client_as, make, editor, unit):
    consultation = make.consultation("pending_approval", unit=unit)
    title = consultation.title
    client = client_as(editor)
    assert client.get(f"/staff/consultations/{consultation.id}/edit").status_code == 409
    rows = table_counts()
    response = staff_post(client, f"/staff/consultations/{consultation.id}/edit",
                          draft_form(unit, title="改过的标题"))
    assert response.status_code == 409
    assert consultation.title == title and table_counts() == rows
    assert "修改草稿" not in client.get(
        f"/staff/consultations/{consultation.id}").get_data(as_text=True)


# --- approval ----------------------------------------------------------------------------------


def test_submit_then_approve_by_another_approver(client_as, post_form, make, approver, approver2,
                                                  unit, travel):
    mine = client_as(approver)
    consultation = _create(mine, post_form, unit)
    detail = f"/staff/consultations/{consultation.id}"
    assert "提交审核" in mine.get(detail).get_data(as_text=True)
    assert staff_post(mine, f"{detail}/submit").status_code == 302
    assert consultation.state == State.PENDING_APPROVAL
    assert consultation.submitted_by_id == approver.id

    html = mine.get(detail).get_data(as_text=True)
    assert "须由本单位的其他审核人审核" in html
    assert f'href="{detail}/approve"' not in html
    assert "action=" not in mine.get(f"{detail}/approve").get_data(as_text=True).split("<main")[1]
    assert staff_post(mine, f"{detail}/approve").status_code == 403  # never their own submission
    assert consultation.state == State.PENDING_APPROVAL

    other = client_as(approver2)
    # the detail page links to the check page, which states what will happen and confirms
    assert f'href="{detail}/approve"' in other.get(detail).get_data(as_text=True)
    check = other.get(f"{detail}/approve").get_data(as_text=True)
    assert f'action="{detail}/approve"' in check and "此操作不能撤销" in check
    assert staff_post(other, f"{detail}/approve").status_code == 302
    assert consultation.state == State.SCHEDULED
    assert consultation.status == State.SCHEDULED
    assert consultation.approved_by_id == approver2.id
    assert staff_post(other, f"{detail}/approve").status_code == 409  # already approved

    travel(consultation.opens_at)
    assert consultation.status == State.OPEN
    travel(consultation.closes_at + timedelta(seconds=1))
    assert consultation.status == State.CLOSED
    html = other.get(detail).get_data(as_text=True)
    assert "已截止" in html
    actions = [e.action for e in events_for(consultation)]
    assert actions == ["create", "submit", "approve"]


def test_editor_cannot_approve_return_or_withdraw(client_as, make, editor, unit):
    consultation = make.consultation("pending_approval", unit=unit)
    client = client_as(editor)
    base = f"/staff/consultations/{consultation.id}"
    rows = table_counts()
    assert staff_post(client, f"{base}/approve").status_code == 403
    assert staff_post(client, f"{base}/return", {"return-reason": "x"}).status_code == 403
    assert staff_post(client, f"{base}/withdraw", {"withdraw-reason": "x"}).status_code == 403
    assert consultation.state == State.PENDING_APPROVAL
    assert table_counts() == rows



def test_return_needs_a_reason_and_shows_it(client_as, make, editor, approver, unit):
    consultation = make.consultation("pending_approval", unit=unit)
    client = client_as(approver)
    base = f"/staff/consultations/{consultation.id}"
    response = staff_post(client, f"{base}/return", {"return-reason": "  "})
    assert response.status_code == 422
    assert "请填写理由" in response.get_data(as_text=True)
    assert consultation.state == State.PENDING_APPROVAL
    response = staff_post(client, f"{base}/return", {"return-reason": "第三条表述不清，请修改。"})
    assert response.status_code == 302
    assert consultation.state == State.DRAFT
    html = client_as(editor).get(base).get_data(as_text=True)
    assert "第三条表述不清，请修改。" in html
    assert "退回修改" in html


def test_withdraw_with_a_reason_is_published(client_as, make, approver, unit):
    consultation = make.consultation("open", unit=unit)
    client = client_as(approver)
    base = f"/staff/consultations/{consultation.id}"
    assert staff_post(client, f"{base}/withdraw", {"withdraw-reason": ""}).status_code == 422
    response = staff_post(client, f"{base}/withdraw",
                          {"withdraw-reason": "上位法已修改，暂缓出台。"})
    assert response.status_code == 302
    assert consultation.status == State.WITHDRAWN
    public = client_as().get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "上位法已修改，暂缓出台。" in public
    assert staff_post(client, f"{base}/withdraw", {"withdraw-reason": "再次"}).status_code == 409


def test_submit_refuses_a_window_that_became_too_short(client_as, make, editor, unit):
    now = clock.now()
    consultation = make.consultation("draft", unit=unit, opens_at=now + timedelta(days=1),
                                     closes_at=now + timedelta(days=3))
    response = staff_post(client_as(editor), f"/staff/consultations/{consultation.id}/submit")
    assert response.status_code == 422
    assert "不少于 7 个工作日" in response.get_data(as_text=True)
    assert consultation.state == State.DRAFT


def test_unknown_consultation_is_404(client_as, editor):
    client = client_as(editor)
    assert client.get("/staff/consultations/999999").status_code == 404
    assert staff_post(client, "/staff/consultations/999999/submit").status_code == 404


# --- dashboard ---------------------------------------------------------------------------------


def test_dashboard_groups_by_status_and_counts_what_awaits_an_answer(client_as, make, editor,
                                                                     unit):
    child = make.unit("执法支队", parent=unit)
    draft = make.consultation("draft", unit=unit, title="草稿甲")
    closed = make.consultation("closed", unit=child, title="已截止乙")
    for _ in range(3):
        make.comment(closed, article=1)
    answered = make.comment(closed, article=2)
    make.answer(answered, "adopted", None)
    make.comment(closed, status=CommentStatus.HIDDEN)
    elsewhere = make.consultation("open", title="别的单位的征集")
    html = client_as(editor).get("/staff").get_data(as_text=True)
    assert draft.title in html and closed.title in html
    assert elsewhere.title not in html
    assert 'id="status-draft"' in html and 'id="status-closed"' in html
    assert "新建意见征集" in html
    assert f'/staff/consultations/{closed.id}/comments?answered=unanswered">3</a>' in html


# --- units and sub-units -----------------------------------------------------------------------


def test_parent_unit_approver_acts_on_a_child_units_consultation_not_vice_versa(client_as, make):
    parent = make.unit("市人民政府办公室")
    child = make.unit("市政务服务管理局", parent=parent)
    parent_approver = make.user("approver", parent)
    child_approver = make.user("approver", child)
    child_draft = make.consultation("pending_approval", unit=child)
    parent_draft = make.consultation("pending_approval", unit=parent)

    up = client_as(parent_approver)
    assert up.get(f"/staff/consultations/{child_draft.id}").status_code == 200
    assert staff_post(up, f"/staff/consultations/{child_draft.id}/approve").status_code == 302
    assert child_draft.state == State.SCHEDULED

    down = client_as(child_approver)
    assert down.get(f"/staff/consultations/{parent_draft.id}").status_code == 403
    assert staff_post(down, f"/staff/consultations/{parent_draft.id}/approve").status_code == 403
    assert parent_draft.state == State.PENDING_APPROVAL
    assert parent_draft.title not in down.get("/staff").get_data(as_text=True)


# --- the whole staff lifecycle -----------------------------------------------------------------


def test_full_staff_lifecycle(client_as, post_form, make, editor, approver, approver2, unit,
                              travel):
    """Draft → approval → comments → answers → report → policy and interpretation."""
    desk = client_as(editor)
    consultation = _create(desk, post_form, unit)
    cid = consultation.id
    assert len(consultation.current_version.articles) == 3
    assert staff_post(desk, f"/staff/consultations/{cid}/submit").status_code == 302
    assert staff_post(client_as(approver), f"/staff/consultations/{cid}/approve").status_code == 302

    travel(consultation.opens_at + timedelta(days=1))
    assert consultation.status == State.OPEN
    on_article = make.comment(consultation, article=3, body="建议增加夜间共享泊位。",
                              email="citizen@example.org")
    whole = make.comment(consultation, body="整体赞同。")
    travel(consultation.closes_at + timedelta(days=1))
    assert consultation.status == State.CLOSED

    queue = desk.get(f"/staff/consultations/{cid}/comments")
    assert queue.status_code == 200
    assert "建议增加夜间共享泊位。" in queue.get_data(as_text=True)
    assert "citizen@example.org" in queue.get_data(as_text=True)

    answer = f"/staff/comments/{on_article.id}/answer"
    page = f"/staff/consultations/{cid}/comments"
    response = post_form(desk, answer, {"code": "not_adopted", "reason": ""}, page=page)
    assert response.status_code == 422
    assert "除“采纳”外，答复须说明理由" in response.get_data(as_text=True)
    response = post_form(desk, f"/staff/comments/{whole.id}/answer", {"code": "adopted"},
                         page=page)
    assert response.status_code == 302

    report_url = f"/staff/consultations/{cid}/report"
    boss = client_as(approver2)
    response = post_form(boss, report_url, {"summary": "共收到意见 2 条。"})
    assert response.status_code == 409
    assert "1 条意见未答复" in response.get_data(as_text=True)
    response = post_form(desk, answer, {"code": "partly_adopted", "reason": "在试点区域采纳。"},
                         page=page)
    assert response.status_code == 302
    response = post_form(boss, report_url, {"summary": "共收到意见 2 条。"})
    assert response.status_code == 302
    assert _path(response) == f"/consultations/{cid}/report"
    assert consultation.status == State.REPORT_PUBLISHED

    policy_url = f"/staff/consultations/{cid}/policy/new"
    response = post_form(desk, policy_url, {
        "title": "关于加强城市道路停车管理的若干规定", "document_number": "市交规〔2025〕1号",
        "issued_on": clock.today().isoformat(), "effective_on": "", "text": "第一条 ……",
    })
    assert response.status_code == 302
    policy = db.session.scalar(db.select(Policy).where(Policy.consultation_id == cid))
    assert policy.published_at is None
    detail = boss.get(f"/staff/policies/{policy.id}").get_data(as_text=True)
    assert "尚未添加政策解读" in detail  # 三同步 warning before publishing
    response = post_form(desk, f"/staff/policies/{policy.id}/interpretations/new", {
        "title": "《若干规定》政策解读", "kind": "qa", "body": "问：为什么……答：……",
    })
    assert response.status_code == 302
    response = post_form(boss, f"/staff/policies/{policy.id}/publish", {},
                         page=f"/staff/policies/{policy.id}")
    assert response.status_code == 302
    assert consultation.status == State.POLICY_ISSUED
    assert policy.published_at is not None
    assert all(i.published_at for i in policy.interpretations)
    trail = boss.get(f"/staff/consultations/{cid}").get_data(as_text=True)
    for action in ("创建草稿", "提交审核", "审核通过", "发布意见采纳情况报告", "正式文件出台"):
        assert action in trail
    assert db.session.scalar(db.select(db.func.count(Disposition.id))) == 2
