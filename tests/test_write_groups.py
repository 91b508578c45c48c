"""Comments that arrive together are committed together (`consult.database.WriteGroup`): each
request is answered only once its group has committed, a statement at fault fails alone, a busy
database fails the group with 503s — on a SQLite file and on PostgreSQL, for real (not the
suite's rolled-back transaction)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, event, exc

from consult import database
from consult.comments import counts
from consult.comments.models import Comment, CommentStatus
from consult.config import Config
from consult.database import WriteGroup, configure_engine, engine_options
from consult.extensions import db
from tests.test_database import ON_POSTGRES, count_comments, hold_write_lock

SETTINGS = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}


@pytest.fixture
def engine(tmp_path):
    """A configured engine (the suite's PostgreSQL, else a SQLite file) with a scratch table
    `rows (id, v UNIQUE)`, dropped afterwards."""
    url = os.environ["DATABASE_URL"] if ON_POSTGRES else f"sqlite:///{tmp_path / 'groups.db'}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, **engine_options(url, SETTINGS))
    configure_engine(engine, {**SETTINGS, "SQLITE_BUSY_TIMEOUT": 0.3})
    table = f"write_group_rows_{uuid.uuid4().hex[:8]}"
    key = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {table} (id {key} PRIMARY KEY, v TEXT UNIQUE)")
    engine.test_table = table
    yield engine
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()


def _insert(engine) -> str:
    style = "%(v)s" if engine.dialect.name == "postgresql" else "?"
    return f"INSERT INTO {engine.test_table} (v) VALUES ({style}) RETURNING id"


def _value(engine, v: str):
    return {"v": v} if engine.dialect.name == "postgresql" else (v,)


def _rows(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.exec_driver_sql(f"SELECT v FROM {engine.test_table}").scalars())


def _write_together(engine, values: list[str]) -> tuple[dict, int]:
    """Write `values` from a thread each while a first write holds the group, so that they all
    wait and go as one group; return ({value: id or the exception}, transactions begun)."""
    group = database.write_group(engine)
    results: dict = {}
    begun = []
    all_waiting = threading.Event()

    @event.listens_for(engine, "begin")
    def _count(connection):
        begun.append(1)
        if len(begun) == 1:  # the first group: hold it until the others are queued
            all_waiting.wait(10)

    def write(value):
        try:
            results[value] = group.write(_insert(engine), _value(engine, value))
        except Exception as error:  # noqa: BLE001 - the test looks at it
            results[value] = error

    first = threading.Thread(target=write, args=("first",))
    first.start()
    threads = [threading.Thread(target=write, args=(v,)) for v in values]
    for thread in threads:
        thread.start()
    for _ in range(1000):  # the others queue behind the first
        if len(group._waiting) == len(values):
            break
        threading.Event().wait(0.01)
    all_waiting.set()
    for thread in [first, *threads]:
        thread.join(20)
    event.remove(engine, "begin", _count)
    results.pop("first")
    return results, len(begun)


def test_writes_that_arrive_together_are_committed_in_one_transaction(engine):
    values = [f"v{i}" for i in range(12)]
    results, transactions = _write_together(engine, values)
    assert transactions == 2  # the first alone, then the twelve that waited for it, together
    assert sorted(results) == sorted(values)
    assert len({results[v] for v in values}) == 12 and all(
        isinstance(results[v], int) for v in values)
    assert _rows(engine) == sorted(["first", *values])


def test_a_statement_at_fault_fails_alone_and_the_rest_of_its_group_is_saved(engine):
    group = database.write_group(engine)
    group.write(_insert(engine), _value(engine, "taken"))
    results, _ = _write_together(engine, ["a", "taken", "b", "c"])
    assert isinstance(results["taken"], exc.IntegrityError)
    assert all(isinstance(results[v], int) for v in ("a", "b", "c"))
    assert _rows(engine) == ["a", "b", "c", "first", "taken"]


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's write lock, held by another connection")
def test_a_busy_database_fails_every_write_of_the_group_with_a_503(engine):
    group = database.write_group(engine)
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_write_lock,
                              args=(engine.url.database, release, held))
    holder.start()
    held.wait(5)
    try:
        results, _ = _write_together(engine, ["a", "b", "c"])
    finally:
        release.set()
        holder.join()
    # 503s: a group's each its own DatabaseBusy, one written alone SQLite's "locked"
    assert all(database.is_busy(results[v]) for v in ("a", "b", "c"))
    assert len({id(results[v]) for v in ("a", "b", "c")}) == 3
    assert _rows(engine) == []
    assert isinstance(group.write(_insert(engine), _value(engine, "later")), int)


def test_a_conflict_postgresql_broke_sends_each_write_again_alone(engine, monkeypatch):
    """A deadlock (PostgreSQL aborts one side after deadlock_timeout) is not a busy database:
    the group's writes go again, each alone, and all are saved."""
    class Orig(Exception):
        sqlstate = "40P01"  # deadlock_detected

    deadlock = exc.OperationalError("INSERT", {}, Orig())
    assert database.is_busy(deadlock) and database._in_conflict(deadlock)
    lost = exc.OperationalError("INSERT", {}, Exception("server closed the connection"))
    assert not database._in_conflict(lost)
    real_run = WriteGroup._run

    def run(self, writes):
        if len(writes) > 1:
            raise deadlock
        return real_run(self, writes)

    monkeypatch.setattr(WriteGroup, "_run", run)
    results, _ = _write_together(engine, ["a", "b", "c"])
    assert all(isinstance(results[v], int) for v in ("a", "b", "c"))
    assert _rows(engine) == ["a", "b", "c", "first"]


def test_no_group_for_sqlite_in_memory_or_with_groups_off(tmp_path):
    memory = create_engine("sqlite://")
    configure_engine(memory, SETTINGS)
    assert database.write_group(memory) is None
    off = create_engine(f"sqlite:///{tmp_path / 'off.db'}")
    configure_engine(off, {**SETTINGS, "DB_WRITE_GROUPS": False})
    assert database.write_group(off) is None
    on = create_engine(f"sqlite:///{tmp_path / 'on.db'}")
    configure_engine(on, SETTINGS)
    assert isinstance(database.write_group(on), WriteGroup)
    with memory.connect() as connection:  # a session bound to a connection: none either
        assert database.write_group(connection) is None


def test_grouped_comments_count_on_their_process_own_shard():
    assert counts.shards(grouped=True) == counts.shards(grouped=True)
    one = counts.shards(grouped=True)
    assert one["shard"] == one["article_shard"] and 0 <= one["shard"] < counts.SHARDS


# ------------------------------------------------------------------ through the app


@pytest.mark.skipif(ON_POSTGRES, reason="an app on a SQLite file of its own")
def test_citizens_posting_at_once_are_answered_after_their_group_commits(file_app, monkeypatch):
    """Sixteen citizens post at once while a first comment's group is being written: each gets
    its 201 with its own receipt, every comment and its counts are saved, found by search."""
    app, consultation_id = file_app(RATELIMIT_ENABLED=False)
    written = []
    real_run = WriteGroup._run

    def run(self, writes):
        written.append(len(writes))
        return real_run(self, writes)

    answers = {}
    # The first POST of a process reads the consultation (its session then holds the write
    # turn, so its comment goes through it); the later ones find it kept.
    first = app.test_client().post(f"/api/v1/consultations/{consultation_id}/comments",
                                   json={"body": "先来的建议。", "category": "individual"})
    assert first.status_code == 201
    monkeypatch.setattr(WriteGroup, "_run", run)

    def post(i):
        client = app.test_client()
        response = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                               json={"body": f"第{i}条建议：增加公交线路。",
                                     "category": "individual"},
                               headers={"Idempotency-Key": f"key-{i}"})
        answers[i] = (response.status_code, response.json)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {status for status, _ in answers.values()} == {201}
    tracking = {body["tracking_no"] for _, body in answers.values()}
    assert len(tracking) == 16
    assert sum(written) == 16  # every comment through a group (together or alone)
    assert count_comments(app) == 17
    with app.app_context():
        try:
            saved = set(db.session.scalars(db.select(Comment.tracking_no)))
            counted = counts.counts_by_status([consultation_id])[consultation_id]
        finally:
            db.session.remove()
    assert saved == tracking | {first.json["tracking_no"]}
    assert counted == {CommentStatus.PUBLISHED: 17}
    client = app.test_client()
    for tracking_no in tracking:  # every receipt resolves
        assert client.get(f"/api/v1/receipts/{tracking_no}").status_code == 200
    # A retry of the first is answered with its comment, not a second one.
    retry = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                        json={"body": "第0条建议：增加公交线路。", "category": "individual"},
                        headers={"Idempotency-Key": "key-0"})
    assert retry.status_code == 201 and retry.json["tracking_no"] == answers[0][1]["tracking_no"]
    assert count_comments(app) == 17


