"""Idempotency keys are scoped to the client and the consultation (finding 5, SPEC §5, F11).

A client: for the API, the rate-limit client (an IPv4 address or an IPv6 /64, the forwarded one
behind PROXY_FIX); for the web form, the browser's session; for the staff register, the staff
member. Another client's key is just another key: it neither finds their comment (no tracking
number leaks) nor blocks them with a conflict. The same client and key with a different body is
a 422; with the same body, the first answer again.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from consult import clock
from consult.comments import idempotency
from consult.comments.models import Category, Channel, Comment
from consult.comments.services import CommentInput, record_comment, submit_comment
from consult.errors import ValidationFailed, WindowClosed
from consult.extensions import db
from tests.conftest import csrf_from

ALICE, BOB = "203.0.113.10", "198.51.100.20"
PAYLOAD = {"body": "建议第三条增加听证程序。", "category": "individual",
           "email": "alice@example.net"}


def _post(client, c, payload, key, address):
    return client.post(f"/api/v1/consultations/{c.id}/comments", data=json.dumps(payload),
                       content_type="application/json", headers={"Idempotency-Key": key},
                       environ_base={"REMOTE_ADDR": address})


def _comments(c) -> list[Comment]:
    return db.session.scalars(db.select(Comment).where(Comment.consultation_id == c.id)
                              .order_by(Comment.id)).all()


@pytest.fixture
def open_c(make):
    return make.consultation("open")


def test_another_clients_key_is_just_another_key(client, open_c):
    first = _post(client, open_c, PAYLOAD, "shared-key-1", ALICE)
    theirs = _post(client, open_c, {**PAYLOAD, "email": "bob@example.net"}, "shared-key-1", BOB)
    assert first.status_code == theirs.status_code == 201
    assert theirs.json["tracking_no"] != first.json["tracking_no"]  # Alice's is not leaked
    assert len(_comments(open_c)) == 2


def test_another_client_with_the_same_key_and_another_body_gets_no_conflict(client, open_c):
    assert _post(client, open_c, PAYLOAD, "shared-key-2", ALICE).status_code == 201
    response = _post(client, open_c, {**PAYLOAD, "body": "完全不同的意见。"}, "shared-key-2", BOB)
    assert response.status_code == 201
    assert len(_comments(open_c)) == 2


def test_the_same_client_and_key_with_another_body_is_422(client, open_c):
    first = _post(client, open_c, PAYLOAD, "my-key", ALICE)
    for changed in ({"body": "改过的意见。"}, {"category": "expert"}, {"email": "x@example.net"},
                    {"article": 2}):
        response = _post(client, open_c, {**PAYLOAD, **changed}, "my-key", ALICE)
        assert response.status_code == 422, changed
        assert response.json["error"]["code"] == "idempotency_key_reused"
        assert first.json["tracking_no"] not in response.get_data(as_text=True)
    assert len(_comments(open_c)) == 1


def test_the_same_client_key_and_body_replay_the_first_answer(client, open_c):
    first = _post(client, open_c, PAYLOAD, "retry-key", ALICE)
    again = _post(client, open_c, PAYLOAD, "retry-key", ALICE)
    assert (again.status_code, again.json) == (201, first.json)
    assert len(_comments(open_c)) == 1


def test_one_ipv6_64_is_one_client(client, open_c):
    first = _post(client, open_c, PAYLOAD, "v6-key", "2001:db8:1:2::1")
    again = _post(client, open_c, PAYLOAD, "v6-key", "2001:db8:1:2:ffff::9")
    assert again.json == first.json and len(_comments(open_c)) == 1


def test_the_same_key_on_another_consultation_is_another_key(client, make, open_c):
    other = make.consultation("open")
    assert _post(client, open_c, PAYLOAD, "one-key", ALICE).status_code == 201
    response = _post(client, other, {**PAYLOAD, "body": "另一次征集的意见。"}, "one-key", ALICE)
    assert response.status_code == 201
    assert len(_comments(other)) == 1


def test_keys_are_stored_scoped_and_hashed(client, open_c):
    _post(client, open_c, PAYLOAD, "visible-key", ALICE)
    [comment] = _comments(open_c)
    assert "visible-key" not in comment.idempotency_key and ALICE not in comment.idempotency_key
    assert comment.idempotency_fingerprint


def _data(**kw) -> CommentInput:
    values = {"body": "并发重试的意见。", "category": Category.INDIVIDUAL}
    values.update(kw)
    return CommentInput(**values)


def test_a_retry_is_found_by_its_key_only_when_its_insert_collides(open_c, monkeypatch):
    """A first submission looks for no earlier comment (one query fewer); a retry — also a
    concurrent one that loses the race — is stopped by the unique key (in a savepoint) and
    answers with the first comment, or, with another body, with the 422."""
    real, seen = idempotency.lookup, []

    def counted(key):
        seen.append(key)
        return real(key)

    monkeypatch.setattr(idempotency, "lookup", counted)
    winner, created = submit_comment(open_c, _data(), idempotency_key="race", client="api:x")
    assert created and seen == []
    loser, created = submit_comment(open_c, _data(), idempotency_key="race", client="api:x")
    assert not created and loser.id == winner.id and len(seen) == 1
    with pytest.raises(ValidationFailed) as error:
        submit_comment(open_c, _data(body="另一个正文"), idempotency_key="race", client="api:x")
    assert error.value.code == "idempotency_key_reused" and len(seen) == 2
    assert len(_comments(open_c)) == 1


def test_a_retry_after_the_window_closed_still_gets_its_comment(open_c, travel):
    """What would refuse a new comment now (the window closed) does not refuse the retry of
    one made in time: it answers with that comment; a new key is refused."""
    first, created = submit_comment(open_c, _data(), idempotency_key="late", client="api:x")
    assert created
    travel(open_c.closes_at + timedelta(minutes=1))
    again, created = submit_comment(open_c, _data(), idempotency_key="late", client="api:x")
    assert not created and again.id == first.id
    with pytest.raises(WindowClosed):
        submit_comment(open_c, _data(), idempotency_key="new", client="api:x")
    with pytest.raises(WindowClosed):
        submit_comment(open_c, _data(), client="api:x")
    assert len(_comments(open_c)) == 1


def test_a_retry_of_an_invalid_request_is_refused_like_the_first(open_c):
    with pytest.raises(ValidationFailed):
        submit_comment(open_c, _data(body="  "), idempotency_key="empty", client="api:x")
    with pytest.raises(ValidationFailed):
        submit_comment(open_c, _data(body="  "), idempotency_key="empty", client="api:x")
    assert _comments(open_c) == []


# ------------------------------------------------------------------ the web form and the register


def _form(client, c):
    page = client.get(f"/consultations/{c.id}/comment").get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page)[1]
    return {"csrf_token": csrf_from(page), "nonce": nonce, "body": "表单提交的意见。",
            "category": "individual", "email": "form@example.net"}


def test_a_form_nonce_belongs_to_its_browser_session(app, open_c):
    alice, mallory = app.test_client(), app.test_client()
    data = _form(alice, open_c)
    first = alice.post(f"/consultations/{open_c.id}/comment", data=data)
    assert first.status_code == 303
    # Mallory replays Alice's form fields (nonce and text) from her own session.
    theirs = mallory.post(f"/consultations/{open_c.id}/comment",
                          data={**data, "csrf_token": _form(mallory, open_c)["csrf_token"]})
    assert theirs.status_code == 303
    assert theirs.headers["Location"] != first.headers["Location"]  # not Alice's receipt
    assert len(_comments(open_c)) == 2


def test_the_same_form_sent_again_with_other_details_is_422(client, open_c):
    data = _form(client, open_c)
    assert client.post(f"/consultations/{open_c.id}/comment", data=data).status_code == 303
    response = client.post(f"/consultations/{open_c.id}/comment",
                           data={**data, "email": "other@example.net"})
    assert response.status_code == 422
    assert "已经提交" in response.get_data(as_text=True)
    assert len(_comments(open_c)) == 1


def test_the_staff_register_scopes_its_nonce_to_the_staff_member(make, open_c):
    a, b = make.user("editor", open_c.unit), make.user("editor", open_c.unit)
    data = CommentInput(body="来信内容。", category=Category.OTHER)
    first = record_comment(open_c, data, Channel.LETTER, clock.today(), actor=a,
                           idempotency_key="record:n1:x")
    again = record_comment(open_c, data, Channel.LETTER, clock.today(), actor=a,
                           idempotency_key="record:n1:x")
    theirs = record_comment(open_c, data, Channel.LETTER, clock.today(), actor=b,
                            idempotency_key="record:n1:x")
    assert again.id == first.id and theirs.id != first.id


def test_a_fingerprint_stays_what_earlier_releases_stored():
    """A retry after an upgrade is compared with the fingerprint stored before it: the digest
    of the same request must not change (this one was computed by the release of 2026-12-06)."""
    data = CommentInput(body=" 建议延长公示期。 ", category=Category("enterprise"),
                        article_number=3, display_name="王某", email="a@example.cn")
    assert idempotency.fingerprint(data) == \
        "31cc30c54c9f31c5a11a0d82b3a04f8b6ca62801324db28f384a3116907c35fb"
