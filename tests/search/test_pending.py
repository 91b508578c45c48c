"""A citizen's new comment gets its search index row after the commit, in batches (issue 8;
consult/search/indexer.py): findable once the indexer has run, never while it is not public,
once only, after a crash too, on both databases."""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from consult import clock, create_app
from consult.comments.models import Comment, CommentStatus, UnindexedComment
from consult.comments.moderation import approve_comment, hide_comment
from consult.consultations.models import Moderation, State
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs import schedule
from consult.jobs.models import Job
from consult.search import indexer, indexing
from consult.search.engine import SearchParams, search
from consult.search.indexing import (
    _claim_pending,
    clear_pending,
    index_pending_comments,
    reindex,
)
from consult.search.models import Kind, SearchDocument
from tests import factories

BODY = "建议将公示期延长至十五日，便于群众充分了解养老服务补贴。"


def _post_json(client, consultation_id: int, body: str = BODY) -> str:
    """The tracking number of a new comment posted to the API."""
    response = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                           json={"body": body, "category": "individual", "article": 1},
                           headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.json
    return response.json["tracking_no"]


def _comment(tracking_no: str) -> Comment:
    return db.session.scalar(db.select(Comment).where(Comment.tracking_no == tracking_no))


def _post(client, consultation_id: int, body: str = BODY) -> Comment:
    return _comment(_post_json(client, consultation_id, body))


def _rows(comment_id: int) -> int:
    return db.session.scalar(db.select(db.func.count(SearchDocument.id)).where(
        SearchDocument.kind == Kind.COMMENT, SearchDocument.ref_id == comment_id))


def _waiting(comment: Comment) -> bool:
    """Whether the comment is on the list of those waiting for their rows."""
    return db.session.scalar(db.select(UnindexedComment.comment_id).where(
        UnindexedComment.comment_id == comment.id)) is not None


def _waiting_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(UnindexedComment))


def _listed(comment: Comment) -> Comment:
    """A comment made through the ORM (its row written by its flush) put on the list, as a
    citizen's POST leaves its comment (the tests then delete the rows)."""
    db.session.add(UnindexedComment(comment_id=comment.id))
    db.session.flush()
    return comment


def _found(q: str = "养老服务补贴") -> list[int]:
    return [h.ref_id for h in search(SearchParams(q=q, kind=Kind.COMMENT)).hits]


@pytest.fixture
def asleep(monkeypatch) -> list:
    """The indexer is not woken (a process that dies right after its commit)."""
    woken: list = []
    monkeypatch.setattr(indexer, "wake", lambda app, ids=(), **kw: woken.append((app, list(ids))))
    return woken


# ------------------------------------------------------------------ in the suite's transaction


def test_a_citizens_comment_is_found_right_after_its_post_with_no_delay(client, make):
    """SEARCH_INDEX_DELAY 0 (the tests' setting): written right after the commit."""
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    assert comment.status == CommentStatus.PUBLISHED and not _waiting(comment)
    assert _found() == [comment.id] and _rows(comment.id) == 1


def test_the_post_writes_no_row_and_the_indexer_writes_it_once(client, make, asleep):
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    assert asleep and _waiting(comment)
    assert _found() == [] and _rows(comment.id) == 0  # not found yet: nothing wrong said
    assert index_pending_comments() == 1
    db.session.refresh(comment)
    assert not _waiting(comment) and _found() == [comment.id]
    assert index_pending_comments() == 0 and _rows(comment.id) == 1


def test_the_indexer_takes_a_comment_off_the_list_without_writing_the_comment(client, make,
                                                                            asleep):
    """What waits is listed in a table of its own: the indexer deletes the entry and writes
    the row, and never rewrites the comment (an UPDATE of it wrote all its index entries)."""
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert index_pending_comments() == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert any(s.startswith("WITH picked AS") and "DELETE FROM unindexed_comments" in s
               for s in statements), statements
    assert not [s for s in statements if s.startswith("UPDATE")]
    assert not _waiting(comment) and _rows(comment.id) == 1


def test_a_comment_the_orm_inserts_has_its_row_and_waits_for_nothing(make, unit):
    """A comment inserted by a flush (recorded by staff, the demo data) gets its row from that
    flush; SQLite's trigger lists every published comment inserted, and the flush takes it off
    the list again."""
    consultation = make.consultation(State.OPEN, unit)
    comment = make.comment(consultation, body=BODY)
    db.session.commit()
    assert _rows(comment.id) == 1 and not _waiting(comment) and _waiting_count() == 0


