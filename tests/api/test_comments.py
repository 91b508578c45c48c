"""POST and GET /api/v1/consultations/<id>/comments: a citizen comments from an app."""

import json
from datetime import timedelta

import pytest

from consult.answers.services import publish_report
from consult.comments.masking import MARK
from consult.comments.models import Category, Channel, Comment, CommentStatus, HiddenReason
from consult.consultations.models import Moderation, Verification
from consult.extensions import db

EMAIL = "li.hua.private@example.org"
PHONE = "13912345678"


def url(consultation):
    return f"/api/v1/consultations/{consultation.id}/comments"


def post(client, consultation, payload, **kw):
    # \u-escaped JSON, so that even lone surrogates travel as a client would send them.
    return client.post(url(consultation), data=json.dumps(payload),
                       content_type="application/json", **kw)


def comments_of(consultation):
    return db.session.scalars(
        db.select(Comment).where(Comment.consultation_id == consultation.id).order_by(Comment.id)
    ).all()


def close(consultation, travel):
    travel(consultation.closes_at + timedelta(seconds=1))


# ------------------------------------------------------------------ submitting


def test_citizen_comments_on_article_3_and_follows_it(client, make):
    c = make.consultation("open")
    response = post(client, c, {
        "body": "第三条的期限太短，建议延长到三十日。", "article": 3, "category": "individual",
        "display_name": "李华", "region": "海淀区", "email": EMAIL, "phone": PHONE,
    })
    assert response.status_code == 201
    data = response.json
    assert set(data) == {"tracking_no", "status", "receipt_url"}
    assert data["status"] == "published"
    tracking_no = data["tracking_no"]
    assert data["receipt_url"] == f"http://consult.test/receipts/{tracking_no}"
    assert response.headers["Location"] == f"http://consult.test/api/v1/receipts/{tracking_no}"
    assert response.cache_control.no_store

    [comment] = comments_of(c)
    assert comment.tracking_no == tracking_no
    assert comment.article.number == 3
    assert (comment.category, comment.channel) == (Category.INDIVIDUAL, Channel.WEB)
    assert (comment.email, comment.phone, comment.region) == (EMAIL, PHONE, "海淀区")
    assert comment.publish_name is False

    receipt = client.get(f"/api/v1/receipts/{tracking_no}").json
    assert receipt["article"] == 3 and receipt["article_label"] == "第三条"
    assert receipt["text"] == "第三条的期限太短，建议延长到三十日。"
    assert receipt["status"] == "published"

    page = client.get(data["receipt_url"])
    assert page.status_code == 200
    assert "第三条的期限太短，建议延长到三十日。" in page.get_data(as_text=True)

    listed = client.get(url(c)).json
    assert [item["tracking_no"] for item in listed["items"]] == [tracking_no]
    assert client.get(f"/api/v1/consultations/{c.id}").json["comment_count"] == 1


def test_only_body_and_category_are_required(client, make):
    c = make.consultation("open")
    response = post(client, c, {"body": "整体赞成。", "category": "enterprise"})
    assert response.status_code == 201
    [comment] = comments_of(c)
    assert comment.article is None
    assert comment.category == Category.ENTERPRISE
    assert (comment.email, comment.phone, comment.display_name, comment.region) == (
        None, None, None, None)


def test_the_api_takes_no_csrf_token(app, client, make):
    assert app.config.get("WTF_CSRF_ENABLED", True)  # CSRF is on for the HTML forms
    c = make.consultation("open")
    assert post(client, c, {"body": "建议。", "category": "other"}).status_code == 201


@pytest.mark.parametrize("setting, status", [
    ({"moderation": Moderation.PRE}, "pending_moderation"),
    ({"verification": Verification.EMAIL}, "unverified"),
    ({}, "published"),
])
def test_status_follows_the_consultations_settings(client, make, setting, status):
    c = make.consultation("open", **setting)
    response = post(client, c, {"body": "建议。", "category": "individual", "email": EMAIL})
    assert response.status_code == 201
    assert response.json["status"] == status
    assert comments_of(c)[0].status == CommentStatus(status)


