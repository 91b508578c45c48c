"""The search index rows of citizens' new comments, written after the commit, in batches.

A comment published at once by a citizen's POST is saved with no index row, on the list of
comments waiting for theirs (consult/comments/services.py `_insert`, consult/comments/models.py
`UnindexedComment`, consult/search/indexing.py): its row — the masked
text, its tokens, a 27-column INSERT and on SQLite the full-text index's trigger — was a tenth
of the POST, inside the write lock (bench/README.md, comment submission). After the commit
this process's indexer is woken:

- its daemon thread, started by the first wake, waits `SEARCH_INDEX_DELAY` seconds (1.0 by
  default) to gather the comments that come meanwhile, then writes the rows of every comment
  waiting (`index_pending_comments`, a batch per transaction) until none is left. A comment
  is found by search that long after its POST (plus the batch's time); until then it is simply
  not found;
- with `SEARCH_INDEX_DELAY = 0` (the tests) the rows are written right after the commit, by
  the thread that committed.

Nothing is lost when a process dies first: the list is in the database. The schedule's
tick (consult/jobs/schedule.py) queues the job `search_index` when a comment has waited
longer than it should, and `flask --app app search reindex` rebuilds the index and empties the
list. An indexer that fails logs it and tries again later (the next wake, or RETRY_SECONDS);
it never fails the request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta

from flask import Flask, current_app, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from consult import clock, database
from consult.extensions import db
from consult.jobs import schedule
from consult.jobs.queue import enqueue, handler
from consult.search.indexing import (
    PENDING_BATCH,
    PENDING_KEY,
    comments_waiting,
    index_pending_comments,
)

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0  # after a failure, the thread tries again this soon (or at the next wake)
# A comment still waiting this long after SEARCH_INDEX_DELAY was missed by its indexer (the
# process died, or its database was down): the schedule's tick catches it up.
OVERDUE = timedelta(seconds=60)



def index_waiting(bind=None, among: Iterable[int] | None = None) -> int:
    """Write the rows of every comment waiting (of the ids `among`, if given), a batch per
    transaction; how many."""
    if among is not None:
        among = sorted(among)
        return sum(index_pending_comments(PENDING_BATCH, bind=bind,
                                          among=among[start:start + PENDING_BATCH])
                   for start in range(0, len(among), PENDING_BATCH))
    total = 0
    while True:
        taken = index_pending_comments(PENDING_BATCH, bind=bind)
        total += taken
        if taken < PENDING_BATCH:
            return total


def _index_quietly(bind=None, among: Iterable[int] | None = None) -> bool:
    try:
        index_waiting(bind, among)
    except Exception:  # the database may be busy or down: the rows are written later
        log.exception("search index: rows of new comments not written (tried again later)")
        return False
    return True


# ------------------------------------------------------------------ after the commit


def _after_commit(session: Session) -> None:
    """Wake the indexer once the transaction that wrote waiting comments has committed and
    let its connection go (SQLite: its write lock)."""
    # A SAVEPOINT released is no commit (SQLAlchemy reports both): only the transaction's own.
    if session.in_nested_transaction() or not (ids := session.info.pop(PENDING_KEY, None)):
        return
    if has_app_context():
        app, bind = current_app._get_current_object(), session.get_bind()
        database.when_released(session, lambda: wake(app, ids, bind=bind))


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)  # rolled back: those comments are gone


def wake(app: Flask, ids: Iterable[int] = (), *, bind=None) -> None:
    """Comments wait for their rows: write them now (SEARCH_INDEX_DELAY 0, or a command that
    ends before a thread would run: every comment waiting) or let this process's thread write
    them soon (`ids`: the comments this process made)."""
    background = indexer(app)
    if app.config["SEARCH_INDEX_DELAY"] > 0 and (has_request_context() or background.started):
        background.wake(ids)
    else:
        _index_quietly(bind)


def install() -> None:
    """Wake the indexer after commits (called once by `create_app`)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


# ------------------------------------------------------------------ the thread


def indexer(app: Flask) -> Indexer:
    found = app.extensions.get("consult_search_indexer")
    if found is None:
        found = app.extensions["consult_search_indexer"] = Indexer(app)
    return found


class Indexer:
    """One daemon thread per process, started by the first wake. It writes the rows of the
    comments this process made (`own`): with several processes (gunicorn's workers, several
    hosts) each builds the rows of its own comments only — the masked text and the tokens
    are most of the work — instead of each building every comment waiting and finding the
    others had claimed them first. A process that dies leaves its comments waiting: the
    schedule's tick catches them up (`_catch_up`, every comment waiting)."""

    def __init__(self, app: Flask):
        self.app = app
        self.woken = threading.Event()
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.own: set[int] = set()

    @property
    def started(self) -> bool:
        return self.thread is not None

    def wake(self, ids: Iterable[int] = ()) -> None:
        if self.stopped.is_set():
            return
        with self.lock:
            self.own.update(ids)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, daemon=True,
                                               name="search-index")
                self.thread.start()
        self.woken.set()

    def _run(self) -> None:
        failed = False
        while True:
            self.woken.wait(RETRY_SECONDS if failed else None)
            # Gather: the comments of the next moment go in the same batch.
            if self.stopped.wait(self.app.config["SEARCH_INDEX_DELAY"]):
                return
            self.woken.clear()
            with self.lock:
                ids, self.own = self.own, set()
            with self.app.app_context():
                try:
                    failed = not _index_quietly(among=ids)
                finally:
                    db.session.remove()
            if failed:  # tried again after RETRY_SECONDS (or at the next wake)
                with self.lock:
                    self.own.update(ids)

    def stop(self, timeout: float = 10) -> None:
        """End the thread (tests; a process that exits): waiting comments stay listed."""
        self.stopped.set()
        self.woken.set()
        if self.thread is not None:
            self.thread.join(timeout)


# ------------------------------------------------------------------ catching up


@handler("search_index", _l("补建搜索索引"))
def _catch_up(job, ctx) -> dict:
    return {"comments": index_waiting()}


def _overdue() -> bool:
    delay = timedelta(seconds=current_app.config["SEARCH_INDEX_DELAY"])
    return comments_waiting(clock.now() - delay - OVERDUE)


schedule.register(schedule.Task(
    "search_index", schedule.every_tick,
    lambda: enqueue("search_index", dedupe_key="search_index").id, _overdue))