@pytest.mark.skipif(ON_POSTGRES, reason="an app on a SQLite file of its own")
@pytest.mark.parametrize(("fields", "grouped"), [
    ({}, True),
    ({"email": "a@example.org"}, False),  # its receipt mail in the same transaction
])
def test_a_comment_is_grouped_only_when_it_is_all_its_request_writes(file_app, monkeypatch,
                                                                      fields, grouped):
    app, consultation_id = file_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    first = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                        json={"body": "先来的建议。", "category": "individual"})
    assert first.status_code == 201  # the consultation read, then kept
    calls, statements = [], []
    real_write = WriteGroup.write
    monkeypatch.setattr(WriteGroup, "write",
                        lambda self, *args: calls.append(1) or real_write(self, *args))
    with app.app_context():
        engine = db.engine

    here = threading.get_ident()  # the test client's request runs here; the indexer does not

    def note(conn, cursor, statement, *args):
        if threading.get_ident() == here and not statement.startswith("PRAGMA"):
            statements.append(statement.split(" (")[0])

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                               json={"body": "建议增加听证。", "category": "individual", **fields})
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 201
    assert bool(calls) is grouped
    if grouped:  # the group's transaction, then (tests index at once) the indexer's own
        assert statements[:2] == ["BEGIN IMMEDIATE", "INSERT INTO comments"]
        assert statements[2:3] in ([], ["BEGIN IMMEDIATE"])
    assert count_comments(app) == 2