def test_a_comment_waiting_for_moderation_is_indexed_once_approved(client, make, approver):
    consultation = make.consultation(State.OPEN, approver.memberships[0].unit,
                                     moderation=Moderation.PRE)
    db.session.commit()
    comment = _post(client, consultation.id)
    assert comment.status == CommentStatus.PENDING_MODERATION and not _waiting(comment)
    assert _rows(comment.id) == 0 and _found() == []
    approve_comment(comment, actor=approver)
    db.session.commit()
    assert _rows(comment.id) == 1 and _found() == [comment.id]
    assert index_pending_comments() == 0 and _rows(comment.id) == 1


def test_a_row_written_meanwhile_by_a_flush_is_not_doubled(client, make, asleep):
    """The consultation changes while the comment waits: its flush rebuilds every row of the
    consultation's comments, the waiting one included; the indexer then replaces that row."""
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    consultation.title = "养老服务补贴办法（征求意见稿）"
    consultation.unit_id = make.unit("市民政局").id  # every row of it is rebuilt
    db.session.commit()
    assert _rows(comment.id) == 1
    assert index_pending_comments() == 1 and _rows(comment.id) == 1


def test_a_comment_hidden_before_the_indexer_runs_is_not_indexed(client, make, approver,
                                                                  asleep):
    consultation = make.consultation(State.OPEN, approver.memberships[0].unit)
    db.session.commit()
    comment = _post(client, consultation.id)
    hide_comment(comment, "spam", None, actor=approver)
    db.session.commit()
    assert index_pending_comments() == 1
    assert _rows(comment.id) == 0 and _found() == []


def test_a_comment_on_a_consultation_that_is_not_public_is_never_indexed(make, unit):
    draft = make.consultation(State.DRAFT, unit)
    comment = _listed(make.comment(draft, body=BODY))
    withdrawn = make.consultation(State.OPEN, unit)
    other = _listed(make.comment(withdrawn, body=BODY))
    db.session.execute(text("DELETE FROM search_documents"))  # as before the indexer runs
    withdrawn.state, withdrawn.approved_at = State.WITHDRAWN, None  # never was public
    db.session.commit()
    assert index_pending_comments() == 2
    assert _rows(comment.id) == _rows(other.id) == 0 and _found() == []
    assert _waiting_count() == 0


def test_the_indexers_row_is_stored_exactly_as_a_reindex_stores_it(make, unit):
    """The indexer sends its rows as the driver's own SQL, their parameters made ready before
    the write transaction (`database.prepare`): each column must be stored as SQLAlchemy's own
    INSERT stores it (`reindex`) — times in the stored format, the kind as its enum writes it,
    the tokens and the masked text alike."""
    consultation = make.consultation(State.OPEN, unit)
    comment = _listed(make.comment(consultation, body=f"{BODY} 联系电话13912345678"))
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.commit()
    columns = [c.name for c in SearchDocument.__table__.columns if c.name != "id"]
    stored = text(f"SELECT {', '.join(columns)} FROM search_documents "
                  "WHERE kind = 'comment' AND ref_id = :id")
    assert index_pending_comments() == 1
    by_indexer = db.session.execute(stored, {"id": comment.id}).one()
    reindex(db.session)
    db.session.commit()
    by_reindex = db.session.execute(stored, {"id": comment.id}).one()
    assert by_indexer == by_reindex
    assert "13912345678" not in by_indexer.body and by_indexer.dated_at is not None


def test_a_batch_takes_at_most_its_limit_oldest_first(make, unit):
    consultation = make.consultation(State.OPEN, unit)
    comments = [_listed(make.comment(consultation, body=f"{BODY}（{i}）"))
                for i in range(5)]
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.commit()
    assert index_pending_comments(limit=2) == 2
    assert [_rows(c.id) for c in comments] == [1, 1, 0, 0, 0]
    assert indexer.index_waiting() == 3
    assert [_rows(c.id) for c in comments] == [1] * 5


def test_a_crash_before_indexing_is_caught_up_by_the_schedules_tick(client, make, asleep,
                                                                    travel):
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    assert schedule.tick() == []  # waiting less than it should: the live indexer's
    travel(clock.now() + indexer.OVERDUE + timedelta(seconds=5))
    assert schedule.tick() == ["search_index"]
    assert schedule.tick() == []  # once per tick, however many workers
    assert jobs.run_due() == 1
    job = db.session.scalar(db.select(Job).where(Job.kind == "search_index"))
    assert job.result == {"comments": 1}
    assert _found() == [comment.id] and _rows(comment.id) == 1


