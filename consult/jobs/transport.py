"""Handing committed jobs and mail to whoever runs them: RQ on Redis, or a thread of this process.

Enqueueing (`consult.jobs.queue.enqueue`, `consult.mail.queue`) notes what the transaction added
in the session (`consult.jobs.dispatch`); after the commit — never before, so a worker never looks
for a row that is not there yet, and a rolled-back change hands on nothing — it goes to:

- **RQ** when `REDIS_URL` is set: an RQ job that carries only the row's id (the row is the
  record; RQ is the doorbell). Mail is one debounced "deliver the outbox" job.
- the **background thread** of this process (`Runner`) otherwise, or when Redis does not
  answer: the rows are in the database already, so nothing is lost — the failure is logged and
  the thread runs them from the table. `flask --app app worker` hands them to RQ again once
  Redis is back (`sweep`).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, has_request_context

from consult.extensions import db
from consult.jobs.dispatch import SESSION_KEY, dispatch_after_commit, on_commit, uses_redis
from consult.jobs.rq import (
    DELIVER_OUTBOX,
    RUN_JOB,
    enqueue_rq,
    kick_outbox_rq,
    pause_redis,
    redis_connection,
    redis_paused,
    redis_status,
    rq_queue,
    safe_url,
    set_worker_app,
)
from consult.jobs.worker import Ticker, work_until_idle

# Names the tests and the worker have always found here.
__all__ = ["DELIVER_OUTBOX", "RUN_JOB", "SESSION_KEY", "Runner", "dispatch",
           "dispatch_after_commit", "init_app", "redis_connection", "redis_status", "rq_queue",
           "runner", "set_worker_app", "uses_redis"]

log = logging.getLogger(__name__)


def dispatch(app: Flask, job_ids: list[int], *, outbox: bool = False) -> None:
    """Hand committed jobs to RQ, or to this process's thread when there is no Redis."""
    if uses_redis(app) and not redis_paused(app):
        try:
            queue = rq_queue(app)
            for job_id in job_ids:
                enqueue_rq(app, queue, job_id)
            if outbox:
                kick_outbox_rq(app, queue)
            return
        except Exception as error:  # redis.RedisError, or a socket error under it
            pause_redis(app)
            log.warning("Redis at %s did not answer (%s): jobs %s and the outbox stay queued in "
                        "the database; this process runs them", safe_url(app), error, job_ids)
    elif uses_redis(app):
        log.info("Redis paused after a failure: jobs %s run in this process", job_ids)
    background = runner(app)
    # Only a serving process runs a background thread: a CLI command would end (and kill it)
    # mid-job; what it queued waits for the app's thread or the worker, which poll the tables.
    if has_request_context() or background.started:
        background.kick()


# The hand-off of every committed transaction that queued something.
on_commit(dispatch)


# --- the in-process runner ---------------------------------------------------------------------


def runner(app: Flask) -> Runner:
    found = app.extensions.get("consult_runner")
    if found is None:
        found = app.extensions["consult_runner"] = Runner(app)
    return found


class Runner:
    """One background thread per process that runs queued jobs and delivers mail from the
    database: the embedded default without Redis, and the fallback when Redis is down. It
    wakes when kicked (after a commit that queued something) and every JOBS_POLL_SECONDS (for
    retries that have come due, and rows a dead process left behind)."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.stopping = False

    @property
    def started(self) -> bool:
        return self.thread is not None

    @property
    def enabled(self) -> bool:
        return bool(self.app.config.get("JOBS_BACKGROUND"))

    def kick(self) -> None:
        if not self.enabled or self.stopping:
            return
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, daemon=True, name="jobs")
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        # Without Redis no worker ticks the schedule: this thread does (with Redis, the
        # worker does; this thread only stands in while Redis is down).
        ticker = Ticker(self.app) if not uses_redis(self.app) else None
        while True:
            self.wake.wait(timeout=self.app.config["JOBS_POLL_SECONDS"])
            self.wake.clear()
            if self.stopping:
                return
            with self.app.app_context():
                try:
                    work_until_idle(ticker=ticker)
                except Exception:  # the database may be down; try again on the next wake
                    log.exception("background jobs failed")
                    db.session.rollback()
                finally:
                    db.session.remove()

    def stop(self, timeout: float = 10) -> None:
        """Let the thread finish the job at hand and end (tests; a process that exits)."""
        self.stopping = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)


def init_app(app: Flask) -> None:
    """Start the runner with the first request, so that jobs and mail a dead process left
    queued resume when the app starts again (without Redis; with it, the worker resumes)."""
    started = threading.Event()

    @app.before_request
    def _start_runner():
        if not started.is_set():
            started.set()
            if not uses_redis(app):
                runner(app).kick()
