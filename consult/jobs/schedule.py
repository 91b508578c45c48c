"""Scheduled work, run by a cron-style tick in the worker (or the web process's thread without
Redis): the staff daily digest, the public's e-mail alerts, the retention purge, reminders,
outbox retries, pruning done jobs, and tasks registered by the layers above (`register`).

Each task has a *period* (a local day; for outbox retries, a slice of JOBS_TICK_SECONDS) and
runs at most once per period, however many workers tick: a worker starts a task only if it moved
the task's `last_period` forward with one conditional UPDATE (`scheduled_tasks`), in the same
transaction as the job it queues. A worker that was down catches up at its next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from consult import clock
from consult.extensions import db
from consult.jobs.dispatch import dispatch_after_commit
from consult.jobs.models import Job, JobStatus, ScheduledTask
from consult.jobs.queue import enqueue
from consult.mail import due_messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    name: str
    period: Callable[[datetime], str | None]  # None: not due (yet) or switched off
    start: Callable[[], int | None]  # queue the work; the job's id, if it made one
    wanted: Callable[[], bool] = lambda: True  # a read-only look: is there anything to do?


def _daily(hour_setting: str) -> Callable[[datetime], str | None]:
    """The local date, once the configured local hour has come."""

    def period(now: datetime) -> str | None:
        hour = current_app.config.get(hour_setting)
        if hour is None:
            return None
        local = clock.local(now)
        return local.date().isoformat() if local.hour >= hour else None

    return period


def _slice(now: datetime) -> str:
    seconds = max(int(current_app.config["JOBS_TICK_SECONDS"]), 1)
    return f"{int(now.timestamp()) // seconds:015d}"  # fixed width: compares as text


every_tick = _slice  # a period of one tick (JOBS_TICK_SECONDS), for registered tasks


def _start_job(kind: str) -> Callable[[], int | None]:
    def start() -> int | None:
        return enqueue(kind, dedupe_key=kind).id

    return start


def mail_due() -> bool:
    return db.session.scalar(due_messages().limit(1)) is not None


def _retry_outbox() -> None:
    """Mail whose retry time has come (or whose sender died) needs a delivery run."""
    dispatch_after_commit(outbox=True)
    return None


DONE_JOBS_KEPT = timedelta(days=30)


def _prune_done_jobs() -> None:
    """Done jobs are kept a month (staff see what ran); failed ones until someone retries
    them."""
    db.session.execute(
        db.delete(Job)
        .where(Job.status == JobStatus.DONE, Job.finished_at < clock.now() - DONE_JOBS_KEPT)
        .execution_options(synchronize_session=False))
    return None


TASKS = (
    Task("outbox_retry", _slice, _retry_outbox, mail_due),
    Task("staff_digest", _daily("DIGEST_HOUR"), _start_job("staff_digest")),
    Task("feed_alerts", _daily("DIGEST_HOUR"), _start_job("feed_alerts")),  # consult/feeds
    Task("privacy_purge", _daily("PURGE_HOUR"), _start_job("privacy_purge")),
    # reminders and the platform office's weekly summary (consult/oversight/reminders.py)
    Task("reminders", _daily("REMINDER_HOUR"), _start_job("reminders")),
    Task("jobs_prune", _daily("PURGE_HOUR"), _prune_done_jobs),
)


# Tasks of the layers above, which this module may not import, added when they are imported:
# the search index's catch-up of comments still waiting for their rows (consult/search/indexer.py).
REGISTERED: list[Task] = []


def register(task: Task) -> None:
    """Run `task` on every tick as well (once per name)."""
    if all(known.name != task.name for known in (*TASKS, *REGISTERED)):
        REGISTERED.append(task)


def _claim_period(name: str, period: str, now: datetime) -> bool:
    """Move the task to `period` if no one has: True for the one worker that did. The UPDATE
    comes first, so that SQLite takes its write lock before anything is read."""
    moved = db.session.execute(
        db.update(ScheduledTask)
        .where(ScheduledTask.name == name, ScheduledTask.last_period < period)
        .values(last_period=period, last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1:
        return True
    if db.session.get(ScheduledTask, name) is not None:
        return False  # another worker has this period
    try:
        with db.session.begin_nested():  # the task's first run ever
            db.session.add(ScheduledTask(name=name, last_period=period, last_run_at=now))
            db.session.flush()
    except IntegrityError:
        return False  # another worker made the row first
    return True


def tick() -> list[str]:
    """Start every task whose period has come and that no worker started for it yet; the names
    started. Commits once per task."""
    started = []
    for task in (*TASKS, *REGISTERED):
        db.session.commit()  # each task in a transaction of its own
        now = clock.now()
        period = task.period(now)
        if period is None:
            continue
        try:
            wanted = task.wanted()
            db.session.commit()  # the claim below starts a transaction with its UPDATE
            if not wanted or not _claim_period(task.name, period, now):
                db.session.rollback()
                continue
            job_id = task.start()
            if job_id is not None:
                db.session.execute(
                    db.update(ScheduledTask).where(ScheduledTask.name == task.name)
                    .values(job_id=job_id).execution_options(synchronize_session=False))
            db.session.commit()
        except Exception:  # this task waits for the next tick; the others go on
            db.session.rollback()
            log.exception("scheduled task %s failed to start", task.name)
            continue
        started.append(task.name)
        if task.name not in ("outbox_retry", "jobs_prune", "search_index"):
            log.info("scheduled task %s started for %s", task.name, period)
    return started
