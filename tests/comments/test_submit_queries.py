"""A comment POST sends a handful of statements (issue 8, SPEC §7: "at most ~3 queries per
comment POST"), counted here — not timed — through the API and through the form.

What a POST must still do is checked beside the count: the comment, its kept count and its
search index row are written, so a cheaper POST cannot be one that forgot something.
Transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE) is not a query and not counted;
bench/profile_submit.py prints the whole list.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import event

from consult.comments.counts import counts_by_status
from consult.comments.models import Comment
from consult.extensions import db
from consult.search.models import Kind, SearchDocument
from tests.conftest import csrf_from

# The consultation with its versions, the article asked for, the comment, its count
# shard and its search index row (bench/README.md, comment submission).
API_QUERIES = 5
# The form reads the draft's articles for its choices, with the consultation.
FORM_QUERIES = 5
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextlib.contextmanager
def counted():
    """The statements sent meanwhile, transaction control left out. The test's session is
    emptied first: a request in production starts with nothing loaded."""
    db.session.expunge_all()
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(CONTROL):
            statements.append(" ".join(statement.split())[:120])

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


@pytest.fixture
def consultation_id(make) -> int:
    consultation = make.consultation("open")
    db.session.commit()
    return consultation.id


def _written(tracking_no: str) -> Comment:
    comment = db.session.scalar(db.select(Comment).where(Comment.tracking_no == tracking_no))
    assert comment is not None and comment.article is not None
    assert db.session.scalar(db.select(SearchDocument.id).where(
        SearchDocument.kind == Kind.COMMENT, SearchDocument.ref_id == comment.id)) is not None
    return comment


def test_an_api_post_sends_few_queries(client, consultation_id):
    url = f"/api/v1/consultations/{consultation_id}/comments"
    payload = {"body": "建议将第三条的公示期延长至十五日。", "category": "individual", "article": 1}
    client.post(url, json={**payload, "body": "预热"}, headers={"Idempotency-Key": "warm"})
    before = counts_by_status([consultation_id])[consultation_id].get("published", 0)
    with counted() as statements:
        response = client.post(url, json=payload, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.json
    assert len(statements) <= API_QUERIES, "\n".join(statements)
    _written(response.json["tracking_no"])
    assert counts_by_status([consultation_id])[consultation_id]["published"] == before + 1


def test_a_form_post_sends_few_queries(client, consultation_id):
    url = f"/consultations/{consultation_id}/comment"
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page)[1]
    data = {"csrf_token": csrf_from(page), "nonce": nonce, "article": "1",
            "body": "建议将第三条的公示期延长至十五日。", "category": "individual"}
    with counted() as statements:
        response = client.post(url, data=data)
    assert response.status_code == 303
    assert len(statements) <= FORM_QUERIES, "\n".join(statements)
    _written(response.headers["Location"].rsplit("/", 1)[1])


def test_a_retry_costs_one_more_query_and_makes_no_second_comment(client, consultation_id):
    url = f"/api/v1/consultations/{consultation_id}/comments"
    payload = {"body": "同一条意见，重试一次。", "category": "individual", "article": 1}
    first = client.post(url, json=payload, headers={"Idempotency-Key": "again"})
    with counted() as statements:
        again = client.post(url, json=payload, headers={"Idempotency-Key": "again"})
    assert (again.status_code, again.json) == (201, first.json)
    assert len(statements) <= API_QUERIES + 1, "\n".join(statements)
    assert db.session.scalar(db.select(db.func.count(Comment.id)).where(
        Comment.consultation_id == consultation_id)) == 1
