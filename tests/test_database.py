"""The database under contention: WAL, durable commits, write transactions that take the lock
when they begin, and a busy database answered with 503 + Retry-After, never a 500."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
from sqlalchemy import text

from consult import create_app
from consult.comments.models import Comment
from consult.database import engine_options, is_busy
from consult.extensions import db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def count_comments(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(db.select(db.func.count(Comment.id)))
        finally:
            db.session.remove()


def test_a_sqlite_file_runs_in_wal_with_full_synchronous_by_default(file_app):
    app, _ = file_app()
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_synchronous_normal_is_an_option_and_nonsense_is_refused(file_app, tmp_path):
    app, _ = file_app(SQLITE_SYNCHRONOUS="normal")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        create_app({"TESTING": True, "SQLITE_SYNCHRONOUS": "sometimes",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.db'}"})


def test_requests_that_write_begin_immediate_and_reads_do_not(file_app):
    app, consultation_id = file_app()
    seen: list[str] = []
    with app.app_context():
        from sqlalchemy import event

        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: seen.append(statement))
    client = app.test_client()
    assert client.get(f"/api/v1/consultations/{consultation_id}").status_code == 200
    assert "BEGIN" in seen and "BEGIN IMMEDIATE" not in seen
    seen.clear()
    response = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                           json={"body": "建议增加听证。", "category": "individual"})
    assert response.status_code == 201
    assert seen[0] == "BEGIN IMMEDIATE"


def hold_write_lock(path: str, release: threading.Event, held: threading.Event):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    release.wait(10)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.parametrize("via", ["api", "form"])
def test_a_lock_that_cannot_be_had_in_time_is_a_503_with_retry_after(file_app, via, post_form):
    app, consultation_id = file_app(SQLITE_BUSY_TIMEOUT=0.2)
    client = app.test_client()
    page = None
    if via == "form":  # the form's CSRF token first, while nobody holds the lock
        page = client.get(f"/consultations/{consultation_id}/comment")
        assert page.status_code == 200
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(path, release, held))
    holder.start()
    held.wait(5)
    try:
        if via == "api":
            response = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                                   json={"body": "建议增加听证。", "category": "individual"})
            assert response.json["error"]["code"] == "database_busy"
        else:
            url = f"/consultations/{consultation_id}/comment"
            response = post_form(client, url, {"body": "建议增加听证。", "category": "individual"},
                                 page=f"/consultations/{consultation_id}")
            assert "稍后" in response.get_data(as_text=True)
        # A reader is not held up by the writer (WAL).
        assert client.get(f"/api/v1/consultations/{consultation_id}").status_code == 200
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert count_comments(app) == 0
    # Once the lock is free, the same submission goes through.
    response = client.post(f"/api/v1/consultations/{consultation_id}/comments",
                           json={"body": "建议增加听证。", "category": "individual"})
    assert response.status_code == 201
    assert count_comments(app) == 1


def test_an_exhausted_connection_pool_is_a_503_with_retry_after(file_app, tmp_path):
    """Every connection of the worker busy for longer than DB_POOL_TIMEOUT: 503, not a hang."""
    if ON_POSTGRES:
        url = os.environ["DATABASE_URL"]
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url.replace(
            "postgresql://", "postgresql+psycopg://", 1), "DB_POOL_SIZE": 1,
            "DB_MAX_OVERFLOW": 0, "DB_POOL_TIMEOUT": 0.2})
        consultation_id = 1
    else:
        app, consultation_id = file_app(DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=0.2)
    with app.app_context():
        held = db.engine.connect()  # the only connection
        held.execute(text("SELECT 1"))
        try:
            response = app.test_client().get(f"/api/v1/consultations/{consultation_id}")
        finally:
            held.close()
            db.engine.dispose()
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_busy"
    assert int(response.headers["Retry-After"]) >= 1


def test_only_busy_or_unavailable_errors_become_503():
    from sqlalchemy import exc

    locked = exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    missing = exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))
    assert is_busy(locked)
    assert not is_busy(missing)  # a bug, not a busy database: still a 500
    assert is_busy(exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached"))
    assert not is_busy(exc.IntegrityError("INSERT", {}, Exception("UNIQUE")))
    # a commit after the connection was lost (a read's error was handled earlier): nothing saved
    assert is_busy(exc.PendingRollbackError(
        "Can't reconnect until invalid transaction is rolled back.  Please rollback() fully"))
    assert not is_busy(exc.PendingRollbackError(
        "This Session's transaction has been rolled back due to a previous exception during "
        "flush."))


def test_engine_options_size_the_pool_but_leave_an_in_memory_database_alone():
    config = {"DB_POOL_SIZE": 12, "DB_MAX_OVERFLOW": 3, "DB_POOL_TIMEOUT": 4.0}
    assert engine_options("sqlite://", config) == {"pool_pre_ping": True}
    assert engine_options("postgresql+psycopg://x/y", config) == {
        "pool_pre_ping": True, "pool_size": 12, "max_overflow": 3, "pool_timeout": 4.0}


HOLD_TURN = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.mark.skipif(ON_POSTGRES or os.name != "posix", reason="SQLite's writer lock file (POSIX)")
def test_another_process_holding_the_writer_turn_is_waited_for_then_a_503(file_app):
    """The processes of a host (gunicorn's workers) take turns on `<database>-writer`: a POST
    waits for another process's turn, answers 503 + Retry-After when it does not come in time,
    saves nothing, and goes through once the turn is free."""
    import subprocess
    import sys

    app, consultation_id = file_app(SQLITE_BUSY_TIMEOUT=0.3)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    url = f"/api/v1/consultations/{consultation_id}/comments"
    client = app.test_client()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_TURN, f"{path}-writer"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        response = client.post(url, json={"body": "建议增加听证。", "category": "individual"})
        assert response.status_code == 503
        assert response.json["error"]["code"] == "database_busy"
        assert int(response.headers["Retry-After"]) >= 1
        assert client.get(f"/api/v1/consultations/{consultation_id}").status_code == 200
    finally:
        holder.communicate("done\n", timeout=10)
    assert count_comments(app) == 0
    response = client.post(url, json={"body": "建议增加听证。", "category": "individual"})
    assert response.status_code == 201 and count_comments(app) == 1


@pytest.mark.skipif(ON_POSTGRES or os.name != "posix", reason="SQLite's writer lock file (POSIX)")
def test_a_forked_process_takes_its_own_writer_turn(tmp_path):
    """A descriptor inherited over fork would share the parent's lock: each process opens its
    own, so a child waits while the parent holds the turn."""
    from consult.database import WriterLock

    lock = WriterLock(str(tmp_path / "turn.db"))
    assert lock.acquire(timeout=1)
    pid = os.fork()
    if pid == 0:  # the child, a new worker: its threads' lock is free, the parent's turn not
        lock.threads = threading.Lock()
        os._exit(0 if not lock.acquire(timeout=0.2) else 1)
    _, status = os.waitpid(pid, 0)
    lock.release()
    assert os.waitstatus_to_exitcode(status) == 0
    assert lock.acquire(timeout=1)  # free again, and taken again in this process
    lock.release()


def _turn_is_free(path: str) -> bool:
    """Whether no writer of this host holds the SQLite write turn (`<database>-writer`): a
    lock on a descriptor of its own conflicts with one held in this process too."""
    import fcntl

    fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def watch_the_turn(app, monkeypatch) -> dict[str, bool]:
    """Note, for what follows a comment's commit — its answer, the pages' stamps, its mail
    handed on, the indexer woken — whether the write turn was free when it ran."""
    from consult import pagecache
    from consult.api import views as api_views
    from consult.comments.views import public as form_views
    from consult.jobs import dispatch
    from consult.search import indexer

    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    seen: dict[str, bool] = {}

    def noting(name, real):
        def call(*args, **kwargs):
            seen[name] = _turn_is_free(path)
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(pagecache, "bump", noting("stamps", pagecache.bump))
    monkeypatch.setattr(pagecache, "_enabled", lambda: True)
    monkeypatch.setattr(indexer, "wake", noting("indexer", indexer.wake))
    monkeypatch.setattr(dispatch, "_handoff", [noting("mail", dispatch._handoff[0])])
    monkeypatch.setattr(api_views, "_private", noting("answer", api_views._private))
    monkeypatch.setattr(form_views, "_to_receipt", noting("answer", form_views._to_receipt))
    return seen


@pytest.mark.skipif(ON_POSTGRES or os.name != "posix", reason="SQLite's writer lock file (POSIX)")
@pytest.mark.parametrize("via", ["api", "form"])
def test_a_comment_holds_the_write_turn_only_to_insert_and_commit(file_app, monkeypatch, via):
    """Every writer of the host waits while one holds SQLite's write turn: a citizen's comment
    holds it for its INSERT and the commit, not while its answer is made (`commit_now`), nor
    while the pages' stamps are renewed, its receipt mail handed on or the indexer woken (after
    the transaction has ended)."""
    app, consultation_id = file_app()
    seen = watch_the_turn(app, monkeypatch)
    client = app.test_client()
    fields = {"body": "建议增加听证。", "category": "individual", "email": "a@example.org"}
    if via == "api":
        response = client.post(f"/api/v1/consultations/{consultation_id}/comments", json=fields)
        assert response.status_code == 201
    else:
        from tests.conftest import csrf_from

        url = f"/consultations/{consultation_id}/comment"
        token = csrf_from(client.get(url).get_data(as_text=True))
        response = client.post(url, data={**fields, "csrf_token": token})
        assert response.status_code == 303
    assert count_comments(app) == 1
    assert seen == {"answer": True, "stamps": True, "mail": True, "indexer": True}
