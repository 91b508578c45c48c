"""Handing committed jobs and mail to whoever runs them: RQ on Redis, or a thread of this process.

Enqueueing (`consult.jobs.queue.enqueue`, `consult.mail.queue`) notes what the transaction added
in the session; after the commit — never before, so a worker never looks for a row that is not
there yet, and a rolled-back change hands on nothing — it goes to:

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
import time

from flask import Flask, current_app, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SESSION_KEY = "consult_dispatch"
REDIS_DOWN_PAUSE = 10.0  # seconds without trying Redis again after it failed (per process)
OUTBOX_KICK_TTL = 60  # seconds a pending "deliver the outbox" RQ job suppresses another
RUN_JOB = "consult.jobs.transport.rq_run_job"
DELIVER_OUTBOX = "consult.jobs.transport.rq_deliver_outbox"

_worker_app: Flask | None = None  # the app of `flask --app app worker`, for RQ's job functions


# --- after the commit --------------------------------------------------------------------------


def dispatch_after_commit(*, job_id: int | None = None, outbox: bool = False) -> None:
    """Remember to hand a job (or the outbox) on when the current transaction commits."""
    from consult.extensions import db

    pending = db.session.info.setdefault(SESSION_KEY, {"jobs": [], "outbox": False})
    if job_id is not None and job_id not in pending["jobs"]:
        pending["jobs"].append(job_id)
    pending["outbox"] = pending["outbox"] or outbox


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(SESSION_KEY, None)
    if pending and has_app_context():
        dispatch(current_app._get_current_object(), pending["jobs"], outbox=pending["outbox"])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(SESSION_KEY, None)


def uses_redis(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def dispatch(app: Flask, job_ids: list[int], *, outbox: bool = False) -> None:
    """Hand committed jobs to RQ, or to this process's thread when there is no Redis."""
    if uses_redis(app) and not _redis_paused(app):
        try:
            queue = rq_queue(app)
            for job_id in job_ids:
                enqueue_rq(app, queue, job_id)
            if outbox:
                kick_outbox_rq(app, queue)
            return
        except Exception as error:  # redis.RedisError, or a socket error under it
            _pause_redis(app)
            log.warning("Redis at %s did not answer (%s): jobs %s and the outbox stay queued in "
                        "the database; this process runs them", _safe_url(app), error, job_ids)
    elif uses_redis(app):
        log.info("Redis paused after a failure: jobs %s run in this process", job_ids)
    background = runner(app)
    # Only a serving process runs a background thread: a CLI command would end (and kill it)
    # mid-job; what it queued waits for the app's thread or the worker, which poll the tables.
    if has_request_context() or background.started:
        background.kick()


# --- Redis and RQ ------------------------------------------------------------------------------


def redis_connection(app: Flask):
    """One client per app (a connection pool), with short timeouts: a dead Redis must cost a
    request milliseconds, not seconds."""
    import redis

    client = app.extensions.get("consult_redis")
    if client is None:
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=0.5,
                                      socket_timeout=5, health_check_interval=30)
        app.extensions["consult_redis"] = client
    return client


def rq_queue(app: Flask):
    from rq import Queue

    return Queue(app.config["JOBS_QUEUE"], connection=redis_connection(app),
                 default_timeout=app.config["JOB_TIMEOUT_SECONDS"])


def enqueue_rq(app: Flask, queue, job_id: int) -> None:
    # The job's outcome lives in the jobs table; RQ keeps nothing after a success.
    queue.enqueue(RUN_JOB, job_id, job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
                  result_ttl=0, failure_ttl=24 * 3600, description=f"consult job {job_id}")


def kick_outbox_rq(app: Flask, queue=None) -> bool:
    """One pending "deliver the outbox" job at a time: a crowd's thousand receipts make one."""
    queue = queue or rq_queue(app)
    key = f"{app.config['JOBS_QUEUE']}:outbox-kick"
    if not redis_connection(app).set(key, "1", nx=True, ex=OUTBOX_KICK_TTL):
        return False
    queue.enqueue(DELIVER_OUTBOX, job_timeout=app.config["JOB_TIMEOUT_SECONDS"], result_ttl=0,
                  failure_ttl=24 * 3600, description="consult outbox delivery")
    return True


def redis_status(app: Flask) -> str:
    """"ok", "down" or "not_configured" (for /healthz); always asks Redis itself."""
    if not uses_redis(app):
        return "not_configured"
    try:
        redis_connection(app).ping()
    except Exception:  # redis.RedisError, or a socket error under it
        return "down"
    return "ok"


def _redis_paused(app: Flask) -> bool:
    return app.extensions.get("consult_redis_down_until", 0.0) > time.monotonic()


def _pause_redis(app: Flask) -> None:
    app.extensions["consult_redis_down_until"] = time.monotonic() + REDIS_DOWN_PAUSE


def _safe_url(app: Flask) -> str:
    """REDIS_URL without a password, for the log."""
    from urllib.parse import urlsplit

    parts = urlsplit(app.config.get("REDIS_URL") or "")
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


def _app_for_rq() -> Flask:
    global _worker_app
    if _worker_app is None:  # a plain `rq worker` process: build the app from the environment
        from consult import create_app

        _worker_app = create_app()
    return _worker_app


def set_worker_app(app: Flask | None) -> None:
    global _worker_app
    _worker_app = app


def rq_run_job(job_id: int) -> None:
    """RQ's job function: run the job row `job_id` (if it is still due)."""
    from consult.extensions import db
    from consult.jobs.queue import run_one

    app = _app_for_rq()
    with app.app_context():
        try:
            run_one(job_id)
        finally:
            db.session.remove()


def rq_deliver_outbox() -> None:
    """RQ's job function: deliver every due mail."""
    from consult.extensions import db
    from consult.mail import deliver_all

    app = _app_for_rq()
    redis_connection(app).delete(f"{app.config['JOBS_QUEUE']}:outbox-kick")  # new mail: kick
    with app.app_context():
        try:
            deliver_all()
        finally:
            db.session.remove()


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
        from consult.jobs.worker import Ticker, work_until_idle

        # Without Redis no worker ticks the schedule: this thread does (with Redis, the
        # worker does; this thread only stands in while Redis is down).
        ticker = Ticker(self.app) if not uses_redis(self.app) else None
        while True:
            self.wake.wait(timeout=self.app.config["JOBS_POLL_SECONDS"])
            self.wake.clear()
            if self.stopping:
                return
            with self.app.app_context():
                from consult.extensions import db

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