def test_reindex_empties_the_list_of_waiting_comments(client, make, asleep):
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    assert clear_pending(db.session) == 1
    reindex(db.session)
    db.session.commit()
    db.session.refresh(comment)
    assert not _waiting(comment) and _rows(comment.id) == 1
    assert index_pending_comments() == 0


def test_the_reindex_command_empties_the_list(app, client, make, asleep):
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    db.session.refresh(comment)
    assert not _waiting(comment) and _found() == [comment.id]


def test_an_indexer_that_fails_never_fails_the_post(client, make, monkeypatch, caplog):
    consultation = make.consultation(State.OPEN)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("the index is broken")

    monkeypatch.setattr(indexer, "index_pending_comments", broken)
    with caplog.at_level("ERROR", logger="consult.search.indexer"):
        comment = _post(client, consultation.id)
    assert "rows of new comments not written" in caplog.text
    assert _waiting(comment) and _found() == []  # the comment is saved, its row waits
    monkeypatch.undo()
    assert indexer.index_waiting() == 1 and _found() == [comment.id]


def test_the_post_wakes_the_indexer_with_its_own_comment(client, make, asleep):
    consultation = make.consultation(State.OPEN)
    db.session.commit()
    comment = _post(client, consultation.id)
    assert [ids for _app, ids in asleep] == [[comment.id]]


def test_an_indexer_given_its_own_comments_takes_only_those(make, unit):
    """Each process builds the rows of the comments it made (consult/search/indexer.py):
    another process's waiting comments are left to it (or to the schedule's catch-up)."""
    consultation = make.consultation(State.OPEN, unit)
    mine, theirs, also_mine = (_listed(make.comment(consultation, body=f"{BODY}（{i}）"))
                               for i in range(3))
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.commit()
    assert index_pending_comments(among=[mine.id, also_mine.id]) == 2
    assert [_rows(c.id) for c in (mine, theirs, also_mine)] == [1, 0, 1]
    db.session.expire_all()
    assert _waiting(theirs) and not _waiting(mine)
    assert index_pending_comments(among=[mine.id]) == 0  # taken already: nothing twice
    assert indexer.index_waiting(among=[]) == 0
    assert indexer.index_waiting() == 1 and _rows(theirs.id) == 1  # the catch-up takes all


def test_a_failing_batch_leaves_its_comments_waiting(make, unit, monkeypatch):
    consultation = make.consultation(State.OPEN, unit)
    comment = _listed(make.comment(consultation, body=BODY))
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.commit()

    # The INSERT of the rows fails, after the claim and the DELETE: all of it is undone.
    real = indexing._prepared_document(db.engine.dialect)
    monkeypatch.setattr("consult.search.indexing._prepared_document", lambda dialect: replace(
        real, sql=real.sql.replace("INSERT INTO search_documents", "INSERT INTO no_such_table")))
    with pytest.raises(DBAPIError):
        index_pending_comments()
    db.session.expire_all()
    assert _waiting(comment) and _rows(comment.id) == 0  # rolled back, its entry too
    monkeypatch.undo()
    assert index_pending_comments() == 1 and _rows(comment.id) == 1


# ------------------------------------------------------------------ committed for real


