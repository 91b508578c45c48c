"""The write API (F21) with per-unit Bearer tokens: the same services and checks as the pages,
four-eyes, scopes, other units refused, revoked tokens 401, each use audited, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult import clock
from consult.apitokens import services as tokens
from consult.apitokens.models import ApiToken
from consult.audit import AuditEvent
from consult.comments.models import Comment
from consult.consultations.models import Consultation, State
from consult.extensions import db
from tests.conftest import csrf_from

ALL = ["drafts", "comments", "answers", "reports", "policies"]


def bearer(plaintext):
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def token_of(make):
    admin = make.user(admin=True)

    def make_token(user, unit=None, scopes=ALL):
        _token, plaintext = tokens.create_token(user=user, unit=unit or user.memberships[0].unit,
                                                name="OA系统", scopes=scopes,
                                                expires_in_days=30, actor=admin)
        db.session.flush()
        return plaintext

    return make_token


def draft_body(**changes):
    today = clock.today()
    return {"title": "接口创建的办法", "type": "normative_document", "summary": "摘要",
            "explanation": "说明", "opens_on": (today + timedelta(days=1)).isoformat(),
            "closes_on": (today + timedelta(days=40)).isoformat(),
            "text": "第一条 为了规范管理，制定本办法。\n第二条 本办法自发布之日起施行。",
            **changes}


def test_a_draft_from_creation_to_approval_with_four_eyes(client, token_of, editor, approver):
    editor_token, approver_token = token_of(editor), token_of(approver)
    created = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(
        editor_token))
    assert created.status_code == 201, created.get_json()
    consultation_id = created.get_json()["id"]
    assert created.get_json()["state"] == "draft"
    consultation = db.session.get(Consultation, consultation_id)
    assert len(consultation.current_version.articles) == 2
    assert consultation.created_by_id == editor.id
    updated = client.put(f"/api/v1/consultations/{consultation_id}/draft",
                         json=draft_body(title="改过的标题"), headers=bearer(editor_token))
    assert updated.status_code == 200 and updated.get_json()["title"] == "改过的标题"
    submitted = client.post(f"/api/v1/consultations/{consultation_id}/submit",
                            headers=bearer(editor_token))
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "pending_approval"
    # the same user cannot approve what they submitted, by token or otherwise
    own = client.post(f"/api/v1/consultations/{consultation_id}/approve",
                      headers=bearer(editor_token))
    assert own.status_code == 403
    approved = client.post(f"/api/v1/consultations/{consultation_id}/approve",
                           headers=bearer(approver_token))
    assert approved.status_code == 200 and approved.get_json()["state"] == "scheduled"
    actions = db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_type == "consultations", AuditEvent.object_id == consultation_id)
        .order_by(AuditEvent.id)).all()
    assert actions == ["create", "edit", "submit", "approve"]
    uses = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "api_token_use")).all()
    # every use that changed something (a refused one rolls back with its change)
    assert len(uses) == 4 and {u.actor_id for u in uses} == {editor.id, approver.id}


def test_a_token_of_one_unit_cannot_touch_another_units_consultation(client, make, token_of):
    other_unit = make.unit("市其他局")
    other_editor = make.user("editor", other_unit)
    theirs = make.consultation(State.DRAFT, other_unit, title="别人的草稿")
    mine = token_of(other_editor)
    stranger_unit = make.unit("市陌生局")
    stranger = token_of(make.user("approver", stranger_unit))
    for method, path, body in [
        ("PUT", f"/api/v1/consultations/{theirs.id}/draft", draft_body()),
        ("POST", f"/api/v1/consultations/{theirs.id}/submit", None),
        ("POST", f"/api/v1/consultations/{theirs.id}/approve", None),
        ("POST", f"/api/v1/consultations/{theirs.id}/report", {"summary": ""}),
    ]:
        response = client.open(path, method=method, json=body, headers=bearer(stranger))
        assert response.status_code == 403, (path, response.get_json())
    assert db.session.get(Consultation, theirs.id).title == "别人的草稿"
    assert client.post(f"/api/v1/consultations/{theirs.id}/submit",
                       headers=bearer(mine)).status_code == 200


def test_no_token_an_unknown_or_revoked_one_is_401(client, token_of, editor, approver):
    plaintext = token_of(editor)
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("cst_unknown"),
                    {"Authorization": "Bearer"}):
        response = client.post("/api/v1/consultations", json=draft_body(), headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"]["code"] == "invalid_token"
    token = db.session.scalar(db.select(ApiToken))
    tokens.revoke_token(token, actor=approver)
    db.session.flush()
    response = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_revoked"
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_an_expired_token_is_401(client, token_of, editor, travel):
    plaintext = token_of(editor)
    travel(clock.now() + timedelta(days=31))
    assert client.post("/api/v1/consultations", json=draft_body(),
                       headers=bearer(plaintext)).status_code == 401


def test_scopes_limit_what_a_token_does(client, token_of, editor):
    plaintext = token_of(editor, scopes=["comments"])
    response = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "insufficient_scope"


def test_the_users_role_still_decides(client, token_of, editor, make):
    c = make.consultation(State.PENDING_APPROVAL, editor.memberships[0].unit)
    response = client.post(f"/api/v1/consultations/{c.id}/approve", headers=bearer(
        token_of(editor)))
    assert response.status_code == 403  # an editor is no approver, token or not


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"), ({"type": "law"}, "type"), ({"opens_on": "tomorrow"}, "opens_on"),
    ({"title": "长" * 301}, "title"), ({"unexpected": 1}, "unexpected"), ({"text": 5}, "text"),
])
def test_bad_bodies_are_422_naming_the_field(client, token_of, editor, changes, field):
    response = client.post("/api/v1/consultations", json=draft_body(**changes),
                           headers=bearer(token_of(editor)))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert client.post("/api/v1/consultations", data="{no json",
                       content_type="application/json",
                       headers=bearer(token_of(editor))).status_code == 400


def test_record_answer_and_publish_through_the_api(client, make, token_of, editor, approver,
                                                   unit):
    closed = make.consultation(State.CLOSED, unit)
    editor_token, approver_token = token_of(editor), token_of(approver)
    recorded = client.post(f"/api/v1/consultations/{closed.id}/recorded-comments", json={
        "body": "信函：建议延长期限。", "category": "organisation", "channel": "letter",
        "received_on": (clock.today() - timedelta(days=10)).isoformat()},
        headers=bearer(editor_token))
    assert recorded.status_code == 201, recorded.get_json()
    tracking_no = recorded.get_json()["tracking_no"]
    comment = db.session.scalar(db.select(Comment).where(Comment.tracking_no == tracking_no))
    assert comment.channel == "letter" and comment.recorded_by_id == editor.id
    refused = client.put(f"/api/v1/comments/{tracking_no}/answer",
                         json={"disposition": "not_adopted"}, headers=bearer(editor_token))
    assert refused.status_code == 422  # a reason is required for all but "adopted"
    answered = client.put(f"/api/v1/comments/{tracking_no}/answer",
                          json={"disposition": "adopted"}, headers=bearer(editor_token))
    assert answered.status_code == 200
    published = client.post(f"/api/v1/consultations/{closed.id}/report",
                            json={"summary": "共收到意见1条，采纳1条。"},
                            headers=bearer(approver_token))
    assert published.status_code == 201, published.get_json()
    assert client.get(f"/api/v1/consultations/{closed.id}/report").status_code == 200


def test_each_token_is_rate_limited(app, client, token_of, editor, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "2 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    plaintext = token_of(editor)
    c = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    assert c.status_code == 201
    path = f"/api/v1/consultations/{c.get_json()['id']}/draft"
    assert client.put(path, json=draft_body(), headers=bearer(plaintext)).status_code == 200
    limited = client.put(path, json=draft_body(), headers=bearer(plaintext))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    other = token_of(editor)  # another token has its own count
    assert client.put(path, json=draft_body(), headers=bearer(other)).status_code == 200


def test_tokens_are_stored_hashed_and_shown_once(client_as, approver, editor, unit):
    client = client_as(approver)
    page = client.get("/staff/api-tokens")
    assert page.status_code == 200
    response = client.post("/staff/api-tokens", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "name": "市民App",
        "unit_id": unit.id, "email": editor.email, "scopes": ["drafts", "comments"],
        "expires_in_days": 90})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = db.session.scalar(db.select(ApiToken))
    start = html.index('id="new-token">') + len('id="new-token">')
    plaintext = html[start:html.index("<", start)]
    assert plaintext.startswith("cst_") and token.token_hash == tokens.digest(plaintext)
    assert plaintext not in client.get("/staff/api-tokens").get_data(as_text=True)
    assert token.user_id == editor.id and token.scopes == ["comments", "drafts"]
    revoke = client.post(f"/staff/api-tokens/{token.id}/revoke", data={
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert revoke.status_code == 302 and token.revoked_at is not None


def test_editors_do_not_manage_tokens(client_as, editor):
    assert client_as(editor).get("/staff/api-tokens").status_code == 403


def test_a_token_for_someone_outside_the_unit_is_refused(client_as, approver, make, unit):
    outsider = make.user("editor", make.unit("市外单位"))
    client = client_as(approver)
    page = client.get("/staff/api-tokens")
    response = client.post("/staff/api-tokens", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "name": "系统",
        "unit_id": unit.id, "email": outsider.email, "scopes": ["drafts"]})
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_the_final_policy_through_the_api(client, make, token_of, editor, approver, unit):
    reported = make.consultation(State.REPORT_PUBLISHED, unit, title="已反馈的办法")
    editor_token, approver_token = token_of(editor), token_of(approver)
    created = client.post(f"/api/v1/consultations/{reported.id}/policy", json={
        "title": "郑州市某办法", "document_number": "郑政〔2026〕20号",
        "issued_on": clock.today().isoformat(), "text": "第一条 正文。"},
        headers=bearer(editor_token))
    assert created.status_code == 201, created.get_json()
    policy_id = created.get_json()["id"]
    added = client.post(f"/api/v1/policies/{policy_id}/interpretations", json={
        "title": "政策解读", "kind": "text", "body": "解读正文"}, headers=bearer(editor_token))
    assert added.status_code == 201
    assert client.get(f"/api/v1/policies/{policy_id}").status_code == 404  # not yet public
    assert client.post(f"/api/v1/policies/{policy_id}/publish",
                       headers=bearer(editor_token)).status_code == 403  # editors draft only
    published = client.post(f"/api/v1/policies/{policy_id}/publish",
                            headers=bearer(approver_token))
    assert published.status_code == 200, published.get_json()
    body = client.get(f"/api/v1/policies/{policy_id}").get_json()
    assert [i["title"] for i in body["interpretations"]] == ["政策解读"]
