"""The answering workbench (issue 13): one comment at a time beside its article, save and next by
plain POST, the compact table, the seen record, groups and topics answered as sets."""

import re

import pytest

from consult.answers.clustering import FoundTopic
from consult.answers.models import CommentGroup, CommentSeen, DispositionCode, GroupStatus, Topic
from consult.answers.topics import store_topics
from consult.comments.models import CommentStatus
from consult.extensions import db
from tests.conftest import csrf_from, table_counts


@pytest.fixture
def unit(make):
    return make.unit("市住房保障局")


@pytest.fixture
def editor(make, unit):
    return make.user("editor", unit, name="周编辑")


@pytest.fixture
def consultation(make, unit):
    return make.consultation("closed", unit=unit, title="住房保障办法（征求意见稿）")


def _bench(c, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/staff/consultations/{c.id}/workbench" + (f"?{query}" if query else "")


def _post(client, url, data, page):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _seen(comment, user):
    return db.session.scalar(db.select(CommentSeen).where(
        CommentSeen.comment_id == comment.id, CommentSeen.user_id == user.id))


# --- one at a time ------------------------------------------------------------------------------


def test_opens_on_the_first_comment_awaiting_an_answer_beside_its_article(
        client_as, make, editor, consultation):
    answered = make.comment(consultation, article=1, body="已答复的意见")
    make.answer(answered, "adopted", None)
    make.comment(consultation, article=3, body="第三条的意见")
    waiting = make.comment(consultation, article=2, body="第二条的意见：建议延长期限")
    make.answer(make.comment(consultation, article=2, body="更早的意见"), "not_adopted",
                "第二条已规定期限。")
    html = client_as(editor).get(_bench(consultation)).get_data(as_text=True)
    assert "第二条的意见：建议延长期限" in html  # article 2 comes before article 3
    article = consultation.current_version.articles[1]
    assert article.text[:20] in html
    assert "第二条已规定期限。" in html  # the unit's earlier answer to that article, to reuse
    assert "还剩 2 条" in html  # two await: article 2 and article 3
    assert f'action="/staff/comments/{waiting.id}/workbench"' in html
    assert "已答复的意见" not in html


def test_save_and_next_by_plain_post_records_the_answer_and_that_it_was_seen(
        client_as, make, editor, consultation):
    first = make.comment(consultation, article=1, body="第一条意见")
    second = make.comment(consultation, article=1, body="第一条另一意见")
    client = client_as(editor)
    response = _post(client, f"/staff/comments/{first.id}/workbench",
                     {"code": "not_adopted", "reason": "与上位法不一致。", "action": "save"},
                     _bench(consultation))
    assert response.status_code == 302
    assert f"comment={second.id}" in response.location
    assert first.disposition.code == DispositionCode.NOT_ADOPTED
    assert first.disposition.reason == "与上位法不一致。"
    assert _seen(first, editor) is not None
    html = client.get(response.location).get_data(as_text=True)
    assert "第一条另一意见" in html and "还剩 1 条" in html


def test_an_earlier_answer_is_reused_in_one_click(client_as, make, editor, consultation):
    make.answer(make.comment(consultation, article=2), "already_provided", "第五条已有规定。")
    comment = make.comment(consultation, article=2, body="新意见")
    client = client_as(editor)
    html = client.get(_bench(consultation)).get_data(as_text=True)
    assert 'name="reuse" value="already_provided|第五条已有规定。"' in html
    response = _post(client, f"/staff/comments/{comment.id}/workbench",
                     {"reuse": "already_provided|第五条已有规定。"}, _bench(consultation))
    assert response.status_code == 302
    assert comment.disposition.code == DispositionCode.ALREADY_PROVIDED
    assert comment.disposition.reason == "第五条已有规定。"


def test_skip_records_seen_and_the_skipped_comment_comes_back_last(
        client_as, make, editor, consultation):
    first = make.comment(consultation, article=1)
    second = make.comment(consultation, article=2)
    client = client_as(editor)
    response = _post(client, f"/staff/comments/{first.id}/workbench", {"action": "skip"},
                     _bench(consultation))
    assert f"comment={second.id}" in response.location
    assert first.disposition is None and _seen(first, editor) is not None
    response = _post(client, f"/staff/comments/{second.id}/workbench", {"action": "skip"},
                     _bench(consultation))
    assert f"comment={first.id}" in response.location  # round again


def test_a_missing_reason_rerenders_the_same_comment_with_the_error(
        client_as, make, editor, consultation):
    comment = make.comment(consultation, article=1, body="要答复的意见")
    before = table_counts()
    response = _post(client_as(editor), f"/staff/comments/{comment.id}/workbench",
                     {"code": "not_adopted", "reason": "  "}, _bench(consultation))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "除“采纳”外，答复须说明理由。" in html and "要答复的意见" in html
    assert table_counts() == before  # nothing saved, not even "seen"


@pytest.mark.parametrize("data", [{"code": "maybe", "reason": "x"}, {"reason": "没有选择"},
                                  {"code": "adopted", "reason": "长" * 5001}])
def test_bad_input_is_422(client_as, make, editor, consultation, data):
    comment = make.comment(consultation, article=1)
    response = _post(client_as(editor), f"/staff/comments/{comment.id}/workbench", data,
                     _bench(consultation))
    assert response.status_code == 422
    assert comment.disposition is None


def test_hostile_html_in_a_comment_is_escaped(client_as, make, editor, consultation):
    make.comment(consultation, article=1, body='<script>alert(1)</script><img src=x onerror=1>')
    html = client_as(editor).get(_bench(consultation)).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_forged_csrf_is_400(client_as, make, editor, consultation):
    comment = make.comment(consultation, article=1)
    response = client_as(editor).post(f"/staff/comments/{comment.id}/workbench",
                                      data={"csrf_token": "forged", "code": "adopted"})
    assert response.status_code == 400
    assert comment.disposition is None


def test_other_units_staff_get_403(client_as, make, consultation):
    comment = make.comment(consultation, article=1)
    stranger = make.user("editor", make.unit("别的局"))
    client = client_as(stranger)
    assert client.get(_bench(consultation)).status_code == 403
    response = _post(client, f"/staff/comments/{comment.id}/workbench",
                     {"code": "adopted"}, "/staff")
    assert response.status_code == 403


def test_a_comment_of_another_consultation_is_404(client_as, make, editor, consultation, unit):
    other = make.comment(make.consultation("closed", unit=unit), article=1)
    response = client_as(editor).get(_bench(consultation, comment=other.id))
    assert response.status_code == 404


def test_after_the_report_nothing_can_be_answered(client_as, make, editor, unit):
    reported = make.consultation("report_published", unit=unit)
    reported.report_published_at = reported.closes_at
    comment = make.comment(reported, article=1)
    html = client_as(editor).get(_bench(reported)).get_data(as_text=True)
    assert "答复不能再修改" in html and "wb-form" not in html
    response = _post(client_as(editor), f"/staff/comments/{comment.id}/workbench",
                     {"code": "adopted"}, _bench(reported))
    assert response.status_code == 409


def test_filters_narrow_the_queue(client_as, make, editor, consultation):
    make.comment(consultation, article=1, body="个人的意见")
    make.comment(consultation, article=1, body="企业的意见", category="enterprise")
    html = client_as(editor).get(_bench(consultation, category="enterprise")).get_data(
        as_text=True)
    assert "企业的意见" in html and "个人的意见" not in html
    assert "符合条件的有 1 条" in html
    # unknown values are ignored, not errors
    assert client_as(editor).get(_bench(consultation, category="x", state="y",
                                        topic="z")).status_code == 200


def _group(consultation, comments, status=GroupStatus.SUGGESTED, representative=None):
    group = CommentGroup(consultation=consultation, status=status)
    db.session.add(group)
    db.session.flush()
    for comment in comments:
        comment.group_id = group.id
    group.representative_comment_id = representative.id if representative else None
    db.session.flush()
    return group


def _group_option(html, group):
    found = re.search(rf'<option value="{group.id}"( selected)?>([^<]*)</option>',
                      html.split('id="wb-group"')[1].split("</select>")[0])
    return found and found.group(2)


def test_the_group_filter_lists_each_group_by_its_words_and_size(
        client_as, make, editor, consultation):
    campaign = [make.comment(consultation, body="坚决反对提高保障房租金标准，请撤回第五条。")
                for _ in range(3)]
    pair = [make.comment(consultation, body=f"建议\n增加   公租房房源{i}") for i in range(2)]
    big = _group(consultation, campaign, GroupStatus.CONFIRMED, representative=campaign[1])
    small = _group(consultation, pair)
    other = make.consultation("closed", unit=consultation.unit)
    elsewhere = _group(other, [make.comment(other, body="别的征集的意见")])
    html = client_as(editor).get(_bench(consultation)).get_data(as_text=True)
    assert _group_option(html, big) == \
        f"组{big.id}：坚决反对提高保障房租金标准，请撤回第…（3 条，已确认）"
    # whitespace folded, short texts whole
    assert _group_option(html, small) == f"组{small.id}：建议 增加 公租房房源0（2 条，待确认）"
    assert not _group_option(html, elsewhere)  # only this consultation's groups
    listing = html.split('id="wb-group"')[1]
    # largest first
    assert listing.index(f'value="{big.id}"') < listing.index(f'value="{small.id}"')
    # the table view has the same filter
    table = client_as(editor).get(_bench(consultation, view="table")).get_data(as_text=True)
    assert _group_option(table, big).startswith(f"组{big.id}：坚决反对")


def test_filtering_by_a_group_shows_exactly_its_comments(client_as, make, editor, consultation):
    members = [make.comment(consultation, body=f"统一印发的意见书第{i}份") for i in range(3)]
    outsider = make.comment(consultation, body="我自己写的意见")
    group = _group(consultation, members)
    make.answer(members[0])
    client = client_as(editor)
    html = client.get(_bench(consultation, view="table", group=group.id, state="all")).get_data(
        as_text=True)
    assert _group_option(html, group).startswith(f"组{group.id}：")
    assert f'<option value="{group.id}" selected>' in html
    for member in members:
        assert member.tracking_no in html
    assert outsider.tracking_no not in html
    # awaiting (the default state): the answered member drops out
    html = client.get(_bench(consultation, view="table", group=group.id)).get_data(as_text=True)
    assert members[0].tracking_no not in html and members[1].tracking_no in html
    assert outsider.tracking_no not in html
    # one at a time: the queue walks through the group only
    html = client.get(_bench(consultation, group=group.id)).get_data(as_text=True)
    assert "符合条件的有 2 条" in html and members[1].tracking_no in html


@pytest.mark.parametrize("value", ["x", "-1", "1e3", "99999999999999999999", "<b>", " 1"])
def test_a_bad_group_filter_is_ignored(client_as, make, editor, consultation, value):
    make.comment(consultation, body="意见一")
    html = client_as(editor).get(_bench(consultation, group=value)).get_data(as_text=True)
    assert "符合条件的有 1 条" in html  # read as "any group"
    assert "<b>" not in html.split('id="wb-group"')[1].split("</select>")[0]


def test_a_group_of_another_consultation_matches_nothing(client_as, make, editor, consultation):
    make.comment(consultation, body="意见一")
    other = make.consultation("closed", unit=consultation.unit)
    elsewhere = _group(other, [make.comment(other, body="别的征集的意见")])
    html = client_as(editor).get(_bench(consultation, group=elsewhere.id)).get_data(
        as_text=True)
    assert "别的征集的意见" not in html
    assert f'<option value="{elsewhere.id}" selected>组{elsewhere.id}</option>' in html


# --- the compact table --------------------------------------------------------------------------


def test_table_answers_a_page_at_once_and_records_every_row_as_seen(
        client_as, make, editor, consultation):
    a = make.comment(consultation, article=1, body="甲")
    b = make.comment(consultation, article=1, body="乙")
    c = make.comment(consultation, article=2, body="丙")
    client = client_as(editor)
    page = _bench(consultation, view="table")
    assert "保存本页答复" in client.get(page).get_data(as_text=True)
    response = _post(client, f"/staff/consultations/{consultation.id}/workbench/table", {
        "shown": [a.id, b.id, c.id], f"code-{a.id}": "adopted",
        f"code-{b.id}": "not_adopted", f"reason-{b.id}": "理由乙"}, page)
    assert response.status_code == 302
    assert a.disposition.code == DispositionCode.ADOPTED
    assert b.disposition.reason == "理由乙"
    assert c.disposition is None
    assert all(_seen(x, editor) for x in (a, b, c))


def test_table_is_all_or_nothing(client_as, make, editor, consultation):
    a = make.comment(consultation, article=1)
    b = make.comment(consultation, article=1)
    page = _bench(consultation, view="table")
    response = _post(client_as(editor), f"/staff/consultations/{consultation.id}/workbench/table",
                     {"shown": [a.id, b.id], f"code-{a.id}": "adopted",
                      f"code-{b.id}": "not_adopted"}, page)
    assert response.status_code == 422
    assert "除“采纳”外，答复须说明理由。" in response.get_data(as_text=True)
    assert a.disposition is None and b.disposition is None


# --- groups and topics --------------------------------------------------------------------------


def test_confirming_a_group_lands_on_its_answer_form(client_as, make, editor, consultation):
    letters = [make.comment(consultation, body="统一印发的意见书") for _ in range(3)]
    group = CommentGroup(consultation=consultation, status=GroupStatus.SUGGESTED)
    db.session.add(group)
    db.session.flush()
    for letter in letters:
        letter.group_id = group.id
    db.session.flush()
    client = client_as(editor)
    response = _post(client, f"/staff/groups/{group.id}/confirm", {},
                     f"/staff/groups/{group.id}")
    assert response.status_code == 302
    assert response.location.endswith(f"/staff/groups/{group.id}#answer")
    html = client.get(response.location).get_data(as_text=True)
    assert "统一答复本组（3 条待答复）" in html
    response = _post(client, f"/staff/groups/{group.id}/workbench-answer", {
        "code": "partly_adopted", "reason": "部分采纳。", "shown": [m.id for m in letters]},
        f"/staff/groups/{group.id}")
    assert response.status_code == 302
    assert all(m.disposition.code == DispositionCode.PARTLY_ADOPTED for m in letters)
    assert all(_seen(m, editor) for m in letters)
    html = client.get(f"/staff/groups/{group.id}").get_data(as_text=True)
    assert "条待答复" not in html.split('id="members-title"')[0]  # no stale "6 条需答复"
    assert "本组已答复" in html


def test_a_topic_is_answered_at_once_but_for_the_members_left_out(
        client_as, make, editor, consultation):
    members = [make.comment(consultation, article=2, body=f"停车位配建比例要提高{i}")
               for i in range(4)]
    other = make.comment(consultation, article=2, body="别的事")
    store_topics(consultation, [FoundTopic(label="停车位配建比例", members=[
        (m.id, 0.9) for m in members] + [(other.id, 0.2)])], actor=editor)
    topic = db.session.scalar(db.select(Topic))
    client = client_as(editor)
    queue = client.get(_bench(consultation)).get_data(as_text=True)
    assert f'<option value="{topic.id}">停车位配建比例（5/5）</option>' in queue  # the filter
    html = client.get(f"/staff/topics/{topic.id}").get_data(as_text=True)
    assert "停车位配建比例" in html and "别的事" in html
    shown = [m.id for m in members] + [other.id]
    response = _post(client, f"/staff/topics/{topic.id}/answer", {
        "code": "adopted", "leave_out": [other.id], "shown": shown},
        f"/staff/topics/{topic.id}")
    assert response.status_code == 302
    assert all(m.disposition.code == DispositionCode.ADOPTED for m in members)
    assert other.disposition is None and _seen(other, editor) is not None
    # the topic is done; left-out comments wait on the one-at-a-time queue
    html = client.get(_bench(consultation)).get_data(as_text=True)
    assert "别的事" in html and "还剩 1 条" in html


def test_a_topic_of_another_unit_is_403(client_as, make, editor, consultation):
    members = [make.comment(consultation, body=f"意见{i}") for i in range(2)]
    store_topics(consultation, [FoundTopic(label="x", members=[(m.id, 1.0) for m in members])],
                 actor=editor)
    topic = db.session.scalar(db.select(Topic))
    stranger = make.user("editor", make.unit("别的局"))
    assert client_as(stranger).get(f"/staff/topics/{topic.id}").status_code == 403


def test_hidden_comments_never_join_a_topic(make, editor, consultation):
    shown = [make.comment(consultation, body=f"意见{i}") for i in range(2)]
    hidden = make.comment(consultation, body="隐藏", status=CommentStatus.HIDDEN)
    topics = store_topics(consultation, [FoundTopic(label="x", members=[
        (c.id, 1.0) for c in [*shown, hidden]])], actor=editor)
    assert topics[0].size == 2


def test_triage_queues_the_jobs(client_as, make, editor, consultation):
    for i in range(3):
        make.comment(consultation, body=f"意见{i}")
    client = client_as(editor)
    response = _post(client, f"/staff/consultations/{consultation.id}/workbench/triage",
                     {"find": "topics"}, _bench(consultation))
    assert response.status_code == 302
    html = client.get(_bench(consultation)).get_data(as_text=True)
    assert re.search("正在归类|个主题|尚未归类|均已答复", html)


def test_skipping_topics_walks_through_them_once(make, editor, consultation):
    from consult.answers.topics import next_topic

    first = [make.comment(consultation, body=f"甲{i}") for i in range(2)]
    second = [make.comment(consultation, body=f"乙{i}") for i in range(2)]
    a, b = store_topics(consultation, [
        FoundTopic(label="甲", members=[(c.id, 1.0) for c in first]),
        FoundTopic(label="乙", members=[(c.id, 1.0) for c in second])], actor=editor)
    assert next_topic(consultation) == a
    assert next_topic(consultation, after=a) == b
    assert next_topic(consultation, after=b) is None  # no going round


def test_a_nul_in_the_reason_is_dropped_not_a_500(client_as, make, editor, consultation):
    comment = make.comment(consultation, article=1)
    response = _post(client_as(editor), f"/staff/comments/{comment.id}/workbench",
                     {"code": "not_adopted", "reason": "已有\x00规定。"}, _bench(consultation))
    assert response.status_code == 302
    assert comment.disposition.reason == "已有规定。"