def test_a_retry_with_the_same_idempotency_key_makes_one_comment(client, make, travel):
    c = make.consultation("open")
    payload = {"body": "网络不好，我点了两次提交。", "category": "individual"}
    headers = {"Idempotency-Key": "5f0c7a8e-2b1d-4c8f-9a51-3f1e2d4c6b7a"}
    first = post(client, c, payload, headers=headers)
    second = post(client, c, payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert len(comments_of(c)) == 1

    close(c, travel)  # even a late retry gets the first answer, not a closed window
    late = post(client, c, payload, headers=headers)
    assert (late.status_code, late.json) == (201, first.json)
    assert len(comments_of(c)) == 1


def test_identical_texts_without_a_key_stay_separate_comments(client, make):
    c = make.consultation("open")
    payload = {"body": "支持本办法。", "category": "individual"}
    first, second = post(client, c, payload), post(client, c, payload)
    assert first.status_code == second.status_code == 201
    assert first.json["tracking_no"] != second.json["tracking_no"]
    assert len(comments_of(c)) == 2


def test_an_idempotency_key_used_for_another_consultation_is_another_key(client, make):
    """Keys are scoped to the client and the consultation (tests/comments/test_idempotency.py)."""
    a, b = make.consultation("open"), make.consultation("open")
    headers = {"Idempotency-Key": "key-used-twice"}
    assert post(client, a, {"body": "甲", "category": "other"}, headers=headers).status_code == 201
    response = post(client, b, {"body": "乙", "category": "other"}, headers=headers)
    assert response.status_code == 201
    assert [c.body for c in comments_of(b)] == ["乙"]


@pytest.mark.parametrize("key", ["k" * 129, "带中文的键", "a b"])
def test_a_bad_idempotency_key_is_400(client, make, key):
    c = make.consultation("open")
    response = post(client, c, {"body": "建议。", "category": "other"},
                    headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_idempotency_key"
    assert comments_of(c) == []


def test_a_128_character_idempotency_key_is_fine(client, make):
    c = make.consultation("open")
    response = post(client, c, {"body": "建议。", "category": "other"},
                    headers={"Idempotency-Key": "k" * 128})
    assert response.status_code == 201


def test_a_body_of_exactly_10000_characters_is_accepted(client, make):
    c = make.consultation("open")
    response = post(client, c, {"body": "长" * 10_000, "category": "expert"})
    assert response.status_code == 201


VALID = {"body": "建议修改。", "category": "individual"}


@pytest.mark.parametrize("change, field, code", [
    ({"body": None}, "body", "required"),
    ({"body": "   \n "}, "body", "required"),
    ({"body": 42}, "body", "invalid_type"),
    ({"body": ["建议"]}, "body", "invalid_type"),
    ({"body": "长" * 10_001}, "body", "too_long"),
    ({"category": None}, "category", "required"),
    ({"category": "citizen"}, "category", "invalid_choice"),
    ({"category": 1}, "category", "invalid_choice"),
    ({"article": "3"}, "article", "invalid_type"),
    ({"article": 3.0}, "article", "invalid_type"),
    ({"article": True}, "article", "invalid_type"),
    ({"article": 99}, "article", "unknown_article"),
    ({"article": 0}, "article", "unknown_article"),
    ({"email": "not-an-email"}, "email", "invalid_email"),
    ({"email": "a@b"}, "email", "invalid_email"),
    ({"email": "x" * 250 + "@example.org"}, "email", "too_long"),
    ({"email": 5}, "email", "invalid_type"),
    ({"display_name": "名" * 101}, "display_name", "too_long"),
    ({"region": "区" * 101}, "region", "too_long"),
    ({"phone": "1" * 41}, "phone", "too_long"),
    ({"phone": "call me"}, "phone", "invalid_phone"),
    ({"publish_name": "yes"}, "publish_name", "invalid_type"),
    ({"body": "建议\x00修改"}, "body", "invalid_characters"),
    ({"display_name": "张\ud800"}, "display_name", "invalid_characters"),
    ({"region": "\x00"}, "region", "invalid_characters"),
])
def test_bad_fields_are_422_with_the_field_named(client, make, change, field, code):
    c = make.consultation("open")
    payload = {**VALID, **change}
    if change.get(field, 0) is None:
        del payload[field]
    response = post(client, c, payload)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == code
    assert field in error["fields"]
    assert error["message"]
    assert comments_of(c) == []


def test_several_bad_fields_are_reported_together(client, make):
    c = make.consultation("open")
    response = post(client, c, {"body": "", "category": "x", "phone": "1" * 41})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"body", "category", "phone"}


@pytest.mark.parametrize("kwargs, code", [
    ({"data": "{not json", "content_type": "application/json"}, "malformed_json"),
    ({"data": "", "content_type": "application/json"}, "malformed_json"),
    ({"json": ["建议修改。", "individual"]}, "malformed_json"),
    ({"json": "建议修改。"}, "malformed_json"),
    ({"data": "null", "content_type": "application/json"}, "malformed_json"),
    ({"data": {"body": "建议", "category": "individual"}}, "invalid_content_type"),
    ({"data": '{"body": "建议", "category": "individual"}', "content_type": "text/plain"},
     "invalid_content_type"),
])
def test_a_body_that_is_not_a_json_object_is_400(client, make, kwargs, code):
    c = make.consultation("open")
    response = client.post(url(c), **kwargs)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == code
    assert comments_of(c) == []


@pytest.mark.parametrize("state", ["closed", "scheduled", "report_published", "withdrawn"])
def test_outside_the_window_is_409(client, make, state):
    c = make.consultation(state)
    response = post(client, c, VALID)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "window_closed"
    assert comments_of(c) == []


def test_the_window_closes_at_the_end_of_its_last_day(client, make, travel):
    c = make.consultation("open")
    travel(c.closes_at)
    assert post(client, c, VALID).status_code == 201
    close(c, travel)
    assert post(client, c, VALID).status_code == 409


@pytest.mark.parametrize("state", ["draft", "pending_approval"])
def test_unknown_or_unpublished_consultation_is_404(client, make, state):
    c = make.consultation(state)
    assert post(client, c, VALID).status_code == 404
    response = client.post("/api/v1/consultations/999999/comments", json=VALID)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert client.get(url(c)).status_code == 404


def test_a_request_over_max_content_length_is_a_json_413(app, client, make, monkeypatch):
    c = make.consultation("open")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = post(client, c, {"body": "长" * 3000, "category": "individual"})
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "payload_too_large"
    assert comments_of(c) == []
    # Under the limit, an over-long field is a validation error, not 413.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    assert post(client, c, {"body": "长" * 10_001, "category": "individual"}).status_code == 422


def test_hostile_html_is_kept_as_text_in_json_and_escaped_on_the_page(client, make):
    c = make.consultation("open")
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">第三条不合理'
    response = post(client, c, {"body": hostile, "article": 3, "category": "individual"})
    assert response.status_code == 201
    receipt = client.get(f"/api/v1/receipts/{response.json['tracking_no']}")
    assert receipt.mimetype == "application/json"
    assert receipt.json["text"] == hostile
    assert client.get(url(c)).json["items"][0]["text"] == hostile
    page = client.get(response.json["receipt_url"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page


# ------------------------------------------------------------------ reading


def test_published_comments_list_shape_and_what_it_leaves_out(client, make):
    c = make.consultation("open")
    shown = make.comment(c, article=3, body="请联系我 13800138000，建议修改。", region="朝阳区",
                         email=EMAIL, phone=PHONE, display_name="王五", publish_name=False)
    named = make.comment(c, body="同意。", display_name="赵六", publish_name=True,
                         category=Category.EXPERT)
    make.comment(c, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.ABUSIVE)
    make.comment(c, status=CommentStatus.UNVERIFIED)
    make.comment(c, status=CommentStatus.PENDING_MODERATION)

    response = client.get(url(c))
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 60
    data = response.json
    assert (data["page"], data["per_page"], data["total"]) == (1, 20, 2)
    first, second = data["items"]
    assert set(first) == {"tracking_no", "article", "version", "category", "channel", "region",
                          "name", "text", "created_at", "disposition", "reason"}
    assert first["tracking_no"] == shown.tracking_no
    assert (first["article"], first["version"]) == (3, 1)
    assert (first["category"], first["channel"], first["region"]) == (
        "individual", "web", "朝阳区")
    assert first["name"] is None  # no consent to publish the name
    assert first["text"] == f"请联系我 {MARK}，建议修改。"
    assert first["created_at"].endswith("+08:00")
    assert first["disposition"] is None and first["reason"] is None
    assert second["tracking_no"] == named.tracking_no
    assert second["article"] is None
    assert second["name"] == "赵六"
    raw = response.get_data(as_text=True)
    for secret in (EMAIL, PHONE, "13800138000", "王五"):
        assert secret not in raw


def test_comments_are_paginated(client, make):
    c = make.consultation("open")
    made = [make.comment(c, body=f"意见{i}").tracking_no for i in range(7)]
    page = client.get(url(c), query_string={"per_page": 3, "page": 3}).json
    assert (page["page"], page["per_page"], page["total"]) == (3, 3, 7)
    assert [item["tracking_no"] for item in page["items"]] == made[6:]
    assert client.get(url(c), query_string={"page": 0}).status_code == 400


def test_answers_appear_once_the_report_is_published(client, make, session, travel):
    c = make.consultation("open")
    comment = make.comment(c, article=3)
    close(c, travel)
    make.answer(comment, "partly_adopted", "期限延长至二十日。")
    session.commit()
    assert client.get(url(c)).json["items"][0]["disposition"] is None  # answered, not published

    publish_report(c, summary="共收到意见 1 条。", actor=make.user("approver", c.unit))
    session.commit()
    [item] = client.get(url(c)).json["items"]
    assert (item["disposition"], item["reason"]) == ("partly_adopted", "期限延长至二十日。")


def test_no_contact_data_in_any_api_response(client, make, session, travel):
    c = make.consultation("open")
    response = post(client, c, {
        "body": "建议第三条增加听证程序。", "article": 3, "category": "organisation",
        "display_name": "某某协会联系人张三", "publish_name": False, "email": EMAIL,
        "phone": PHONE, "region": "西城区",
    }, headers={"Idempotency-Key": "secret-idempotency-key-123"})
    assert response.status_code == 201
    tracking_no = response.json["tracking_no"]
    raws = [response.get_data(as_text=True)]

    def read_everything():
        for path in ("/api/v1/consultations", "/api/v1/consultations?status=all",
                     f"/api/v1/consultations/{c.id}", url(c), f"/api/v1/receipts/{tracking_no}",
                     f"/api/v1/consultations/{c.id}/report"):
            raws.append(client.get(path).get_data(as_text=True))

    read_everything()
    close(c, travel)
    [comment] = comments_of(c)
    make.answer(comment, "adopted", None)
    publish_report(c, summary="采纳 1 条。", actor=make.user("approver", c.unit))
    session.commit()
    read_everything()
    assert any(tracking_no in raw for raw in raws[1:])
    for raw in raws:
        for secret in (EMAIL, PHONE, "张三", "secret-idempotency-key-123"):
            assert secret not in raw
