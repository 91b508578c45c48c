"""`flask --app app worker`: runs jobs, delivers mail and ticks the schedule.

With `REDIS_URL` it is an RQ worker (`SimpleWorker`: jobs run in this process, beside the
schedule's thread) on the app's queue; every tick it also hands RQ the rows that RQ never got or
lost (Redis was down when they were queued; a worker died holding them). Without Redis — or while
Redis is down — it polls the jobs and outbox tables itself. Either way it resumes at start what
a dead process left: queued rows, and running rows whose lease has expired.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from datetime import timedelta

from flask import Flask

from consult import clock
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs import rq, schedule
from consult.jobs.dispatch import uses_redis, worker_name
from consult.jobs.models import Job, JobStatus
from consult.mail import deliver_due

log = logging.getLogger(__name__)

SWEEP_LIMIT = 500


class Ticker:
    """Runs the schedule's tick at most every JOBS_TICK_SECONDS (the first call ticks)."""

    def __init__(self, app: Flask):
        self.app = app
        self.last: float | None = None

    def maybe_tick(self) -> list[str]:
        moment = time.monotonic()
        if self.last is not None and moment - self.last < self.app.config["JOBS_TICK_SECONDS"]:
            return []
        self.last = moment
        return schedule.tick()


def work_until_idle(*, ticker: Ticker | None = None, stop: threading.Event | None = None,
                    ) -> tuple[int, int]:
    """Tick the schedule (if given a ticker), then run due jobs and deliver due mail until
    neither has anything left; (jobs run, mails sent). Needs an app context."""
    if ticker is not None:
        ticker.maybe_tick()
    ran = sent_total = 0
    while stop is None or not stop.is_set():
        job = jobs.run_one()
        sent, failed = deliver_due()
        ran += job is not None
        sent_total += sent
        if job is None and sent + failed == 0:
            break
    return ran, sent_total


def sweep(app: Flask) -> int:
    """Hand RQ the due rows it does not hold: queued rows never handed on (Redis was down, or
    a retry's time has come) or handed on long ago, and running rows whose lease expired."""
    now = clock.now()
    grace = now - timedelta(seconds=app.config["JOB_LEASE_SECONDS"])
    stale = db.or_(Job.dispatched_at.is_(None), Job.dispatched_at < grace)
    ids = db.session.scalars(
        db.select(Job.id).where(db.or_(
            db.and_(Job.status == JobStatus.QUEUED, Job.next_attempt_at <= now, stale),
            db.and_(Job.status == JobStatus.RUNNING, Job.lease_until < now, stale),
        )).order_by(Job.id).limit(SWEEP_LIMIT)
    ).all()
    db.session.commit()  # the UPDATE below starts a transaction of its own (SQLite)
    if not ids:
        return 0
    queue = rq.rq_queue(app)
    for job_id in ids:
        rq.enqueue_rq(app, queue, job_id)
    db.session.execute(db.update(Job).where(Job.id.in_(ids)).values(dispatched_at=now)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    log.info("handed %d waiting jobs to RQ", len(ids))
    return len(ids)


def run_worker(app: Flask, *, burst: bool = False) -> None:
    """The `worker` command: RQ when Redis answers, else polling the database."""
    rq.set_worker_app(app)
    # This process runs the work itself: no background thread beside it (it would be killed
    # mid-delivery when a --burst run ends).
    app.config["JOBS_BACKGROUND"] = False
    log.info("worker %s starting (%s)", worker_name(),
             "RQ on " + rq.safe_url(app) if uses_redis(app) else "database")
    if uses_redis(app):
        if rq.redis_status(app) == "ok":
            _run_rq(app, burst=burst)
            return
        log.warning("Redis at %s is down: running jobs from the database until it is back",
                    rq.safe_url(app))
    _run_polling(app, burst=burst)


def _run_polling(app: Flask, *, burst: bool) -> None:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())  # finish the job at hand, then stop
    ticker = Ticker(app)
    while not stop.is_set():
        with app.app_context():
            try:
                work_until_idle(ticker=ticker, stop=stop)
            except Exception:  # the database may be down: try again after the pause
                log.exception("worker: jobs failed")
                db.session.rollback()
            finally:
                db.session.remove()
        if burst:
            break
        if uses_redis(app) and rq.redis_status(app) == "ok":
            log.info("Redis is back: the worker goes on with RQ")
            _run_rq(app, burst=False)
            return
        stop.wait(app.config["JOBS_POLL_SECONDS"])
    log.info("worker %s stopped", worker_name())


def _resume(app: Flask) -> None:
    """At start: hand RQ what a dead worker left, and the mail that is due."""
    with app.app_context():
        try:
            sweep(app)
            if schedule.mail_due():
                rq.kick_outbox_rq(app)
        except Exception:  # the database may be down: the schedule's thread sweeps again
            log.exception("worker: resuming left-over work failed")
            db.session.rollback()
        finally:
            db.session.remove()


def _tick_loop(app: Flask, stop: threading.Event) -> None:
    """The schedule's thread beside the RQ worker. While Redis is down it runs jobs and mail
    from the database itself, so the queue keeps moving."""
    ticker = Ticker(app)
    while not stop.wait(min(app.config["JOBS_TICK_SECONDS"], app.config["JOBS_POLL_SECONDS"])):
        with app.app_context():
            try:
                if rq.redis_status(app) == "ok":
                    ticker.maybe_tick()
                    sweep(app)
                else:
                    log.warning("Redis is down: the worker runs jobs from the database")
                    work_until_idle(ticker=ticker, stop=stop)
            except Exception:
                log.exception("worker: schedule tick failed")
                db.session.rollback()
            finally:
                db.session.remove()


def _run_rq(app: Flask, *, burst: bool) -> None:
    from rq import SimpleWorker

    queue = rq.rq_queue(app)
    name = f"consult-{worker_name().replace(':', '-')}-{uuid.uuid4().hex[:6]}"
    worker = SimpleWorker([queue], connection=rq.redis_connection(app), name=name)
    _resume(app)
    if burst:
        with app.app_context():
            try:
                schedule.tick()
                sweep(app)
            finally:
                db.session.remove()
        worker.work(burst=True, logging_level="INFO")
        return
    stop = threading.Event()
    ticker = threading.Thread(target=_tick_loop, args=(app, stop), daemon=True, name="schedule")
    ticker.start()
    try:
        worker.work(logging_level="INFO")
    finally:
        stop.set()
        ticker.join(timeout=10)
    log.info("worker %s stopped", worker_name())
