"""Engine settings that must hold on every database, and what a busy database answers.

SQLite is a real deployment (a laptop, a small city's single server), so it is set up for many
writers at once:
- WAL: readers never wait for the writer, and the writer never waits for readers;
- `synchronous=FULL` by default: a comment answered with 201 survives a power cut
  (`SQLITE_SYNCHRONOUS=NORMAL` trades that for speed: the last commits may be lost, the
  database stays intact);
- a write transaction takes the write lock when it begins (`BEGIN IMMEDIATE`). A deferred
  transaction that reads and then writes cannot wait for the lock: SQLite answers "database is
  locked" at once, whatever the busy timeout, because waiting could deadlock. Which transactions
  write is decided here, once, from the request: POST, PUT, PATCH and DELETE requests begin with
  the write lock; GET and HEAD read; work outside a request (CLI commands, the worker) begins
  deferred and starts its writes with a write (a claim is an UPDATE), so it waits like any writer;
- within one process, writers queue on a lock of their own before asking SQLite, so the threads
  of a worker wait their turn in order instead of polling SQLite's busy handler (which sleeps up
  to 100 ms between tries and lets a late comer overtake); between the processes of a host
  (gunicorn's workers) they take turns on a lock file beside the database (`<database>-writer`,
  `flock`, tried every `WRITER_POLL` seconds): the next writer starts within half a millisecond
  of the last commit instead of sleeping through SQLite's back-off (bench/README.md, comment
  submission);
- a lock that cannot be had within `SQLITE_BUSY_TIMEOUT` seconds becomes `DatabaseBusy`, which
  `consult/http.py` answers with 503 and `Retry-After` — never a 500.

On PostgreSQL the pool is sized by `DB_POOL_SIZE` + `DB_MAX_OVERFLOW`; a request that cannot get
a connection within `DB_POOL_TIMEOUT` seconds, or finds the server gone, is a 503 as well.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Flask, has_request_context, request
from sqlalchemy import event, exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from consult.errors import Unavailable
from consult.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
WRITER_POLL = 0.0005  # seconds between two tries of another process's writer lock

try:
    import fcntl
except ImportError:  # not POSIX: the processes of a host rely on SQLite's busy handler
    fcntl = None


class WriterLock:
    """The write turn of one SQLite database: a thread lock for the threads of this process,
    then a lock file for the processes of the host. Opened in each process after a fork (a
    descriptor inherited from the parent would share its lock)."""

    def __init__(self, database: str) -> None:
        self.threads = threading.Lock()
        self.path = f"{database}-writer" if fcntl is not None else None
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int:
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            return False
        if self.path is None:
            return True
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(WRITER_POLL)
        except BaseException:
            self.threads.release()
            raise
        self.threads.release()
        return False

    def release(self) -> None:
        if self.path is not None and self._pid == os.getpid():
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.threads.release()


class DatabaseBusy(Unavailable):
    """The database could not serve the request in time (locked, pool exhausted, down)."""

    code = "database_busy"


def engine_options(url: str, config: dict) -> dict:
    """SQLAlchemy engine options for `url`: a sized pool everywhere but in-memory SQLite."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite") and (url in ("sqlite://", "sqlite:///:memory:")
                                     or "mode=memory" in url):
        return options  # Flask-SQLAlchemy gives an in-memory database its one shared connection
    options.update(pool_size=config["DB_POOL_SIZE"], max_overflow=config["DB_MAX_OVERFLOW"],
                   pool_timeout=config["DB_POOL_TIMEOUT"])
    return options


def writes_expected() -> bool:
    """Whether the transaction now beginning may write: decided once, from the request.

    Outside a request (CLI commands, the worker, the background thread) transactions begin
    deferred: their writes start with the write itself (the worker claims a job or a message
    with an UPDATE), so they wait for the lock like any writer, and their long reads (a report
    build) hold no lock at all — unless they say they write (`writing`).
    """
    return _writing.get() or (has_request_context() and request.method not in READ_METHODS)


_writing: ContextVar[bool] = ContextVar("consult_writing", default=False)


