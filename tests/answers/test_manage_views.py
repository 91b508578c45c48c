"""Answering comments and publishing the adoption report, through the staff pages."""

from urllib.parse import urlsplit

import pytest

from consult.answers.models import DispositionCode, Report
from consult.answers.services import published_report
from consult.comments.models import Channel, CommentStatus, HiddenReason
from consult.consultations.models import State
from consult.extensions import db
from tests.conftest import table_counts


@pytest.fixture
def unit(make):
    return make.unit("市住房和城乡建设局")


@pytest.fixture
def editor(make, unit):
    return make.user("editor", unit, name="周编辑")


@pytest.fixture
def approver(make, unit):
    return make.user("approver", unit, name="吴审核")


@pytest.fixture
def consultation(make, unit):
    return make.consultation("closed", unit=unit, title="物业管理办法（征求意见稿）")


def _queue(c):
    return f"/staff/consultations/{c.id}/comments"


def _answer(client, post_form, comment, **data):
    return post_form(client, f"/staff/comments/{comment.id}/answer", data,
                     page=_queue(comment.consultation))


# --- the queue ---------------------------------------------------------------------------------


def test_queue_shows_original_text_contact_data_and_answers(client_as, make, editor,
                                                            consultation):
    comment = make.comment(consultation, article=3, body="我的电话 13812345678，建议延长公示期。",
                           email="zhang@example.org", phone="13812345678", display_name="张先生",
                           region="鼓楼区")
    letter = make.comment(consultation, body="来信意见。", channel=Channel.LETTER)
    make.answer(letter, "already_provided", "第五条已有规定。", by=editor)
    hidden = make.comment(consultation, body="广告内容", status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.SPAM)
    response = client_as(editor).get(_queue(consultation))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "我的电话 13812345678，建议延长公示期。" in html  # original, unmasked
    assert "zhang@example.org" in html and "张先生" in html and "鼓楼区" in html
    assert comment.tracking_no in html and "第三条" in html
    assert "信函" in html and "已有规定" in html and "第五条已有规定。" in html
    assert "周编辑" in html
    assert f'id="comment-{hidden.id}"' in html and "广告或垃圾信息" in html
    assert html.count('name="code"') == 2 * 5  # forms for the two answerable comments only


def test_queue_filters_by_article_and_answer(client_as, make, editor, consultation):
    first = make.comment(consultation, article=1, body="关于第一条的意见")
    third = make.comment(consultation, article=3, body="关于第三条的意见")
    whole = make.comment(consultation, body="关于整体的意见")
    make.answer(third, "adopted", None)
    client = client_as(editor)

    def shown(**args):
        html = client.get(_queue(consultation), query_string=args).get_data(as_text=True)
        return {c.id for c in (first, third, whole) if f'id="comment-{c.id}"' in html}

    assert shown() == {first.id, third.id, whole.id}
    assert shown(article=3) == {third.id}
    assert shown(article="whole") == {whole.id}
    assert shown(answered="unanswered") == {first.id, whole.id}
    assert shown(answered="answered") == {third.id}
    assert shown(article=1, answered="answered") == set()
    assert shown(article="<script>", answered="bogus") == {first.id, third.id, whole.id}


