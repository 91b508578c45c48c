"""Groups of near-identical comments (F13): found, confirmed, split, merged, answered once."""

from __future__ import annotations

from collections import Counter

import pytest

from consult.answers import groups as groups_service
from consult.answers import services, similarity
from consult.answers.models import CommentGroup, DispositionCode, GroupStatus
from consult.answers.services import UNSPECIFIED_REGION
from consult.audit import AuditEvent
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.errors import Conflict, NotFound, ValidationFailed
from consult.extensions import db
from consult.jobs.queue import run_due

LETTER = ("我们坚决反对在小区内增设收费停车位。小区道路狭窄，增设车位将堵塞消防通道，"
          "建议保留现有的免费停车位，并由业主大会决定停车收费事宜，保障业主的知情权和参与权。")
LETTER_EDITED = LETTER.replace("坚决", "强烈").replace("，并", "，并且") + "\n——住户 王某"
LETTER_TRADITIONAL = ("我們堅決反對在小區內增設收費停車位。小區道路狹窄，增設車位將堵塞消防通道，"
                      "建議保留現有的免費停車位，並由業主大會決定停車收費事宜，保障業主的知情權和參與權。")
OTHER_LETTER = ("建议在第五条中增加加装电梯的补贴标准，低楼层住户的补偿办法应当由街道办事处"
                "组织协商确定，并在小区公告栏公示不少于十五日。")


# --- the detector ------------------------------------------------------------------------------


def test_normalise_folds_width_script_case_and_punctuation():
    assert similarity.normalise("建議：提高 ＡＢＣ 標準！！") == "建议提高abc标准"
    assert similarity.normalise("提高到５００元。") == "提高到500元"
    assert similarity.normalise("！！！……") == ""
    assert similarity.normalise(None) == ""


def test_form_letters_with_small_edits_are_one_group_distinct_comments_none():
    texts = [
        (1, LETTER), (2, OTHER_LETTER), (3, LETTER_EDITED), (4, LETTER + "  "),
        (5, "建议延长公示期。"), (6, LETTER_TRADITIONAL), (7, OTHER_LETTER.replace("十五", "十")),
        (8, "建议缩短公示期。"), (9, "同意"), (10, "同意！"), (11, "不同意"), (12, "……"),
        (13, "！"),
    ]
    found = similarity.find_groups(texts)
    assert found == [[1, 3, 4, 6], [2, 7], [9, 10]]
    # the quadratic reference agrees
    assert similarity.all_pairs_groups(texts) == found


def test_the_similarity_threshold_is_configurable():
    texts = [(1, LETTER), (2, LETTER_EDITED)]
    assert similarity.find_groups(texts) == [[1, 2]]
    assert similarity.find_groups(texts, similarity=99) == []


def test_short_texts_are_grouped_only_when_identical():
    texts = [(1, "建议将公示期延长至三十日以上"), (2, "建议将公示期延长至二十日以上"),
             (3, "建议将公示期延长至三十日以上！")]
    assert similarity.find_groups(texts, similarity=50) == [[1, 3]]
    assert similarity.all_pairs_groups(texts, similarity=50) == [[1, 3]]


def test_a_big_campaign_is_found_without_comparing_every_pair(monkeypatch):
    calls = Counter()
    real = similarity.similar

    def counting(a, b, similarity=similarity.DEFAULT_SIMILARITY):
        calls["n"] += 1
        return real(a, b, similarity)

    monkeypatch.setattr(similarity, "similar", counting)
    texts = [(i, LETTER.replace("小区", "小区" + "的" * (i % 3)) + f"第{i}号") for i in range(300)]
    found = similarity.find_groups(texts)
    assert found == [list(range(300))]
    # all pairs would be 44 850 comparisons; LSH with a few leaders per bucket needs ~ n
    assert calls["n"] < 3 * 300


# --- the services ------------------------------------------------------------------------------


@pytest.fixture
def closed(make):
    c = make.consultation("closed")
    return c, make.user("editor", c.unit), make.user("approver", c.unit)


def _letters(make, c):
    return [
        make.comment(c, article=3, body=LETTER, category=Category.INDIVIDUAL, region="鼓楼区",
                     email="a@example.org"),
        make.comment(c, article=3, body=LETTER_EDITED, category=Category.ORGANISATION,
                     channel=Channel.LETTER),
        make.comment(c, article=5, body=LETTER_TRADITIONAL, category=Category.INDIVIDUAL,
                     region="鼓楼区"),
    ]


