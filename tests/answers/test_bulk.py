"""The answering queue (F12): filters, reason templates, keyboard flow, pagination, bulk answers."""

from __future__ import annotations

import re

import pytest

from consult.answers import bulk
from consult.answers import groups as groups_service
from consult.answers.models import DispositionCode, ReasonTemplate
from consult.audit import AuditEvent
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.errors import Conflict, NotFound, ValidationFailed
from consult.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def unit(make):
    return make.unit("市交通运输局")


@pytest.fixture
def editor(make, unit):
    return make.user("editor", unit, name="郑编辑")


@pytest.fixture
def consultation(make, unit):
    return make.consultation("closed", unit=unit, title="网约车管理实施细则（征求意见稿）")


def _queue(c, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/staff/consultations/{c.id}/comments" + (f"?{query}" if query else "")


def _shown(html: str, comments) -> set[int]:
    return {c.id for c in comments if f'id="comment-{c.id}"' in html}


def _bulk(client, c, ids, **data):
    token = csrf_from(client.get(_queue(c)).get_data(as_text=True))
    form = {"csrf_token": token, "comment_ids": [str(i) for i in ids]}
    form.update({f"bulk-{k}": v for k, v in data.items()})
    return client.post(f"/staff/consultations/{c.id}/comments/bulk", data=form)


# --- the service -------------------------------------------------------------------------------


def test_answer_many_answers_every_selected_comment_with_its_own_audit_row(make, editor,
                                                                          consultation):
    comments = [make.comment(consultation, body=f"意见{i}") for i in range(3)]
    changed = bulk.answer_many(consultation, comments, DispositionCode.OUT_OF_SCOPE,
                               "不属于本办法调整范围。", actor=editor)
    assert changed == 3
    assert {c.disposition.code for c in comments} == {DispositionCode.OUT_OF_SCOPE}
    assert {c.disposition.answered_by_id for c in comments} == {editor.id}
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "answer")).all()
    assert sorted(e.object_id for e in events) == sorted(c.id for c in comments)
    assert all(e.detail == {"disposition": "out_of_scope", "bulk": True} for e in events)
    # the same answer again changes nothing and writes no audit row
    assert bulk.answer_many(consultation, comments, DispositionCode.OUT_OF_SCOPE,
                            "不属于本办法调整范围。", actor=editor) == 0


def test_answer_many_is_all_or_nothing(make, editor, consultation):
    good = make.comment(consultation)
    hidden = make.comment(consultation, status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.SPAM)
    with pytest.raises(Conflict):
        bulk.answer_many(consultation, [good, hidden], DispositionCode.ADOPTED, None,
                         actor=editor)
    with pytest.raises(ValidationFailed) as error:
        bulk.answer_many(consultation, [good], DispositionCode.NOT_ADOPTED, "", actor=editor)
    assert error.value.fields.keys() == {"reason"}
    with pytest.raises(ValidationFailed):
        bulk.answer_many(consultation, [], DispositionCode.ADOPTED, None, actor=editor)
    other = make.comment(make.consultation("closed", unit=consultation.unit))
    with pytest.raises(NotFound):
        bulk.answer_many(consultation, [good, other], DispositionCode.ADOPTED, None,
                         actor=editor)
    assert good.disposition is None


def test_members_of_a_confirmed_group_are_answered_through_the_group(make, editor,
                                                                    consultation):
    a, b = make.comment(consultation, body="同一封信"), make.comment(consultation, body="同一封信")
    groups_service.group_comments(consultation, [a, b], actor=editor)
    with pytest.raises(Conflict) as error:
        bulk.answer_many(consultation, [a], DispositionCode.ADOPTED, None, actor=editor)
    assert error.value.code == "answer_the_group"


def test_a_template_fills_only_what_the_form_left_empty(make, editor, consultation):
    reason = "与上位法规定不一致。"
    template = bulk.add_reason_template(consultation, title="上位法",
                                        code=DispositionCode.NOT_ADOPTED, text=reason,
                                        actor=editor)
    assert bulk.fill_from_template(template, None, "  ") == ("not_adopted", reason)
    assert bulk.fill_from_template(template, "partly_adopted", "自己写的理由") == (
        "partly_adopted", "自己写的理由")
    assert bulk.fill_from_template(None, "adopted", None) == ("adopted", None)
    with pytest.raises(ValidationFailed):
        bulk.add_reason_template(consultation, title=" ", code=DispositionCode.ADOPTED,
                                 text="x", actor=editor)
    other = make.consultation("closed", unit=consultation.unit)
    with pytest.raises(NotFound):
        bulk.template_for(other, template.id)
    with pytest.raises(NotFound):
        bulk.template_for(consultation, "abc")
    assert bulk.template_for(consultation, "") is None