def test_hostile_comment_text_is_escaped_in_the_queue(client_as, make, editor, consultation):
    make.comment(consultation, body="<script>alert(1)</script>")
    html = client_as(editor).get(_queue(consultation)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- answering ---------------------------------------------------------------------------------


def test_not_adopted_without_a_reason_is_422_beside_that_comment(client_as, make, post_form,
                                                                 editor, consultation):
    other = make.comment(consultation, body="另一条")
    comment = make.comment(consultation, article=2, body="建议删除第二条。")
    response = _answer(client_as(editor), post_form, comment, code="not_adopted", reason="  ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="reason-{comment.id}-error"' in html
    assert f'id="reason-{other.id}-error"' not in html
    assert "除“采纳”外，答复须说明理由" in html
    assert f'id="code-{comment.id}-not_adopted" value="not_adopted" checked' in html
    assert comment.disposition is None


@pytest.mark.parametrize("code", ["partly_adopted", "already_provided", "out_of_scope"])
def test_every_answer_but_adopted_needs_a_reason(client_as, make, post_form, editor,
                                                 consultation, code):
    comment = make.comment(consultation)
    assert _answer(client_as(editor), post_form, comment, code=code).status_code == 422
    response = _answer(client_as(editor), post_form, comment, code=code, reason="理由。")
    assert response.status_code == 302
    assert comment.disposition.code == DispositionCode(code)


def test_adopted_needs_no_reason_and_returns_to_the_comment(client_as, make, post_form, editor,
                                                            consultation):
    comment = make.comment(consultation, article=1)
    client = client_as(editor)
    token_page = _queue(consultation)
    from tests.conftest import csrf_from

    token = csrf_from(client.get(token_page).get_data(as_text=True))
    response = client.post(f"/staff/comments/{comment.id}/answer?answered=unanswered",
                           data={"csrf_token": token, "code": "adopted"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == _queue(consultation)
    assert location.query == "answered=unanswered"
    assert location.fragment == f"comment-{comment.id}"
    assert comment.disposition.code == DispositionCode.ADOPTED
    assert comment.disposition.reason is None
    assert comment.disposition.answered_by_id == editor.id


def test_an_answer_can_be_revised_until_the_report(client_as, make, post_form, editor,
                                                   consultation):
    comment = make.comment(consultation)
    client = client_as(editor)
    _answer(client, post_form, comment, code="not_adopted", reason="暂不采纳。")
    _answer(client, post_form, comment, code="adopted")
    assert comment.disposition.code == DispositionCode.ADOPTED


@pytest.mark.parametrize("data", [
    {}, {"code": "maybe"}, {"code": "adopted", "reason": "长" * 5001},
])
def test_bad_answer_input_is_422(client_as, make, post_form, editor, consultation, data):
    comment = make.comment(consultation)
    assert _answer(client_as(editor), post_form, comment, **data).status_code == 422
    assert comment.disposition is None


def test_hidden_comment_cannot_be_answered(client_as, make, post_form, editor, consultation):
    comment = make.comment(consultation, status=CommentStatus.HIDDEN)
    assert _answer(client_as(editor), post_form, comment, code="adopted").status_code == 409


def test_answers_are_frozen_once_the_report_is_published(client_as, make, post_form, editor,
                                                         approver, consultation):
    comment = make.comment(consultation)
    make.answer(comment, "adopted", None)
    assert post_form(client_as(approver), f"/staff/consultations/{consultation.id}/report",
                     {"summary": ""}).status_code == 302
    response = _answer(client_as(editor), post_form, comment, code="not_adopted", reason="改")
    assert response.status_code == 409
    assert comment.disposition.code == DispositionCode.ADOPTED
    assert 'name="code"' not in client_as(editor).get(_queue(consultation)).get_data(as_text=True)


def test_other_units_comment_is_403_and_unknown_is_404(client_as, make, post_form,
                                                       consultation):
    stranger = make.user("approver", make.unit("市卫生健康委员会"))
    comment = make.comment(consultation)
    client = client_as(stranger)
    rows = table_counts()
    response = post_form(client, f"/staff/comments/{comment.id}/answer",
                         {"code": "adopted"}, page="/staff")
    assert response.status_code == 403
    assert comment.disposition is None
    response = post_form(client, "/staff/comments/999999/answer", {"code": "adopted"},
                         page="/staff")
    assert response.status_code == 404
    assert table_counts() == rows



def test_forged_csrf_on_an_answer_is_400(client_as, make, editor, consultation):
    comment = make.comment(consultation)
    response = client_as(editor).post(f"/staff/comments/{comment.id}/answer",
                                      data={"code": "adopted", "csrf_token": "forged"})
    assert response.status_code == 400
    assert comment.disposition is None


# --- the report --------------------------------------------------------------------------------


def test_report_page_lists_blockers_and_refuses_to_publish_with_409(client_as, make, post_form,
                                                                    approver, consultation):
    make.comment(consultation)
    make.comment(consultation)
    answered = make.comment(consultation)
    make.answer(answered, "not_adopted", None)  # a reason missing (entered before the rule)
    make.comment(consultation, status=CommentStatus.PENDING_MODERATION)
    url = f"/staff/consultations/{consultation.id}/report"
    client = client_as(approver)
    html = client.get(url).get_data(as_text=True)
    assert "未答复的意见：2 条" in html
    assert "缺少理由的答复：1 条" in html
    assert "待审核的意见：1 条" in html
    response = post_form(client, url, {"summary": "总体情况。"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "1 条意见待审核、2 条意见未答复、1 条答复缺少理由" in html
    assert published_report(consultation) is None
    assert consultation.status == State.CLOSED


def test_report_preview_and_publish(client_as, make, post_form, approver, consultation):
    adopted = make.comment(consultation, article=1)
    make.answer(adopted, "adopted", None)
    rejected = make.comment(consultation, article=1)
    make.answer(rejected, "not_adopted", "与上位法不符。")
    make.comment(consultation, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.ABUSIVE)
    url = f"/staff/consultations/{consultation.id}/report"
    client = client_as(approver)
    html = client.get(url).get_data(as_text=True)
    assert "报告预览" in html
    assert "所有需要答复的意见均已答复" in html
    assert "发布采纳情况报告" in html
    response = post_form(client, url, {"summary": "共收到 3 条意见，采纳 1 条。"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == (
        f"/consultations/{consultation.id}/report")
    report = published_report(consultation)
    assert report.published_by_id == approver.id
    assert report.summary == "共收到 3 条意见，采纳 1 条。"
    assert report.content["totals"]["received"] == 3
    assert report.content["totals"]["hidden"] == 1
    assert consultation.status == State.REPORT_PUBLISHED
    html = client.get(url).get_data(as_text=True)
    assert "报告已发布" in html and report.digest in html
    assert post_form(client, url, {"summary": "again"}, page=url).status_code == 409
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 1


def test_editors_see_the_report_page_but_cannot_publish(client_as, make, post_form, editor,
                                                        consultation):
    url = f"/staff/consultations/{consultation.id}/report"
    client = client_as(editor)
    html = client.get(url).get_data(as_text=True)
    assert "报告由本单位审核人发布" in html
    assert 'action="' + url + '"' not in html
    assert post_form(client, url, {"summary": ""}).status_code == 403


def test_report_cannot_be_published_while_open(client_as, make, post_form, unit, approver):
    consultation = make.consultation("open", unit=unit)
    url = f"/staff/consultations/{consultation.id}/report"
    html = client_as(approver).get(url).get_data(as_text=True)
    assert "征求意见截止后" in html
    assert post_form(client_as(approver), url, {"summary": ""}).status_code == 409