def test_suggested_groups_replace_earlier_suggestions_and_skip_hidden(make, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    hidden = make.comment(c, body=LETTER, status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.SPAM)
    make.comment(c, body=OTHER_LETTER)
    first = groups_service.suggest_groups(c, actor=editor)
    assert len(first) == 1 and first[0].status == GroupStatus.SUGGESTED
    assert [m.id for m in first[0].members] == [x.id for x in letters]
    assert hidden.group_id is None
    assert first[0].representative_comment_id == letters[0].id
    again = groups_service.suggest_groups(c, actor=editor)
    assert len(again) == 1
    assert db.session.scalar(db.select(db.func.count(CommentGroup.id))) == 1
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "suggest_groups")).all()[-1]
    assert event.actor_id == editor.id and event.detail["groups"] == 1


def test_confirmed_groups_stay_when_suggesting_again(make, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    groups_service.confirm_group(group, actor=editor)
    late = make.comment(c, body=LETTER + "！")
    late2 = make.comment(c, body=LETTER + "。。")
    new = groups_service.suggest_groups(c, actor=editor)
    assert group.status == GroupStatus.CONFIRMED
    assert [m.id for m in group.members] == [x.id for x in letters]
    assert [[m.id for m in g.members] for g in new] == [[late.id, late2.id]]
    # staff merge the late letters into the confirmed group
    groups_service.merge_groups(group, new, actor=editor)
    db.session.expire(group)
    assert len(group.members) == 5
    assert db.session.get(CommentGroup, new[0].id) is None


def test_a_group_answer_reaches_every_member_and_their_receipts(make, closed, client):
    c, editor, approver = closed
    letters = _letters(make, c)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    with pytest.raises(Conflict):  # confirm first
        groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, "理由", actor=editor)
    groups_service.confirm_group(group, actor=editor)
    with pytest.raises(ValidationFailed):
        groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, " ", actor=editor)
    reason = "停车收费由业主大会决定，已在第十条规定。"
    changed = groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, reason,
                                          actor=editor)
    assert changed == 3
    for letter in letters:
        assert letter.disposition.code == DispositionCode.NOT_ADOPTED
        assert letter.disposition.answered_by == editor
    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "answer", AuditEvent.object_type == "comments")).all()
    assert sorted(e.object_id for e in events) == sorted(x.id for x in letters)
    assert all(e.detail == {"disposition": "not_adopted", "group": group.id} for e in events)
    # a member of a confirmed group is answered through its group only
    with pytest.raises(Conflict) as error:
        services.answer_comment(letters[0], DispositionCode.ADOPTED, None, actor=editor)
    assert error.value.code == "answer_the_group"
    assert services.blockers(c) == {}
    services.publish_report(c, summary="", actor=approver)
    db.session.commit()
    for letter in letters:  # each sender's receipt shows the answer
        html = client.get(f"/receipts/{letter.tracking_no}").get_data(as_text=True)
        assert "停车收费由业主大会决定，已在第十条规定。" in html and "不予采纳" in html