# --- the queue page ----------------------------------------------------------------------------


def test_queue_filters_by_category_channel_state_and_group(client_as, make, editor,
                                                           consultation):
    person = make.comment(consultation, article=2, body="个人意见")
    firm = make.comment(consultation, article=2, body="企业意见", category=Category.ENTERPRISE)
    letter = make.comment(consultation, body="来信", channel=Channel.LETTER)
    hidden = make.comment(consultation, body="广告", status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.SPAM)
    unverified = make.comment(consultation, body="未验证", status=CommentStatus.UNVERIFIED)
    reasonless = make.comment(consultation, body="缺理由")
    make.answer(reasonless, "not_adopted", None)
    twin_a = make.comment(consultation, body="同一封信")
    twin_b = make.comment(consultation, body="同一封信")
    group = groups_service.group_comments(consultation, [twin_a, twin_b], actor=editor)
    everyone = [person, firm, letter, hidden, unverified, reasonless, twin_a, twin_b]
    client = client_as(editor)

    def shown(**args):
        return _shown(client.get(_queue(consultation, **args)).get_data(as_text=True), everyone)

    assert shown() == {c.id for c in everyone}
    assert shown(category="enterprise") == {firm.id}
    assert shown(channel="letter") == {letter.id}
    assert shown(state="hidden") == {hidden.id}
    assert shown(state="unverified") == {unverified.id}
    assert shown(state="missing_reason") == {reasonless.id}
    assert shown(state="unanswered") == {person.id, firm.id, letter.id, twin_a.id, twin_b.id}
    assert shown(answered="answered") == {reasonless.id}  # the older parameter name
    assert shown(group=group.id) == {twin_a.id, twin_b.id}
    assert shown(group="confirmed") == {twin_a.id, twin_b.id}
    assert shown(group="ungrouped") == {c.id for c in everyone} - {twin_a.id, twin_b.id}
    assert shown(article=2, category="individual") == {person.id}
    assert shown(category="<b>", channel="fax", state="x", group="y") == {c.id for c in everyone}
    html = client.get(_queue(consultation, group=group.id)).get_data(as_text=True)
    assert f"组{group.id}" in html and "随该组统一答复" in html


def test_queue_pages_50_at_a_time_and_focuses_the_first_unanswered(client_as, make, editor,
                                                                   consultation):
    comments = [make.comment(consultation, body=f"第{i}条意见") for i in range(53)]
    for comment in comments[:3]:
        make.answer(comment, "adopted", None)
    client = client_as(editor)
    html = client.get(_queue(consultation)).get_data(as_text=True)
    assert len(_shown(html, comments)) == 50
    assert "第 1 / 2 页" in html
    # keyboard users start on the first comment that waits for an answer
    assert html.count("autofocus") == 1
    focused = re.search(r'id="code-(\d+)-adopted" value="adopted"[^>]*autofocus', html)
    assert focused and int(focused.group(1)) == comments[3].id
    assert f'href="#comment-{comments[3].id}"' in html
    page2 = client.get(_queue(consultation, page=2)).get_data(as_text=True)
    assert _shown(page2, comments) == {c.id for c in comments[50:]}


def test_queue_shows_who_answered_and_when(client_as, make, editor, consultation):
    comment = make.comment(consultation)
    make.answer(comment, "already_provided", "第七条已有规定。", by=editor)
    html = client_as(editor).get(_queue(consultation)).get_data(as_text=True)
    assert "郑编辑" in html and "第七条已有规定。" in html


def test_reason_templates_are_added_used_and_deleted_in_the_queue(client_as, make, post_form,
                                                                   editor, consultation):
    comment = make.comment(consultation)
    client = client_as(editor)
    url = f"/staff/consultations/{consultation.id}/reason-templates"
    response = post_form(client, url, {"template-title": "", "template-code": "not_adopted",
                                       "template-text": ""}, page=_queue(consultation))
    assert response.status_code == 422
    assert "请填写模板名称" in response.get_data(as_text=True)
    response = post_form(client, url, {"template-title": "超出范围",
                                       "template-code": "out_of_scope",
                                       "template-text": "<b>不属于</b>本细则调整范围。"},
                         page=_queue(consultation))
    assert response.status_code == 302
    template = db.session.scalar(db.select(ReasonTemplate))
    html = client.get(_queue(consultation)).get_data(as_text=True)
    assert "超出范围" in html and "&lt;b&gt;不属于&lt;/b&gt;" in html
    assert f'<option value="{template.id}">超出范围' in html
    # picking the template answers with its disposition and reason
    response = post_form(client, f"/staff/comments/{comment.id}/answer",
                         {"template_id": str(template.id), "reason": ""},
                         page=_queue(consultation))
    assert response.status_code == 302
    assert comment.disposition.code == DispositionCode.OUT_OF_SCOPE
    assert comment.disposition.reason == "<b>不属于</b>本细则调整范围。"
    response = post_form(client, f"/staff/reason-templates/{template.id}/delete", {},
                         page=_queue(consultation))
    assert response.status_code == 302
    assert db.session.get(ReasonTemplate, template.id) is None
    assert comment.disposition.reason == "<b>不属于</b>本细则调整范围。"  # answers keep it


