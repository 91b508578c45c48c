"""Versions (F5): a revised draft is version 2 with a changelog, version 1 stays readable, the two
are compared article by article, a second comment round points comments at version 2 while the
first round's keep version 1; and a withdrawal's reason is published."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consult import audit, clock
from consult.answers import services as answers
from consult.answers.models import DispositionCode
from consult.comments.models import Comment
from consult.consultations import services, versions
from consult.consultations.models import State
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from tests.conftest import staff_post, table_counts

V1 = """第一章 总则
第一条 为了加强城市供水管理，保障用水安全，制定本办法。
第二条 本办法适用于本市行政区域内的城市供水及其管理活动。
第三条 供水企业应当在每月五日前公布水质信息。
第四条 用户应当按时缴纳水费。
第五条 本办法自公布之日起施行。"""

# Article 3 changed; a new article after article 1 renumbers the rest; article 4 removed.
V2 = """第一章 总则
第一条 为了加强城市供水管理，保障用水安全，制定本办法。
第二条 市水务局是本市城市供水的主管部门。
第三条 本办法适用于本市行政区域内的城市供水及其管理活动。
第四条 供水企业应当在每月十日前通过网站公布水质信息。
第五条 本办法自公布之日起施行。"""

CHANGELOG = "根据公众意见，明确主管部门，放宽水质信息公布时间，删除缴费条款。"


@pytest.fixture
def unit(make):
    return make.unit("市水务局")


@pytest.fixture
def approver(make, unit):
    return make.user("approver", unit, name="何审核")


@pytest.fixture
def c(make, unit):
    return make.consultation("open", unit=unit, title="城市供水管理办法", text=V1)


def _api_comment(client, c, article, body="建议再明确一些。"):
    response = client.post(f"/api/v1/consultations/{c.id}/comments",
                           data=json.dumps({"body": body, "article": article,
                                            "category": "individual"}),
                           content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    return db.session.scalar(
        db.select(Comment).where(Comment.tracking_no == response.json["tracking_no"]))


# --- publishing a version ---------------------------------------------------------------------


def test_a_revised_draft_is_version_2_and_version_1_stays_readable(client, approver, c):
    v1 = c.current_version
    v2 = versions.new_version(c, V2, CHANGELOG, actor=approver)
    assert (v1.number, v2.number) == (1, 2) and c.current_version is v2
    assert [a.label for a in v1.articles] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    assert "每月五日前" in v1.articles[2].text
    assert v2.changelog == CHANGELOG and "每月十日前" in v2.articles[3].text
    assert c.status == State.OPEN
    event = audit.events_for(c)[-1]
    assert (event.action, event.reason, event.detail["version"]) == ("new_version", CHANGELOG, 2)

    detail = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "每月十日前" in detail and "每月五日前" not in detail
    assert "版本" in detail and CHANGELOG in detail
    assert f"/consultations/{c.id}/versions/1" in detail
    assert f"/consultations/{c.id}/versions/2/compare" in detail
    old = client.get(f"/consultations/{c.id}/versions/1")
    assert old.status_code == 200
    html = old.get_data(as_text=True)
    assert "每月五日前" in html and "用户应当按时缴纳水费" in html and "这不是现行版本" in html


def test_the_comparison_marks_changed_added_and_removed_articles(client, approver, c):
    versions.new_version(c, V2, CHANGELOG, actor=approver)
    rows = versions.compare(c.versions[0], c.versions[1])
    kinds = [(r.kind, r.old.label if r.old else None, r.new.label if r.new else None)
             for r in rows]
    assert kinds == [
        ("unchanged", "第一条", "第一条"),
        ("added", None, "第二条"),
        ("unchanged", "第二条", "第三条"),  # matched by its text, though renumbered
        ("changed", "第三条", "第四条"),
        ("removed", "第四条", None),
        ("unchanged", "第五条", "第五条"),
    ]
    assert rows[2].renumbered and not rows[0].renumbered
    assert ("delete", "五") in rows[3].pieces and ("insert", "十") in rows[3].pieces
    assert ("insert", "通过网站") in rows[3].pieces

    response = client.get(f"/consultations/{c.id}/versions/2/compare")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "修改 1 条，新增 1 条，删除 1 条，未修改 3 条。" in html
    assert "<del>五</del><ins>十</ins>" in html
    assert "compare-added" in html and "compare-removed" in html and "compare-changed" in html
    assert "原第四条" in html and CHANGELOG in html


def test_character_diffs_and_similarity_matching():
    assert versions.diff_pieces("每月五日前公布", "每月十日前公布") == [
        ("equal", "每月"), ("delete", "五"), ("insert", "十"), ("equal", "日前公布")]
    assert versions.diff_pieces("", "新增") == [("insert", "新增")]


def test_an_article_rewritten_under_the_same_number_is_changed_not_replaced(approver, c):
    text = V1.replace("第三条 供水企业应当在每月五日前公布水质信息。",
                      "第三条 水质检测结果由市水务局统一对外发布。")
    versions.new_version(c, text, "改写第三条。", actor=approver)
    rows = versions.compare(c.versions[0], c.versions[1])
    assert [r.kind for r in rows] == ["unchanged", "unchanged", "changed", "unchanged",
                                      "unchanged"]


def test_hostile_text_is_escaped_in_the_comparison(client, approver, c):
    versions.new_version(c, V1.replace("制定本办法", "制定本办法<script>alert(1)</script>"),
                         "<b>修改</b>", actor=approver)
    html = client.get(f"/consultations/{c.id}/versions/2/compare").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<b>修改</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_versions_404(client, make, approver, c):
    assert client.get(f"/consultations/{c.id}/versions/1/compare").status_code == 404
    assert client.get(f"/consultations/{c.id}/versions/2").status_code == 404
    assert client.get(f"/consultations/{c.id}/versions/0").status_code == 404
    assert client.get("/consultations/999999/versions/1").status_code == 404
    draft = make.consultation("draft")
    assert client.get(f"/consultations/{draft.id}/versions/1").status_code == 404


@pytest.mark.parametrize("changelog, text, field", [
    ("", V2, "changelog"), ("   ", V2, "changelog"), ("说明", "   ", "text"),
])
def test_a_version_needs_a_changelog_and_text(approver, c, changelog, text, field):
    with pytest.raises(ValidationFailed) as error:
        versions.new_version(c, text, changelog, actor=approver)
    assert field in error.value.fields
    assert len(c.versions) == 1


@pytest.mark.parametrize("state", ["draft", "pending_approval", "scheduled",
                                   "report_published", "withdrawn"])
def test_only_an_open_or_closed_consultation_gets_a_new_version(make, unit, approver, state):
    c = make.consultation(state, unit=unit)
    with pytest.raises(InvalidTransition):
        versions.new_version(c, V2, CHANGELOG, actor=approver)
    assert len(c.versions) == 1


# --- the staff page ---------------------------------------------------------------------------


def test_an_approver_publishes_a_version_from_the_staff_page(client_as, post_form, approver, c):
    client = client_as(approver)
    url = f"/staff/consultations/{c.id}/versions/new"
    page = client.get(url).get_data(as_text=True)
    assert "每月五日前" in page  # the current text to revise
    assert url in client.get(f"/staff/consultations/{c.id}").get_data(as_text=True)
    response = post_form(client, url, {"text": V2, "changelog": "", "reopen_until": ""})
    assert response.status_code == 422
    assert len(c.versions) == 1
    response = post_form(client, url, {"text": V2, "changelog": CHANGELOG, "reopen_until": ""})
    assert response.status_code == 302
    assert len(c.versions) == 2
    page = client.get(f"/staff/consultations/{c.id}").get_data(as_text=True)
    assert "第 2 稿" in page and "发布新版本" in page


def test_editors_and_other_units_may_not_publish_a_version(client_as, make, unit, c):
    url = f"/staff/consultations/{c.id}/versions/new"
    editor = client_as(make.user("editor", unit))
    stranger = client_as(make.user("approver"))
    rows = table_counts()
    assert editor.get(url).status_code == 403
    assert staff_post(editor, url, {"text": V2, "changelog": CHANGELOG}).status_code == 403
    assert stranger.get(url).status_code == 403
    assert staff_post(stranger, url, {"text": V2, "changelog": CHANGELOG}).status_code == 403
    assert len(c.versions) == 1
    assert table_counts() == rows



def test_a_draft_explains_instead_of_offering_a_version(client_as, make, unit, approver):
    draft = make.consultation("draft", unit=unit)
    url = f"/staff/consultations/{draft.id}/versions/new"
    response = client_as(approver).get(url)
    assert response.status_code == 200
    assert "未公开的草稿请直接修改" in response.get_data(as_text=True)
    assert staff_post(client_as(approver), url, {"text": V2, "changelog": "x"}).status_code == 409


# --- a second round ---------------------------------------------------------------------------


def test_a_second_round_reopens_a_closed_consultation(client, make, unit, approver, travel):
    c = make.consultation("closed", unit=unit, text=V1)
    first = make.comment(c, article=3, body="五日太早了。", email="a@example.org")
    until = clock.today() + timedelta(days=20)  # a normative document: ≥ 7 working days
    v2 = versions.new_version(c, V2, CHANGELOG, actor=approver, reopen_until=until)
    assert c.status == State.OPEN
    assert clock.local_date(c.closes_at) == until
    [notice] = c.extensions
    assert notice.reason == versions.SECOND_ROUND_REASON and notice.version is v2
    html = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "延长征求意见期限公告" in html and "第二轮征求意见" in html

    second = _api_comment(client, c, 4, "十日可以接受。")
    assert second.version_id == v2.id and second.article.label == "第四条"
    assert "每月十日前" in second.article.text
    db.session.refresh(first)
    assert first.version_id == c.versions[0].id and "每月五日前" in first.article.text
    html = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "第 1 稿" in html  # the first-round comment is marked with its version

    # The report counts each round's comments against its own version.
    travel(c.closes_at + timedelta(seconds=1))
    for comment in (first, second):
        answers.answer_comment(comment, DispositionCode.ADOPTED, None, actor=approver)
    report = answers.publish_report(c, summary="两轮意见均已采纳。", actor=approver)
    rows = {(r["version"], r["article"]): r["received"] for r in report.content["by_article"]}
    assert rows == {(1, 3): 1, (2, 4): 1}
    assert {item["version"] for item in report.content["items"]} == {1, 2}


def test_a_second_round_follows_the_minimum_window(make, unit, approver):
    c = make.consultation("closed", unit=unit, type="rule", text=V1)
    too_soon = clock.today() + timedelta(days=10)
    with pytest.raises(ValidationFailed) as error:
        versions.new_version(c, V2, CHANGELOG, actor=approver, reopen_until=too_soon)
    assert "reopen_until" in error.value.fields or "short_window_reason" in error.value.fields
    assert "不少于 30 日" in error.value.message
    assert len(c.versions) == 1 and c.status == State.CLOSED
    versions.new_version(c, V2, CHANGELOG, actor=approver, reopen_until=too_soon,
                         short_window_reason="只修改了两条，缩短第二轮期限。")
    assert c.status == State.OPEN
    assert c.extensions[0].short_window_reason == "只修改了两条，缩短第二轮期限。"


def test_a_second_round_cannot_close_an_open_window_early(approver, c):
    earlier = clock.local_date(c.closes_at) - timedelta(days=1)
    with pytest.raises(Conflict):
        versions.new_version(c, V2, CHANGELOG, actor=approver, reopen_until=earlier)
    with pytest.raises(ValidationFailed) as error:  # the same date is no second round
        versions.new_version(c, V2, CHANGELOG, actor=approver,
                             reopen_until=clock.local_date(c.closes_at))
    assert "reopen_until" in error.value.fields
    assert len(c.versions) == 1 and not c.extensions


def test_a_second_round_through_the_form_shows_its_errors(client_as, post_form, make, unit,
                                                          approver):
    c = make.consultation("closed", unit=unit, type="rule", text=V1)
    url = f"/staff/consultations/{c.id}/versions/new"
    response = post_form(client_as(approver), url, {
        "text": V2, "changelog": CHANGELOG,
        "reopen_until": (clock.today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 422
    assert "不少于 30 日" in response.get_data(as_text=True)
    assert len(c.versions) == 1


# --- withdrawal -------------------------------------------------------------------------------


def test_a_withdrawn_consultation_shows_its_reason_and_stays_in_the_all_list(client, approver, c):
    services.withdraw(c, actor=approver, reason="上位法正在修订，<暂停>制定。")
    html = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "撤回理由" in html and "上位法正在修订，&lt;暂停&gt;制定。" in html
    assert c.title in client.get("/consultations?status=all").get_data(as_text=True)
    assert c.title not in client.get("/consultations").get_data(as_text=True)
    ids = [item["id"] for item in
           client.get("/api/v1/consultations?status=all").json["items"]]
    assert c.id in ids


def test_a_draft_withdrawn_before_approval_never_goes_public(client, make, unit, approver):
    draft = make.consultation("draft", unit=unit, title="从未公开的草稿")
    services.withdraw(draft, actor=approver, reason="不再制定。")
    assert draft.state == State.WITHDRAWN
    assert client.get(f"/consultations/{draft.id}").status_code == 404
    assert "从未公开的草稿" not in client.get("/consultations?status=all").get_data(as_text=True)
    ids = [item["id"] for item in
           client.get("/api/v1/consultations?status=all").json["items"]]
    assert draft.id not in ids