@pytest.mark.skipif(ON_POSTGRES or os.name != "posix", reason="SQLite's writer lock file (POSIX)")
def test_a_grouped_comment_is_answered_stamped_and_indexed_after_the_turn(file_app, monkeypatch):
    """What follows a grouped comment's commit runs once its group has let the write turn go:
    the answer, the pages' stamps, the indexer's wake — and the indexer does write its row."""
    from consult.search.models import SearchDocument
    from tests.test_database import watch_the_turn

    app, consultation_id = file_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    url = f"/api/v1/consultations/{consultation_id}/comments"
    assert client.post(url, json={"body": "先来的建议。", "category": "individual"}) \
        .status_code == 201
    grouped = []
    real_write = WriteGroup.write
    monkeypatch.setattr(WriteGroup, "write",
                        lambda self, *args: grouped.append(1) or real_write(self, *args))
    seen = watch_the_turn(app, monkeypatch)
    response = client.post(url, json={"body": "建议增加听证。", "category": "individual"})
    assert response.status_code == 201
    assert grouped == [1]
    assert seen == {"answer": True, "stamps": True, "indexer": True}
    with app.app_context():
        try:
            comment_id = db.session.scalar(db.select(Comment.id).where(
                Comment.tracking_no == response.json["tracking_no"]))
            for _ in range(200):  # the indexer's thread writes it after SEARCH_INDEX_DELAY
                if db.session.scalar(db.select(SearchDocument.id).where(
                        SearchDocument.ref_id == comment_id, SearchDocument.kind == "comment")):
                    break
                db.session.remove()
                threading.Event().wait(0.05)
            else:
                pytest.fail("the grouped comment never got its search index row")
        finally:
            db.session.remove()


def test_a_session_with_work_of_its_own_keeps_its_writes_together(tmp_path):
    """What a session has begun or not yet flushed belongs in its own transaction: a comment
    written after it is not taken out into a group."""
    from sqlalchemy.orm import Session

    from consult.mail import OutboxMessage

    engine = create_engine(f"sqlite:///{tmp_path / 'work.db'}")
    configure_engine(engine, SETTINGS)
    with Session(engine) as session:
        assert not database.session_has_work(session)
        session.add(OutboxMessage())  # pending, not flushed: no connection yet
        assert database.session_has_work(session)
    with Session(engine) as session:
        session.connection()  # a transaction begun on a connection
        assert database.session_has_work(session)