@pytest.fixture
def database_url(tmp_path):
    """The suite's PostgreSQL database (its rows are deleted afterwards by `real_session`),
    or a SQLite file of this test's own (the suite's in-memory one has one connection)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else f"sqlite:///{tmp_path / 'indexer.db'}"


def _app(url: str, **config):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url.replace(
        "postgresql://", "postgresql+psycopg://", 1), "RATELIMIT_ENABLED": False, **config})
    with app.app_context():
        if url.startswith("sqlite"):
            db.create_all()
        consultation = factories.consultation("open")
        db.session.commit()
        consultation_id = consultation.id
        db.session.remove()
    return app, consultation_id


def _wait_found(app, comment_id: int, seconds: float = 20) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            found = _found()
            db.session.remove()
        if comment_id in found:
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"comment {comment_id} not found within {seconds} s")


def test_the_thread_writes_the_rows_after_the_delay(database_url, real_session):
    delay = 0.5
    app, consultation_id = _app(database_url, SEARCH_INDEX_DELAY=delay)
    client = app.test_client()
    try:
        posted = time.monotonic()
        numbers = [_post_json(client, consultation_id, f"{BODY}（{i}）") for i in range(3)]
        with app.app_context():
            waiting = _waiting_count()
            comments = [_comment(number).id for number in numbers]
            db.session.remove()
        if time.monotonic() - posted < delay:  # a loaded machine may be slower than that
            assert waiting == 3
        for comment_id in comments:
            _wait_found(app, comment_id)
        background = indexer.indexer(app)
        assert background.started and background.thread.name == "search-index"
        with app.app_context():
            assert [_rows(c) for c in comments] == [1, 1, 1]
            assert _waiting_count() == 0
            db.session.remove()
    finally:
        indexer.indexer(app).stop()
        with app.app_context():
            db.engine.dispose()


def test_the_thread_tries_again_after_a_failure(database_url, real_session, monkeypatch):
    monkeypatch.setattr(indexer, "RETRY_SECONDS", 0.2)
    app, consultation_id = _app(database_url, SEARCH_INDEX_DELAY=0.05)
    calls = []
    real = indexer.index_pending_comments

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return real(*args, **kwargs)

    monkeypatch.setattr(indexer, "index_pending_comments", fails_once)
    client = app.test_client()
    try:
        number = _post_json(client, consultation_id)
        with app.app_context():
            comment_id = _comment(number).id
            db.session.remove()
        _wait_found(app, comment_id)  # no second wake: the retry found it
        assert len(calls) >= 2
    finally:
        indexer.indexer(app).stop()
        with app.app_context():
            db.engine.dispose()


def test_two_indexers_on_postgresql_share_the_work_and_never_index_twice(app, real_session):
    """One indexer holds a batch it has claimed (uncommitted); a second one, on another
    connection, skips those comments (FOR UPDATE SKIP LOCKED) without waiting. Then several
    threads at once index everything exactly once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's write transactions are serial already")
    consultation = factories.consultation("open")
    comments = [_listed(factories.comment(consultation, body=f"{BODY}（{i}）"))
                for i in range(40)]
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.commit()
    ids = [c.id for c in comments]
    engine = create_engine(db.engine.url, poolclass=NullPool)
    try:
        holder = Session(bind=engine)
        try:
            held = _claim_pending(holder.connection(), 10)
            assert sorted(held) == ids[:10]
            started = time.monotonic()
            assert index_pending_comments(limit=15, bind=engine) == 15  # not the held ones
            assert time.monotonic() - started < 5  # skipped, not waited for
        finally:
            holder.rollback()  # the first indexer dies: its comments wait again
            holder.close()
        with engine.connect() as connection:
            written = set(connection.scalars(text(
                "SELECT ref_id FROM search_documents WHERE kind = 'comment'")))
        assert written == set(ids[10:25])

        statements: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: statements.append(statement))
        taken, errors = [], []

        def run():
            try:
                while n := index_pending_comments(limit=3, bind=engine):
                    taken.append(n)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors and sum(taken) == 25
        assert any("SKIP LOCKED" in s for s in statements)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT ref_id, count(*) FROM search_documents WHERE kind = 'comment' "
                "GROUP BY ref_id")).all()
            waiting = connection.scalar(text("SELECT count(*) FROM unindexed_comments"))
        assert sorted(ref for ref, _n in rows) == ids and {n for _ref, n in rows} == {1}
        assert waiting == 0
    finally:
        engine.dispose()


def test_an_indexer_waits_for_a_consultation_being_changed_and_sees_the_change(app,
                                                                               real_session):
    """The indexer reads its comments' consultations FOR SHARE in its writing transaction: a
    consultation being made not public meanwhile (here: withdrawn before it was ever approved)
    is waited for, then seen, and the comment gets no row although it was built before."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's write transactions are serial already")
    consultation = factories.consultation("open")
    comment = _listed(factories.comment(consultation, body=BODY))
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.commit()
    engine = create_engine(db.engine.url, poolclass=NullPool)
    try:
        taken: list[int] = []
        thread = threading.Thread(target=lambda: taken.append(
            index_pending_comments(bind=engine)))
        with engine.connect() as holder:  # closed (its change rolled back) if this fails
            change = holder.begin()
            holder.execute(text("UPDATE consultations SET state = 'withdrawn', "
                                "approved_at = NULL WHERE id = :id"), {"id": consultation.id})
            thread.start()
            thread.join(1.0)
            assert thread.is_alive()  # waiting for the consultation's row
            change.commit()
        thread.join(30)
        assert taken == [1]
        with engine.connect() as connection:
            assert connection.scalar(text(
                "SELECT count(*) FROM search_documents WHERE kind = 'comment' "
                "AND ref_id = :id"), {"id": comment.id}) == 0
            assert connection.scalar(text("SELECT count(*) FROM unindexed_comments")) == 0
    finally:
        engine.dispose()