def test_bulk_answer_through_the_queue(client_as, make, editor, consultation):
    comments = [make.comment(consultation, body=f"意见{i}") for i in range(4)]
    client = client_as(editor)
    chosen = comments[:3]
    response = _bulk(client, consultation, [c.id for c in chosen], action="answer",
                     code="not_adopted", reason="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "除“采纳”外，答复须说明理由" in html
    assert all(f'value="{c.id}" id="select-{c.id}" checked' in html for c in chosen)
    assert all(c.disposition is None for c in comments)
    response = _bulk(client, consultation, [c.id for c in chosen], action="answer",
                     code="not_adopted", reason="经研究，暂不采纳。")
    assert response.status_code == 302
    assert [c.disposition.code if c.disposition else None for c in comments] == [
        DispositionCode.NOT_ADOPTED] * 3 + [None]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已统一答复 3 条意见" in html


def test_bulk_group_and_ungroup_through_the_queue(client_as, make, editor, consultation):
    a, b, c = (make.comment(consultation, body=t) for t in ("反对收费", "不应收费", "别的"))
    client = client_as(editor)
    assert _bulk(client, consultation, [a.id, b.id], action="group").status_code == 302
    assert a.group_id is not None and a.group_id == b.group_id
    assert a.group.confirmed
    response = _bulk(client, consultation, [c.id], action="ungroup")
    assert response.status_code == 422  # not in any group
    assert _bulk(client, consultation, [a.id], action="ungroup").status_code == 302
    assert a.group_id is None and b.group_id is None  # a group of one is dissolved


def test_bulk_refusals(client_as, make, editor, consultation):
    comment = make.comment(consultation)
    hidden = make.comment(consultation, status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.SPAM)
    client = client_as(editor)
    assert _bulk(client, consultation, [comment.id], action="dance").status_code == 422
    response = _bulk(client, consultation, [comment.id, hidden.id], action="answer",
                     code="adopted")
    assert response.status_code == 409
    assert hidden.tracking_no in response.get_data(as_text=True)
    assert comment.disposition is None
    assert _bulk(client, consultation, [999999], action="answer",
                 code="adopted").status_code == 404
    assert _bulk(client, consultation, [], action="answer",
                 code="adopted").status_code == 422


def test_bulk_and_templates_refuse_other_units_and_forged_csrf(client_as, make, post_form,
                                                              editor, consultation):
    comment = make.comment(consultation)
    template = bulk.add_reason_template(consultation, title="模板", code=DispositionCode.ADOPTED,
                                        text="理由", actor=editor)
    stranger = make.user("approver", make.unit("市教育局"))
    client = client_as(stranger)
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    url = f"/staff/consultations/{consultation.id}/comments/bulk"
    assert client.post(url, data={"csrf_token": token, "comment_ids": [comment.id],
                                  "bulk-action": "answer", "bulk-code": "adopted"}
                       ).status_code == 403
    assert client.post(f"/staff/reason-templates/{template.id}/delete",
                       data={"csrf_token": token}).status_code == 403
    assert client.get(_queue(consultation)).status_code == 403
    own = client_as(editor)
    assert own.post(url, data={"csrf_token": "forged", "comment_ids": [comment.id],
                               "bulk-action": "answer", "bulk-code": "adopted"}
                    ).status_code == 400
    assert comment.disposition is None
    assert db.session.get(ReasonTemplate, template.id) is not None


def test_after_the_report_the_queue_offers_no_forms(client_as, make, editor, consultation):
    comment = make.comment(consultation)
    make.answer(comment, "adopted", None)
    approver = make.user("approver", consultation.unit)
    from consult.answers.services import publish_report

    publish_report(consultation, summary="", actor=approver)
    html = client_as(editor).get(_queue(consultation)).get_data(as_text=True)
    assert 'name="comment_ids"' not in html and 'id="bulk"' not in html
    assert "添加模板" not in html
    assert _bulk(client_as(editor), consultation, [comment.id], action="answer",
                 code="not_adopted", reason="改").status_code == 409
