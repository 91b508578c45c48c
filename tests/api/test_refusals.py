"""Refused write-API calls are audited (issue 12): each kind of refusal leaves one audit row
in its own transaction — who, which token (never its secret), the route, the reason, the
status — while the refused change itself is rolled back; a flood writes one row a minute."""

from __future__ import annotations

import json
import uuid

import pytest

from consult.apitokens import services as tokens
from consult.apitokens.models import ApiToken
from consult.audit import AuditEvent
from consult.consultations.models import Consultation, State
from consult.extensions import db
from tests.api.test_writes import bearer, draft_body


@pytest.fixture
def token_of(make):
    admin = make.user(admin=True)

    def make_token(user, scopes=("drafts", "comments", "answers", "reports", "policies")):
        token, plaintext = tokens.create_token(user=user, unit=user.memberships[0].unit,
                                               name="OA系统", scopes=list(scopes),
                                               expires_in_days=30, actor=admin)
        db.session.flush()
        return token, plaintext

    return make_token


def refusals():
    return db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "api_token_refused").order_by(AuditEvent.id)).all()


def only_refusal():
    rows = refusals()
    assert len(rows) == 1, [(r.reason, r.detail) for r in rows]
    return rows[0]


def test_no_token_or_an_unknown_one(client):
    response = client.post("/api/v1/consultations", json=draft_body(),
                           headers=bearer("cst_not-a-real-token"))
    assert response.status_code == 401
    row = only_refusal()
    assert (row.actor_id, row.object_type, row.object_id) == (None, "api_tokens", 0)
    assert row.reason == "invalid_token"
    assert row.detail == {"method": "POST", "endpoint": "api_write.create_consultation",
                          "route": {}, "status": 401, "fields": []}
    assert "not-a-real-token" not in json.dumps(row.detail)


def test_a_revoked_token_names_the_token_and_its_user(client, token_of, editor, approver):
    token, plaintext = token_of(editor)
    tokens.revoke_token(token, actor=approver)
    db.session.flush()
    response = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    assert response.status_code == 401
    row = only_refusal()
    assert (row.actor_id, row.object_id, row.reason) == (editor.id, token.id, "token_revoked")
    assert row.unit_id == token.unit_id
    everything = json.dumps([row.detail, row.reason, row.object_id])
    assert plaintext not in everything and tokens.digest(plaintext) not in everything


def test_a_scope_the_token_lacks(client, token_of, editor):
    token, plaintext = token_of(editor, scopes=["comments"])
    response = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    assert response.status_code == 403
    row = only_refusal()
    assert (row.actor_id, row.object_id, row.reason) == (editor.id, token.id,
                                                         "insufficient_scope")
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_another_units_consultation(client, make, token_of, editor):
    other_unit = make.unit("市其他局")
    theirs = make.consultation(State.DRAFT, other_unit, title="别人的草稿")
    token, plaintext = token_of(editor)
    response = client.put(f"/api/v1/consultations/{theirs.id}/draft", json=draft_body(),
                          headers=bearer(plaintext))
    assert response.status_code == 403
    row = only_refusal()
    assert row.reason == "other_unit"
    assert row.detail["route"] == {"consultation_id": theirs.id}
    assert row.detail["endpoint"] == "api_write.update_consultation"
    assert row.detail["method"] == "PUT" and row.detail["status"] == 403
    assert db.session.get(Consultation, theirs.id).title == "别人的草稿"


def test_a_body_that_fails_its_checks_names_the_fields_not_their_values(client, token_of,
                                                                          editor):
    token, plaintext = token_of(editor)
    response = client.post("/api/v1/consultations", json=draft_body(title="", type="秘密类型"),
                           headers=bearer(plaintext))
    assert response.status_code == 422
    row = only_refusal()
    assert row.reason == "validation_failed" and row.detail["status"] == 422
    assert row.detail["fields"] == ["title", "type"]
    assert "秘密类型" not in json.dumps(row.detail, ensure_ascii=False)


def test_a_four_eyes_hold(client, token_of, editor, approver):
    token, plaintext = token_of(approver)
    created = client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    consultation_id = created.get_json()["id"]
    assert client.post(f"/api/v1/consultations/{consultation_id}/submit",
                       headers=bearer(plaintext)).status_code == 200
    own = client.post(f"/api/v1/consultations/{consultation_id}/approve",
                      headers=bearer(plaintext))
    assert own.status_code == 403
    row = only_refusal()
    assert (row.actor_id, row.object_id) == (approver.id, token.id)
    assert row.detail["endpoint"] == "api_write.approve_consultation"
    assert row.detail["route"] == {"consultation_id": consultation_id}
    # the refused call's own changes are gone: its use of the token was not kept
    uses = db.session.scalars(db.select(AuditEvent.detail).where(
        AuditEvent.action == "api_token_use")).all()
    assert [u["endpoint"] for u in uses] == ["api_write.create_consultation",
                                             "api_write.submit_consultation"]
    assert db.session.get(Consultation, consultation_id).state == State.PENDING_APPROVAL


def test_an_object_not_found_and_a_state_that_refuses(client, make, token_of, editor):
    token, plaintext = token_of(editor)
    assert client.post("/api/v1/consultations/999999/submit",
                       headers=bearer(plaintext)).status_code == 404
    opened = make.consultation(State.OPEN, editor.memberships[0].unit)
    assert client.put(f"/api/v1/consultations/{opened.id}/draft", json=draft_body(),
                      headers=bearer(plaintext)).status_code == 409
    assert [(r.reason, r.detail["status"]) for r in refusals()] == [
        ("not_found", 404), ("invalid_transition", 409)]


def test_a_successful_call_writes_no_refusal(client, token_of, editor):
    _token, plaintext = token_of(editor)
    assert client.post("/api/v1/consultations", json=draft_body(),
                       headers=bearer(plaintext)).status_code == 201
    assert refusals() == []


def test_a_flood_of_refusals_writes_one_row_per_kind_and_minute(app, client, token_of, editor,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "API_REFUSAL_AUDIT_LIMIT", "1 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX", f"test-{uuid.uuid4().hex}")
    for _ in range(25):
        assert client.post("/api/v1/consultations", json=draft_body(),
                           headers=bearer("cst_guess")).status_code == 401
    token, plaintext = token_of(editor, scopes=["comments"])
    for _ in range(25):
        assert client.post("/api/v1/consultations", json=draft_body(),
                           headers=bearer(plaintext)).status_code == 403
    assert [(r.object_id, r.reason) for r in refusals()] == [
        (0, "invalid_token"), (token.id, "insufficient_scope")]


def test_rate_limited_calls_are_not_recorded(app, client, token_of, editor, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_RATE_LIMIT", "1 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX", f"test-{uuid.uuid4().hex}")
    _token, plaintext = token_of(editor)
    assert client.post("/api/v1/consultations", json=draft_body(),
                       headers=bearer(plaintext)).status_code == 201
    for _ in range(5):
        assert client.post("/api/v1/consultations", json=draft_body(),
                           headers=bearer(plaintext)).status_code == 429
    assert refusals() == []


def test_the_audit_chain_stays_intact(client, token_of, editor):
    from consult import audit

    _token, plaintext = token_of(editor, scopes=["comments"])
    for _ in range(3):
        client.post("/api/v1/consultations", json=draft_body(), headers=bearer(plaintext))
    client.post("/api/v1/consultations", json=draft_body(), headers=bearer("cst_x"))
    assert len(refusals()) == 4
    assert audit.verify().intact
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 1
