"""What a process keeps of a consultation for its comments (consult/comments/targets.py), and
why a kept copy never decides anything the database no longer says.

After a first comment, a POST on the same consultation sends no query for it: the INSERT
carries a guard that re-reads every value the rules used. Each change below is made in the
database the way staff (or another process) would make it — this process's copy is not told —
and the next comment must follow the database, not the copy.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from consult import clock
from consult.comments import targets
from consult.comments.counts import counts_by_status
from consult.comments.models import Comment
from consult.consultations.models import (
    Article,
    Consultation,
    DraftVersion,
    Moderation,
    State,
    Verification,
)
from consult.extensions import db
from tests.comments.test_submit_queries import counted, wakes  # noqa: F401 (a fixture)
from tests.conftest import csrf_from

BODY = "建议将第三条的公示期由七日延长至十五日。"


@pytest.fixture
def consultation(make) -> int:
    """An open consultation's id (the tests' changes leave no object loaded)."""
    consultation = make.consultation("open")
    db.session.commit()
    return consultation.id


def _post(client, consultation_id: int, n: int, **fields):
    return client.post(f"/api/v1/consultations/{consultation_id}/comments",
                       json={"body": f"{BODY}（{n}）", "category": "individual", "article": 1,
                             **fields},
                       headers={"Idempotency-Key": f"kept-{consultation_id}-{n}"})


def _change(consultation_id: int, **values) -> None:
    """Staff's change, committed, as another process makes it (this one's copy is not told)."""
    db.session.execute(update(Consultation).where(Consultation.id == consultation_id)
                       .values(**values))
    db.session.commit()
    db.session.expunge_all()


def _saved(consultation_id: int) -> int:
    return db.session.scalar(db.select(db.func.count(Comment.id))
                             .where(Comment.consultation_id == consultation_id))


# Once the consultation is kept, what a POST sends: the comment and its count, in one
# statement (consult/comments/counts.py: PostgreSQL `counted_insert`, SQLite its trigger).
_KEPT_POST = {"postgresql": ["WITH inserted AS"],
              "sqlite": ["INSERT INTO comments"]}


def test_a_second_comment_sends_no_query_for_its_consultation(client, consultation):
    version = db.session.scalar(db.select(DraftVersion).where(
        DraftVersion.consultation_id == consultation))
    expected = (version.id, next(a.id for a in version.articles if a.number == 1))
    consultation_id = consultation
    assert _post(client, consultation_id, 1).status_code == 201
    with counted() as statements:
        response = _post(client, consultation_id, 2)
    assert response.status_code == 201, response.json
    assert [s.split(" (")[0] for s in statements] == _KEPT_POST[db.engine.dialect.name], \
        statements
    comment = db.session.scalar(db.select(Comment).where(
        Comment.tracking_no == response.json["tracking_no"]))
    assert (comment.version_id, comment.article_id) == expected


def test_withdrawn_after_it_was_kept_takes_no_comment(client, consultation):
    assert _post(client, consultation, 1).status_code == 201
    _change(consultation, state=State.WITHDRAWN, withdrawn_reason="撤回")
    response = _post(client, consultation, 2)
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "window_closed"
    assert _saved(consultation) == 1


def test_a_window_shortened_after_it_was_kept_is_closed(client, consultation):
    assert _post(client, consultation, 1).status_code == 201
    _change(consultation, closes_at=clock.now() - timedelta(minutes=1))
    assert _post(client, consultation, 2).status_code == 409
    assert _saved(consultation) == 1


def test_a_window_extended_after_the_kept_one_closed_takes_comments(client, consultation):
    """The copy says closed by the clock: it is not used, the database is read."""
    assert _post(client, consultation, 1).status_code == 201
    closes_at = db.session.get(Consultation, consultation).closes_at
    clock.freeze(closes_at + timedelta(hours=1))
    try:
        _change(consultation, closes_at=clock.now() + timedelta(days=3))
        assert _post(client, consultation, 2).status_code == 201
    finally:
        clock.freeze(None)
    assert _saved(consultation) == 2


def test_moderation_switched_on_after_it_was_kept_holds_the_next_comment(client, consultation):
    assert _post(client, consultation, 1).json["status"] == "published"
    _change(consultation, moderation=Moderation.PRE)
    response = _post(client, consultation, 2)
    assert response.status_code == 201
    assert response.json["status"] == "pending_moderation"
    # The guard refused the kept copy and the comment went in on a fresh read: counted once.
    assert counts_by_status([consultation])[consultation] == {"published": 1,
                                                              "pending_moderation": 1}


def test_verification_required_after_it_was_kept_refuses_a_comment_without_address(
        client, consultation):
    assert _post(client, consultation, 1).status_code == 201
    _change(consultation, verification=Verification.EMAIL)
    refused = _post(client, consultation, 2)
    assert refused.status_code == 422, refused.json
    taken = _post(client, consultation, 3, email="citizen@example.org")
    assert (taken.status_code, taken.json["status"]) == (201, "unverified")
    assert _saved(consultation) == 2


def test_a_refusal_drawn_from_the_kept_copy_is_checked_against_the_database(
        client, consultation):
    """Kept while an address was required; staff then drop the requirement: a comment
    without an address is taken, not refused by the copy."""
    _change(consultation, verification=Verification.EMAIL)
    assert _post(client, consultation, 1, email="a@example.org").status_code == 201
    _change(consultation, verification=Verification.NONE)
    response = _post(client, consultation, 2)
    assert (response.status_code, response.json["status"]) == (201, "published")


def test_a_new_draft_version_takes_the_next_comment(client, consultation):
    assert _post(client, consultation, 1).status_code == 201
    version = DraftVersion(consultation_id=consultation, number=2)
    version.articles.append(Article(number=1, label="第一条", text="修改后的第一条。"))
    db.session.add(version)
    db.session.commit()
    expected = (version.id, version.articles[0].id)
    response = _post(client, consultation, 2)
    assert response.status_code == 201, response.json
    comment = db.session.scalar(db.select(Comment).where(
        Comment.tracking_no == response.json["tracking_no"]))
    assert (comment.version_id, comment.article_id) == expected


def test_an_account_only_consultation_is_read_every_time(client, make):
    consultation = make.consultation("open", verification=Verification.ACCOUNT)
    db.session.commit()
    assert targets.comment_target(consultation.id, None) is not None
    assert not targets.comment_target(consultation.id, None).kept


def test_a_consultation_whose_values_read_back_differently_is_read_every_time(
        client, consultation):
    """A time written by hand (no microseconds) never equals the bound one: each comment is
    still taken, and after the second miss the consultation is no longer kept."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite stores times as text")
    consultation_id = consultation
    db.session.execute(text("UPDATE consultations SET opens_at = datetime(opens_at) "
                            "WHERE id = :id"), {"id": consultation_id})
    db.session.commit()
    for n in range(1, 5):
        assert _post(client, consultation_id, n).status_code == 201
    assert _saved(consultation_id) == 4
    assert not targets.comment_target(consultation_id, 1).kept
    with counted() as statements:
        assert _post(client, consultation_id, 5).status_code == 201
    assert any(s.upper().startswith("SELECT") for s in statements)


def test_a_second_form_comment_sends_only_its_inserts(client, consultation):
    """The form too: with the consultation kept, the POST's queries are the comment and its
    count."""
    url = f"/consultations/{consultation}/comment"
    for n in (1, 2):
        page = client.get(url).get_data(as_text=True)
        data = {"csrf_token": csrf_from(page),
                "nonce": re.search(r'name="nonce"[^>]*value="([^"]+)"', page)[1],
                "article": "1", "body": f"{BODY}（表单{n}）", "category": "individual"}
        with counted() as statements:
            response = client.post(url, data=data)
        assert response.status_code == 303
    assert [s.split(" (")[0] for s in statements] == _KEPT_POST[db.engine.dialect.name], \
        statements
    assert _saved(consultation) == 2