@contextmanager
def writing():
    """Transactions begun inside write, outside a request too: on SQLite they begin with the
    write lock, queued behind this process's other writers in order (the search indexer's
    thread, which would otherwise poll SQLite's busy handler while requests overtake it)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def configure_engine(engine: Engine, config) -> None:
    """Set up `engine` for the app (called once by create_app)."""
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, config)
    if config.get("DB_WRITE_GROUPS", True) and not _shared_connection(engine):
        _GROUPS[engine] = WriteGroup(engine)


def _shared_connection(engine: Engine) -> bool:
    """SQLite in memory: one connection that every thread shares (Flask-SQLAlchemy's pool)."""
    url = engine.url
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory")


def _configure_sqlite(engine: Engine, config) -> None:
    in_memory = engine.url.database in (None, "", ":memory:")
    timeout = float(config["SQLITE_BUSY_TIMEOUT"])
    synchronous = str(config["SQLITE_SYNCHRONOUS"]).upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_MODES)}")
    writer = None if in_memory else WriterLock(engine.url.database)  # writers, in turn

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # pysqlite's own BEGIN breaks SAVEPOINT
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if writer is None or not writes_expected():
            connection.exec_driver_sql("BEGIN")
            return
        record = connection.connection._connection_record
        if not record.info.get("writer"):
            if not writer.acquire(timeout=timeout):
                raise DatabaseBusy()
            record.info["writer"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            _release(record)
            raise

    def _release(record) -> None:
        if record is not None and record.info.pop("writer", False):
            writer.release()

    # A write transaction ends when its connection goes back to the pool: the session hands
    # it back as soon as it commits or rolls back.
    @event.listens_for(engine.pool, "reset")
    def _on_reset(dbapi_connection, record, reset_state):
        _release(record)

    @event.listens_for(engine.pool, "checkin")
    @event.listens_for(engine.pool, "close")
    def _on_return(dbapi_connection, record):
        _release(record)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(dbapi_connection, record, exception):
        _release(record)


# ------------------------------------------------------------------ written in groups


@dataclass(eq=False)
class _Write:
    sql: str
    parameters: tuple | dict
    done: bool = False
    result: object = None
    error: BaseException | None = None


class WriteGroup:
    """One statement of each of many requests, written together: whoever finds the group free
    writes every statement that is waiting, in one transaction, and each request is answered
    once that transaction has committed (group commit). On SQLite that is one write turn and
    one `fdatasync` for all the comments that arrived while the last group was being written,
    instead of one each — the turn every writer of the host waits for (bench/README.md,
    comment submission). A request alone is written alone, at once: nothing waits for company.

    A statement that fails makes the group's transaction roll back; each of its statements is
    then written again alone, so only the one at fault gets its error. A busy or lost database
    (`is_busy`) fails the whole group: each of its requests gets its own `DatabaseBusy` (503)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiting: list[_Write] = []
        self._writing = False  # a request is writing a group
        self._changed = threading.Condition()

    def write(self, sql: str, parameters: tuple | dict):
        """Run `sql` (the driver's own, see `Prepared`) with `parameters` and commit; return the
        first column of its first row (None without one)."""
        write = _Write(sql, parameters)
        group = None
        with self._changed:
            self._waiting.append(write)
            while self._writing and not write.done:
                self._changed.wait()
            if not write.done:  # the group is free: write what waits, this one with it
                group, self._waiting, self._writing = self._waiting, [], True
        if group is not None:
            try:
                self._write(group)
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()
        if write.error is not None:
            raise write.error
        return write.result

    def _write(self, group: list[_Write]) -> None:
        try:
            with writing():
                try:
                    self._run(group)
                except Exception as error:
                    if len(group) == 1:
                        group[0].error = error
                    elif is_busy(error) and not _in_conflict(error):
                        for write in group:
                            write.error = DatabaseBusy()
                    else:
                        for write in group:  # again, alone: only the one at fault fails
                            try:
                                self._run([write])
                            except Exception as alone:  # noqa: BLE001 - that request's error
                                write.error = alone
        finally:
            for write in group:
                if not write.done and write.error is None:  # interrupted (BaseException)
                    write.error = DatabaseBusy()
                write.done = True

    def _run(self, group: list[_Write]) -> None:
        results = []
        with self.engine.begin() as connection:
            for write in group:
                results.append(connection.exec_driver_sql(write.sql, write.parameters).scalar())
        for write, result in zip(group, results, strict=True):
            write.result, write.done = result, True


def _in_conflict(error: BaseException) -> bool:
    """PostgreSQL broke a wait in a circle (deadlock) or a serialization conflict: each write
    of the group goes again alone, rather than all failing."""
    return str(getattr(getattr(error, "orig", None), "sqlstate", None) or "").startswith("40")


_GROUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def write_group(bind) -> WriteGroup | None:
    """The `WriteGroup` of the session's bind, an engine; None with `DB_WRITE_GROUPS` off, for
    SQLite in memory (one connection shared by every thread) or for a session bound to a
    connection of its own (the tests' rolled-back transaction)."""
    return _GROUPS.get(bind) if isinstance(bind, Engine) else None


def session_has_work(session: Session) -> bool:
    """Whether the session's transaction has a connection (on SQLite, in a write request: the
    write turn) or changes not flushed yet: then what is written next belongs with them, in the
    session's own transaction, not in a `WriteGroup`."""
    transaction = session.get_transaction()
    return bool(transaction is not None and transaction._connections  # noqa: SLF001
                or session.new or session.dirty or session.deleted)


_RELEASED = "consult.when_released"


def when_released(session: Session, work: Callable[[], None]) -> None:
    """Run `work` once the transaction the session has just committed has ended and let its
    connection go — on SQLite its write turn, which every other writer of the host waits for.
    For what follows a commit (call it from an `after_commit` listener): the page cache's
    stamps, the jobs and mail handed on."""
    session.info.setdefault(_RELEASED, []).append(work)


@event.listens_for(Session, "after_transaction_end")
def _released(session: Session, transaction) -> None:
    if transaction.parent is None:
        for work in session.info.pop(_RELEASED, ()):
            work()


def is_busy(error: BaseException) -> bool:
    """Whether a database error means "busy or unavailable, try again" rather than a bug."""
    if isinstance(error, DatabaseBusy | exc.TimeoutError):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.PendingRollbackError) and "reconnect" in str(error):
        # The connection was lost earlier in the request by a read whose error was handled
        # (e.g. the footer's saved settings fall back to the configuration's): the commit
        # cannot happen, and nothing was saved — a 503 like the loss itself.
        return True
    if isinstance(error, exc.OperationalError):
        if error.orig is not None and type(error.orig).__module__.startswith("sqlite3"):
            message = str(error.orig).lower()
            return any(word in message for word in
                       ("locked", "busy", "unable to open", "disk i/o"))
        return True  # PostgreSQL: connection lost, server shutting down, timeouts
    return False


def init_app(app: Flask) -> None:
    """Configure the app's engine (called by create_app once the engine exists)."""
    with app.app_context():
        configure_engine(db.engine, app.config)

    # Flask-SQLAlchemy ends every request with session.remove(), whose rollback raises when the
    # database went away during the request: after the response was chosen, so the client would
    # get the server's bare 500 instead of the 503 already made. The connection is invalidated
    # and the pool replaces it; the request's answer stands.
    app.teardown_appcontext_funcs.remove(db._teardown_session)

    @app.teardown_appcontext
    def _remove_session(error):
        try:
            db.session.remove()
        except Exception as exc:  # noqa: BLE001 - logged; nothing left to roll back
            app.logger.warning("closing the database session failed: %s",
                               str(exc).splitlines()[0][:300])


# ------------------------------------------------------------------ statements made ready


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for one database, whose parameters are made ready for the
    driver by the caller (`parameters`) — before a write transaction begins, where on SQLite
    every writer of the host waits while one holds the write lock — and then sent as the
    driver's own SQL (`Connection.exec_driver_sql`): each value goes through its column type's
    bind processing exactly as SQLAlchemy's execution of the statement would send it."""

    sql: str
    names: tuple[str, ...]  # in the driver's order, for a positional paramstyle
    processors: tuple  # (name, processor) for the values that need one
    positional: bool

    def parameters(self, values: dict):
        ready = {name: values[name] for name in self.names}
        for name, process in self.processors:
            ready[name] = process(ready[name])
        return tuple(ready[name] for name in self.names) if self.positional else ready


def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    """`statement` (with no expanding IN parameters) made ready for `dialect` (keep it:
    compiling is the cost this saves)."""
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or compiled.binds)
    processors = []
    for name in dict.fromkeys(names):
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((name, process))
    return Prepared(str(compiled), names, tuple(processors), bool(compiled.positional))
