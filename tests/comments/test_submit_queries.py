"""A comment POST sends a handful of statements (issue 8, SPEC §7: "at most ~3 queries per
comment POST"), counted here — not timed — through the API and through the form.

What a POST must still do is checked beside the count: the comment and its kept count are
written, and its search index row once the indexer it woke has run (the row is written after
the commit, in batches: consult/search/indexer.py), so a cheaper POST cannot be one that
forgot something. Transaction control (BEGIN, COMMIT, SAVEPOINT, RELEASE) is not a query and
not counted; bench/profile_submit.py prints the whole list.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import event

from consult.comments.counts import counts_by_status
from consult.comments.models import Comment, UnindexedComment
from consult.extensions import db
from consult.search import indexer
from consult.search.indexing import index_pending_comments
from consult.search.models import Kind, SearchDocument
from tests.conftest import csrf_from

# The consultation with its current version and the article asked for (one query, and only
# until the process keeps it: tests/comments/test_kept_targets.py counts 2 after that), the
# comment and its count shard (bench/README.md, comment submission); the same for the form (the
# draft's articles are read only to show the form again). The search index row is not the POST's.
API_QUERIES = FORM_QUERIES = 3
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture(autouse=True)
def wakes(monkeypatch) -> list:
    """The indexer is woken, not run (the tests run it with SEARCH_INDEX_DELAY 0, in the
    request's thread: its statements are not the POST's)."""
    woken: list = []
    monkeypatch.setattr(indexer, "wake", lambda app, ids=(), **kw: woken.append(app))
    return woken


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


def _written(tracking_no: str, wakes: list) -> Comment:
    """The comment is there, waiting for its index row, and the indexer was woken: once it
    has run, the row is there."""
    comment = db.session.scalar(db.select(Comment).where(Comment.tracking_no == tracking_no))
    assert comment is not None and comment.article is not None
    assert wakes and db.session.get(UnindexedComment, comment.id) is not None
    assert index_pending_comments() >= 1
    assert db.session.scalar(db.select(SearchDocument.id).where(
        SearchDocument.kind == Kind.COMMENT, SearchDocument.ref_id == comment.id)) is not None
    return comment


def test_an_api_post_sends_at_most_three_queries(client, consultation_id, wakes):
    url = f"/api/v1/consultations/{consultation_id}/comments"
    payload = {"body": "建议将第三条的公示期延长至十五日。", "category": "individual", "article": 1}
    client.post(url, json={**payload, "body": "预热"}, headers={"Idempotency-Key": "warm"})
    before = counts_by_status([consultation_id])[consultation_id].get("published", 0)
    with counted() as statements:
        response = client.post(url, json=payload, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.json
    assert len(statements) <= API_QUERIES, "\n".join(statements)
    _written(response.json["tracking_no"], wakes)
    assert counts_by_status([consultation_id])[consultation_id]["published"] == before + 1


def test_a_form_post_sends_at_most_three_queries(client, consultation_id, wakes):
    url = f"/consultations/{consultation_id}/comment"
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page)[1]
    data = {"csrf_token": csrf_from(page), "nonce": nonce, "article": "1",
            "body": "建议将第三条的公示期延长至十五日。", "category": "individual"}
    with counted() as statements:
        response = client.post(url, data=data)
    assert response.status_code == 303
    assert len(statements) <= FORM_QUERIES, "\n".join(statements)
    _written(response.headers["Location"].rsplit("/", 1)[1], wakes)


def test_a_retry_costs_one_more_query_and_makes_no_second_comment(client, consultation_id):
    url = f"/api/v1/consultations/{consultation_id}/comments"
    payload = {"body": "同一条意见，重试一次。", "category": "individual", "article": 1}
    first = client.post(url, json=payload, headers={"Idempotency-Key": "again"})
    received = counts_by_status([consultation_id])[consultation_id]
    with counted() as statements:
        again = client.post(url, json=payload, headers={"Idempotency-Key": "again"})
    assert (again.status_code, again.json) == (201, first.json)
    assert len(statements) <= API_QUERIES + 1, "\n".join(statements)
    assert counts_by_status([consultation_id])[consultation_id] == received  # counted once
    assert db.session.scalar(db.select(db.func.count(Comment.id)).where(
        Comment.consultation_id == consultation_id)) == 1


# ------------------------------------------------------------------ the form shown again


def _form_data(client, url: str, **fields) -> dict:
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page)[1]
    return {"csrf_token": csrf_from(page), "nonce": nonce, "category": "individual", **fields}


OPTION = re.compile(r'<option([^>]*)value="(\d*)"([^>]*)>([^<]*)<')


def test_a_refused_form_lists_the_drafts_articles_again_with_the_choice_kept(client,
                                                                             consultation_id):
    """The POST reads no article but the one chosen: the form shown again (422) still offers
    every article of the draft, labelled as on the first page, the chosen one selected."""
    url = f"/consultations/{consultation_id}/comment"
    first = [(value, label) for _a, value, _b, label in
             OPTION.findall(client.get(url).get_data(as_text=True))]
    assert len(first) > 2 and all(label.strip() for _value, label in first)
    response = client.post(url, data=_form_data(client, url, article="2", body=""))
    assert response.status_code == 422
    again = OPTION.findall(response.get_data(as_text=True))
    assert [(value, label) for _a, value, _b, label in again] == first
    assert [value for before, value, after, _label in again
            if "selected" in before + after] == ["2"]


def test_an_article_the_draft_does_not_have_is_refused_beside_the_field(client,
                                                                        consultation_id):
    url = f"/consultations/{consultation_id}/comment"
    for article in ("99", "x", "٣", str(2**70)):
        response = client.post(url, data=_form_data(client, url, article=article,
                                                    body="对不存在的条款提出意见。"))
        assert response.status_code == 422, article
        assert "所选条款不存在。" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Comment.id)).where(
        Comment.consultation_id == consultation_id)) == 0


def test_an_api_post_on_an_article_the_draft_does_not_have_is_422(client, consultation_id):
    url = f"/api/v1/consultations/{consultation_id}/comments"
    for article in (99, 2**70, -1):
        response = client.post(url, json={"body": "不存在的条款。", "category": "individual",
                                          "article": article})
        assert response.status_code == 422, article
        assert response.json["error"]["code"] == "unknown_article"


@pytest.mark.parametrize("article", [1, None], ids=["on an article", "on the whole draft"])
def test_the_comment_insert_sends_the_driver_what_sqlalchemy_would(client, make, monkeypatch,
                                                                   article):
    """The comment's INSERT is made ready before its transaction begins and sent as the
    driver's own SQL (consult/comments/services.py `_prepared_insert`): each value must reach
    the driver exactly as SQLAlchemy's own execution of the statement would send it (times in
    the stored format, enums and JSON as their columns write them), for a first comment and
    for one on a kept consultation (the INSERT with its guard)."""
    from consult import database
    from consult.comments import services

    consultation = make.consultation("open")
    db.session.commit()
    seen: list[tuple] = []
    real = database.Prepared.parameters

    def recording(self, values):
        ready = real(self, values)
        seen.append((self, dict(values), ready))
        return ready

    monkeypatch.setattr(database.Prepared, "parameters", recording)
    for n in range(2):  # the second on the kept consultation
        payload = {"body": f"建议{n}", "category": "organisation", "name": "某协会",
                   "email": "a@example.org", "publish_name": True}
        if article:
            payload["article"] = article
        response = client.post(f"/api/v1/consultations/{consultation.id}/comments",
                               json=payload, headers={"Idempotency-Key": f"same-{n}"})
        assert response.status_code == 201, response.json
    assert len(seen) == 2 and seen[0][0] is not seen[1][0]  # without and with the guard
    dialect = db.engine.dialect
    for prepared, values, ready in seen:
        guard = next(g for g in (None, "consultation", "article")
                     if services._prepared_insert(dialect, g) is prepared)
        sent: list = []

        def note(conn, cursor, statement, parameters, context, executemany, sent=sent):
            if statement.startswith(CONTROL):
                return
            sent.append((statement, parameters))
            raise _Sent()

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            with pytest.raises(_Sent):
                db.session.connection().execute(services._insert_statement(dialect, guard),
                                                values)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
            db.session.rollback()
        assert [(sql, _plain(parameters)) for sql, parameters in sent] == \
            [(prepared.sql, _plain(ready))]


def _plain(parameters):
    """The driver's parameters, comparable: psycopg's JSON wrappers by what they wrap."""
    def plain(value):
        return ("json", value.obj) if type(value).__name__ in ("Json", "Jsonb") else value
    if isinstance(parameters, dict):
        return {name: plain(value) for name, value in parameters.items()}
    return tuple(plain(value) for value in parameters)


class _Sent(Exception):
    """Stops a statement before it reaches the driver."""