def test_confirming_spreads_the_answer_the_members_share(make, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    services.answer_comment(letters[0], DispositionCode.ALREADY_PROVIDED, "第十条", actor=editor)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    assert groups_service.group_answer(group)["unanswered"] == 2
    assert groups_service.confirm_group(group, actor=editor) == 2
    assert {x.disposition.reason for x in letters} == {"第十条"}


def test_members_answered_differently_are_not_overwritten_on_confirming(make, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    services.answer_comment(letters[0], DispositionCode.ALREADY_PROVIDED, "第十条", actor=editor)
    services.answer_comment(letters[1], DispositionCode.ADOPTED, None, actor=editor)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    assert groups_service.confirm_group(group, actor=editor) == 0
    assert groups_service.group_answer(group)["mixed"] is True
    assert letters[2].disposition is None


def test_splitting_takes_members_out_and_dissolves_a_group_of_one(make, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    groups_service.confirm_group(group, actor=editor)
    groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, "理由", actor=editor)
    with pytest.raises(ValidationFailed):
        groups_service.split_group(group, [], actor=editor)
    stranger = make.comment(c, body="别的意见")
    with pytest.raises(NotFound):
        groups_service.split_group(group, [stranger], actor=editor)
    left = groups_service.split_group(group, [letters[0]], actor=editor)
    assert left is group and letters[0].group_id is None
    assert group.representative_comment_id == letters[1].id  # the old one left
    assert letters[0].disposition.reason == "理由"  # kept, now its own answer
    services.answer_comment(letters[0], DispositionCode.ADOPTED, None, actor=editor)
    assert groups_service.split_group(group, [letters[2]], actor=editor) is None
    assert letters[1].group_id is None and letters[2].group_id is None
    assert db.session.get(CommentGroup, group.id) is None


def test_staff_can_group_comments_the_detector_missed(make, closed):
    c, editor, _ = closed
    a = make.comment(c, body="停车位不应收费。")
    b = make.comment(c, body="反对停车收费，车位应免费。")
    with pytest.raises(ValidationFailed):
        groups_service.group_comments(c, [a], actor=editor)
    group = groups_service.group_comments(c, [a, b], actor=editor)
    assert group.confirmed and group.confirmed_by == editor
    assert [m.id for m in group.members] == [a.id, b.id]


def test_groups_cannot_change_after_the_report_is_published(make, closed):
    c, editor, approver = closed
    letters = _letters(make, c)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    groups_service.confirm_group(group, actor=editor)
    groups_service.answer_group(group, DispositionCode.ADOPTED, None, actor=editor)
    services.publish_report(c, summary="", actor=approver)
    with pytest.raises(Conflict):
        groups_service.split_group(group, [letters[0]], actor=editor)
    with pytest.raises(Conflict):
        groups_service.suggest_groups(c, actor=editor)
    with pytest.raises(Conflict):
        groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, "x", actor=editor)


# --- the report --------------------------------------------------------------------------------


def test_the_report_shows_a_campaign_once_with_exact_counts(make, closed, client):
    c, editor, approver = closed
    letters = _letters(make, c)
    other = make.comment(c, article=3, body=OTHER_LETTER, channel=Channel.EMAIL)
    hidden = make.comment(c, body=LETTER, status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.ABUSIVE)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    groups_service.confirm_group(group, actor=editor)
    groups_service.answer_group(group, DispositionCode.NOT_ADOPTED, "已有规定。", actor=editor)
    services.answer_comment(other, DispositionCode.ADOPTED, None, actor=editor)
    report = services.publish_report(c, summary="", actor=approver)
    content = report.content
    totals = content["totals"]
    assert totals["received"] == 5 and totals["answered"] == 4 and totals["hidden"] == 1
    assert totals["by_disposition"]["not_adopted"] == 3
    assert totals["by_disposition"]["adopted"] == 1

    kinds = Counter(item["kind"] for item in content["items"])
    assert kinds == {"comment": 2, "group": 1}  # the other comment, the hidden one
    campaign = next(i for i in content["items"] if i["kind"] == "group")
    assert campaign["count"] == 3 and campaign["group_id"] == group.id
    assert campaign["tracking_nos"] == [x.tracking_no for x in letters]
    assert campaign["text"] == LETTER and campaign["disposition"] == "not_adopted"
    assert campaign["reason"] == "已有规定。"
    assert campaign["by_category"] == {"individual": 2, "organisation": 1}
    assert campaign["by_channel"] == {"web": 2, "letter": 1}
    assert campaign["by_region"] == {"鼓楼区": 2, UNSPECIFIED_REGION: 1}
    assert campaign["by_article"] == [{"version": 1, "article": 3, "count": 2},
                                      {"version": 1, "article": 5, "count": 1}]
    assert (campaign["version"], campaign["article"]) == (1, 3)
    assert sum(campaign["by_submitted_on"].values()) == 3

    # the items re-compute every total
    received = Counter()
    for item in content["items"]:
        received["all"] += item["count"]
        for key, single in (("by_category", "category"), ("by_channel", "channel")):
            for value, n in (item.get(key) or {item[single]: item["count"]}).items():
                received[key, value] += n
    assert received["all"] == totals["received"]
    for key in ("by_category", "by_channel"):
        for value, n in totals[key].items():
            assert received[key, value] == n, (key, value)
    article_rows = {(r["version"], r["article"]): r["received"] for r in content["by_article"]}
    assert article_rows[1, 3] == 3 and article_rows[1, 5] == 1
    assert hidden.tracking_no in {i["tracking_no"] for i in content["items"]}

    html = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    assert html.count("我们坚决反对在小区内增设收费停车位") == 1
    assert "相同意见合并 3 条" in html


def test_a_group_answered_unevenly_is_listed_member_by_member(make, closed):
    c, editor, approver = closed
    letters = _letters(make, c)
    services.answer_comment(letters[0], DispositionCode.ADOPTED, None, actor=editor)
    services.answer_comment(letters[1], DispositionCode.NOT_ADOPTED, "理由", actor=editor)
    services.answer_comment(letters[2], DispositionCode.NOT_ADOPTED, "理由", actor=editor)
    group = groups_service.suggest_groups(c, actor=editor)[0]
    groups_service.confirm_group(group, actor=editor)
    content = services.publish_report(c, summary="", actor=approver).content
    assert [i["kind"] for i in content["items"]] == ["comment"] * 3
    assert content["totals"]["answered"] == 3


# --- the staff pages ---------------------------------------------------------------------------


def _groups_page(c, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/staff/consultations/{c.id}/groups" + (f"?{query}" if query else "")


def test_staff_find_confirm_and_answer_a_group_through_the_pages(client_as, make, post_form,
                                                                 closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    hostile = make.comment(c, body="<i>" + LETTER + "</i>")
    client = client_as(editor)
    html = client.get(_groups_page(c)).get_data(as_text=True)
    assert "还没有相同意见组" in html
    response = post_form(client, f"/staff/consultations/{c.id}/groups/suggest", {},
                         page=_groups_page(c))
    assert response.status_code == 302
    # the detector runs as a job: until it has run, the page shows it queued, and reloads
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "正在查找相同或相近的意见" in html and "排队中" in html and "<progress" in html
    assert '<meta http-equiv="refresh"' in html
    assert db.session.scalar(db.select(CommentGroup)) is None
    assert run_due() == 1
    group = db.session.scalar(db.select(CommentGroup))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "找到 1 组" in html and f"组{group.id}" in html and "待确认" in html
    assert '<meta http-equiv="refresh"' not in html
    assert "<i>我们" not in html and "&lt;i&gt;我们" in html
    assert hostile.group_id == group.id
    assert "确认后才能统一答复本组" in html
    # the queue shows each member's group, and no single answer form for confirmed ones
    response = post_form(client, f"/staff/groups/{group.id}/confirm", {}, page=_groups_page(c))
    assert response.status_code == 302
    assert group.confirmed and group.confirmed_by == editor
    queue = client.get(f"/staff/consultations/{c.id}/comments").get_data(as_text=True)
    assert queue.count("随该组统一答复") == 4
    # answer the group: a reason is needed
    url = f"/staff/groups/{group.id}/answer"
    response = post_form(client, url, {"code": "not_adopted", "reason": ""},
                         page=_groups_page(c))
    assert response.status_code == 422
    assert "除“采纳”外，答复须说明理由" in response.get_data(as_text=True)
    response = post_form(client, url, {"code": "partly_adopted", "reason": "部分采纳，见第十条。"},
                         page=_groups_page(c))
    assert response.status_code == 302
    assert all(m.disposition.code == DispositionCode.PARTLY_ADOPTED
               for m in [*letters, hostile])


def test_staff_split_and_merge_groups_through_the_pages(client_as, make, post_form, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    others = [make.comment(c, body=OTHER_LETTER), make.comment(c, body=OTHER_LETTER + "。")]
    client = client_as(editor)
    post_form(client, f"/staff/consultations/{c.id}/groups/suggest", {}, page=_groups_page(c))
    run_due()
    first, second = db.session.scalars(db.select(CommentGroup).order_by(CommentGroup.id)).all()
    response = post_form(client, f"/staff/groups/{first.id}/split", {},
                         page=_groups_page(c))
    assert response.status_code == 422  # nothing ticked
    response = post_form(client, f"/staff/groups/{first.id}/split",
                         {"comment_ids": [str(letters[2].id)]}, page=_groups_page(c))
    assert response.status_code == 302
    assert letters[2].group_id is None
    response = post_form(client, f"/staff/groups/{second.id}/merge", {"into": "abc"},
                         page=_groups_page(c))
    assert response.status_code == 422
    response = post_form(client, f"/staff/groups/{second.id}/merge", {"into": str(first.id)},
                         page=_groups_page(c))
    assert response.status_code == 302
    assert {m.group_id for m in others} == {first.id}
    assert db.session.get(CommentGroup, second.id) is None
    assert first.confirmed


def test_group_pages_refuse_other_units_and_forged_csrf(client_as, make, closed):
    c, editor, _ = closed
    letters = _letters(make, c)
    group = groups_service.group_comments(c, letters, actor=editor)
    stranger = client_as(make.user("approver", make.unit("市民政局")))
    assert stranger.get(_groups_page(c)).status_code == 403
    from tests.conftest import csrf_from

    token = csrf_from(stranger.get("/staff").get_data(as_text=True))
    for action, data in (("answer", {"code": "adopted"}), ("split", {}), ("confirm", {}),
                         ("merge", {"into": str(group.id)})):
        response = stranger.post(f"/staff/groups/{group.id}/{action}",
                                 data={"csrf_token": token, **data})
        assert response.status_code == 403, action
    assert stranger.post(f"/staff/consultations/{c.id}/groups/suggest",
                         data={"csrf_token": token}).status_code == 403
    own = client_as(editor)
    assert own.post(f"/staff/groups/{group.id}/answer",
                    data={"csrf_token": "forged", "code": "adopted"}).status_code == 400
    assert own.post("/staff/groups/999999/confirm",
                    data={"csrf_token": token}).status_code in (400, 404)
    assert all(m.disposition is None for m in letters)
