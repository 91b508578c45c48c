"""The job lifecycle: enqueue in the caller's transaction, claim, run, retry with back-off.

`enqueue` only writes a row (and remembers to hand it to a transport after the commit, see
`consult.jobs.transport`). Whoever runs jobs — an RQ worker given the row's id, the web
process's background thread or `flask --app app worker` polling the table — calls `run_one`,
which first claims the row: one UPDATE that moves it to `running` with a lease, taken only if
it is due (queued and its time has come, or running under an expired lease). On PostgreSQL the
row is picked with `FOR UPDATE SKIP LOCKED`; on SQLite the UPDATE's own condition decides, as
writers take turns. So several workers never run one attempt twice, and a dead worker's job
runs again once its lease expires.

A handler that raises a domain error (`consult.errors.ConsultError`: no longer allowed, the
report is already published, ...) fails at once with that message: trying again cannot help.
Any other exception is retried with back-off until `max_attempts`, then the job fails with
its error, for staff to see at /staff/jobs and retry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from consult import audit, clock
from consult.errors import Conflict, ConsultError
from consult.extensions import db
from consult.jobs.dispatch import dispatch_after_commit, uses_redis, worker_name
from consult.jobs.models import ACTIVE, Job, JobStatus

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
REFRESH_SECONDS = 3  # a page showing a job at work reloads itself (no JavaScript needed)
PROGRESS_EVERY = 0.5  # seconds between progress writes (the last one always goes out)


@dataclass(frozen=True)
class Handler:
    kind: str
    func: Callable
    label: object  # a lazy string, for staff pages


HANDLERS: dict[str, Handler] = {}


def handler(kind: str, label) -> Callable:
    """Register `func(job, ctx) -> dict | None` as the handler of jobs of `kind`."""

    def register(func: Callable) -> Callable:
        HANDLERS[kind] = Handler(kind, func, label)
        return func

    return register


def kind_label(kind: str) -> str:
    found = HANDLERS.get(kind)
    return str(found.label) if found else kind


# --- enqueueing --------------------------------------------------------------------------------


def active_job(dedupe_key: str) -> Job | None:
    return db.session.scalar(db.select(Job).where(Job.active_key == dedupe_key))


# After a failed build, a download waits this long before asking for another.
FAILED_PAUSE = timedelta(hours=1)


def request_build(kind: str, args: dict, *, dedupe_key: str, **options) -> Job | None:
    """The job building a file: the one queued or running under `dedupe_key`, else a new one —
    unless the last attempt failed within FAILED_PAUSE (None: staff have a failed job to look
    at). Used by every downloadable file the worker builds (report, policy)."""
    last = db.session.scalar(db.select(Job).where(Job.dedupe_key == dedupe_key)
                             .order_by(Job.id.desc()).limit(1))
    if last is not None and last.active:
        return last
    if (last is not None and last.status == JobStatus.FAILED and last.finished_at
            and last.finished_at > clock.now() - FAILED_PAUSE):
        return None
    return enqueue(kind, args, dedupe_key=dedupe_key, **options)


def enqueue(kind: str, args: dict | None = None, *, actor=None, unit_id: int | None = None,
            consultation=None, dedupe_key: str | None = None) -> Job:
    """Record a job in the current transaction; after the commit it is handed to the worker.
    With `dedupe_key`, a job with that key that is still queued or running is returned
    instead of a second one."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    if dedupe_key:
        existing = active_job(dedupe_key)
        if existing is not None:
            return existing
    now = clock.now()
    job = Job(
        kind=kind, args=args or {}, status=JobStatus.QUEUED, progress=0, attempts=0,
        max_attempts=current_app.config["JOB_MAX_ATTEMPTS"], next_attempt_at=now,
        dedupe_key=dedupe_key, active_key=dedupe_key,
        requested_by_id=getattr(actor, "id", None),
        unit_id=unit_id if unit_id is not None else getattr(consultation, "unit_id", None),
        consultation_id=getattr(consultation, "id", None), created_at=now,
        dispatched_at=now if uses_redis() else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(job)
            db.session.flush()
    except IntegrityError:  # another request queued the same work a moment ago
        existing = active_job(dedupe_key) if dedupe_key else None
        if existing is None:
            raise
        return existing
    dispatch_after_commit(job_id=job.id)
    return job


def retry_job(job: Job, *, actor) -> Job:
    """Queue a failed job again, with a fresh set of attempts."""
    if job.status != JobStatus.FAILED:
        raise Conflict(_("只有失败的任务可以重试。"), code="job_not_failed")
    if job.dedupe_key and active_job(job.dedupe_key) is not None:
        raise Conflict(_("同一任务已在排队或进行中。"), code="job_active")
    now = clock.now()
    audit.record(actor, "retry_job", job, unit_id=job.unit_id,
                 detail={"kind": job.kind, "error": (job.last_error or "")[:500]})
    job.status = JobStatus.QUEUED
    job.attempts = 0
    job.max_attempts = current_app.config["JOB_MAX_ATTEMPTS"]
    job.next_attempt_at = now
    job.progress, job.progress_text = 0, None
    job.finished_at = job.lease_until = job.worker = None
    job.active_key = job.dedupe_key
    job.dispatched_at = now if uses_redis() else None
    db.session.flush()
    dispatch_after_commit(job_id=job.id)
    return job


# --- claiming and running ----------------------------------------------------------------------


def _claimable(now):
    return or_(
        and_(Job.status == JobStatus.QUEUED, Job.next_attempt_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_until < now),
    )


def claim(job_id: int | None = None) -> int | None:
    """Take the next due job (or job `job_id`, if it is due) and commit the claim; its id, or
    None when there is nothing to do. The claim is one UPDATE at the start of its transaction,
    so SQLite takes its write lock at once (or waits its turn for it)."""
    now = clock.now()
    pick = db.select(Job.id).where(_claimable(now))
    if job_id is not None:
        pick = pick.where(Job.id == job_id)
    # Look before writing: an idle poll must not take SQLite's write lock (a request that
    # read and then writes cannot wait for it), and reading first costs nothing on PostgreSQL.
    found = db.session.scalar(pick.limit(1))
    db.session.commit()  # a fresh transaction for the claim: no read lock held into a write
    if found is None:
        return None
    # Materialized, so that PostgreSQL picks (and locks) once: an IN (subquery) may be run
    # again per row, each run skipping the rows locked by the one before.
    picked = (pick.order_by(Job.next_attempt_at, Job.id).limit(1)
              .with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED"))
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    claimed = db.session.execute(
        db.update(Job)
        .where(Job.id.in_(db.select(picked.c.id)), _claimable(now))
        .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, lease_until=now + lease,
                worker=worker_name(), started_at=now, progress=0, progress_text=None)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.commit()
    return claimed


class JobContext:
    """What a handler gets besides its job: who asked, and a way to report progress."""

    def __init__(self, job: Job):
        self.job_id = job.id
        self.args = dict(job.args or {})
        self.actor = job.requested_by
        self.writing = False
        self._last_write = 0.0

    def begin_writing(self) -> None:
        """Start the handler's writing transaction (committing what came before): its first
        statement is a write, so that SQLite takes its write lock now, waiting its turn,
        rather than refuse the first write after reads. Harmless on PostgreSQL."""
        db.session.commit()
        db.session.execute(db.update(Job).where(Job.id == self.job_id)
                           .values(lease_until=_lease_end())
                           .execution_options(synchronize_session=False))
        self.writing = True

    def progress(self, percent: float, text: str | None = None) -> None:
        """Report progress (0–100) and renew the lease. Written on a connection of its own, so
        staff see it while the handler's transaction is still open; throttled."""
        percent = max(0, min(100, int(percent)))
        moment = time.monotonic()
        if moment - self._last_write < PROGRESS_EVERY and percent < 100:
            return
        self._last_write = moment
        values = {"progress": percent, "lease_until": _lease_end()}
        if text is not None:
            values["progress_text"] = text[:200]
        side_update(self.job_id, values)

    def scaled(self, start: float, end: float) -> Callable[[float, str | None], None]:
        """A progress callback that maps 0.0–1.0 of a step onto start–end percent."""

        def report(fraction: float, text: str | None = None) -> None:
            self.progress(start + (end - start) * max(0.0, min(1.0, fraction)), text)

        return report


def _lease_end():
    return clock.now() + timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])


def side_update(job_id: int, values: dict, *, engine=None) -> None:
    """UPDATE one job row outside the session's transaction (progress, lease). Best effort: a
    busy database only delays the next report."""
    statement = db.update(Job).where(Job.id == job_id).values(**values)
    bind = engine if engine is not None else db.session.get_bind()
    if isinstance(bind, Connection):  # the session is pinned to one connection (tests)
        db.session.execute(statement.execution_options(synchronize_session=False))
        return
    try:
        with bind.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # never wait long behind the handler's own write transaction
                usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql("PRAGMA busy_timeout=200")
            try:
                connection.execute(statement)
                connection.commit()
            finally:
                if sqlite:  # the pooled connection goes back as it came
                    connection.rollback()
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(usual)}")
                    connection.commit()
    except SQLAlchemyError as error:
        log.debug("job %s: progress not written (%s)", job_id, error)


class _Heartbeat:
    """Renews a running job's lease from a thread while the handler works without reporting
    progress (a PDF layout, say), so that only a dead worker's lease runs out."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self):
        bind = db.session.get_bind()
        if isinstance(bind, Connection):  # pinned to one connection: nothing to share it with
            return self
        app = current_app._get_current_object()
        seconds = app.config["JOB_LEASE_SECONDS"]

        def beat():
            while not self.stop.wait(max(seconds / 3, 0.2)):
                with app.app_context():
                    end = clock.now() + timedelta(seconds=seconds)
                    side_update(self.job_id, {"lease_until": end}, engine=bind)

        self.thread = threading.Thread(target=beat, daemon=True, name=f"job-{self.job_id}")
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        return False


def run_one(job_id: int | None = None) -> Job | None:
    """Claim and run one due job (or job `job_id`); the job afterwards, or None if nothing
    was claimed. Commits.

    Every transaction here that writes starts with its write (SQLite answers "database is
    locked" at once, whatever the busy timeout, to a transaction that read first and then
    wants to write while another connection writes); handlers that write call
    `ctx.begin_writing()` first for the same reason."""
    claimed = claim(job_id)
    if claimed is None:
        return None
    job = db.session.get(Job, claimed)
    kind, attempts, max_attempts = job.kind, job.attempts, job.max_attempts
    found = HANDLERS.get(kind)
    log.info("job %s (%s) attempt %s/%s started", claimed, kind, attempts, max_attempts)
    context = JobContext(job)
    # The handler starts with no transaction open: on SQLite a read held through a long job
    # would keep every writer — this job's own heartbeat too — from committing.
    db.session.commit()
    try:
        if found is None:
            raise ConsultError(f"no handler for job kind {kind!r}", code="unknown_job")
        with _Heartbeat(claimed):
            result = found.func(job, context)
        if not context.writing:
            db.session.commit()  # a handler that only read: end its read transaction first
        db.session.execute(
            db.update(Job).where(Job.id == claimed)
            .values(status=JobStatus.DONE, progress=100, progress_text=None, result=result,
                    last_error=None, finished_at=clock.now(), lease_until=None,
                    active_key=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        log.info("job %s (%s) done", claimed, kind)
    except Exception as error:  # record it on the row; the worker goes on with the next job
        db.session.rollback()
        _record_failure(claimed, kind, attempts, max_attempts, error)
    return db.session.get(Job, claimed)


def retry_delay(attempts: int) -> timedelta:
    base = current_app.config["JOB_RETRY_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _record_failure(job_id: int, kind: str, attempts: int, max_attempts: int,
                    error: Exception) -> None:
    permanent = isinstance(error, ConsultError)
    if permanent:
        message = error.message or _("任务无法完成。")
        log.warning("job %s (%s) refused: %s", job_id, kind, message)
    else:
        message = f"{type(error).__name__}: {error}"
        log.error("job %s (%s) attempt %s failed", job_id, kind, attempts, exc_info=error)
    now = clock.now()
    values = {"last_error": message[:2000], "lease_until": None, "worker": None}
    if permanent or attempts >= max_attempts:
        values.update(status=JobStatus.FAILED, finished_at=now, active_key=None)
    else:  # due again later (the sweep hands it to RQ then)
        values.update(status=JobStatus.QUEUED, next_attempt_at=now + retry_delay(attempts),
                      dispatched_at=None)
    db.session.execute(db.update(Job).where(Job.id == job_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def run_due(limit: int | None = None) -> int:
    """Run due jobs one after another until none is left (or `limit` ran); how many ran."""
    ran = 0
    while limit is None or ran < limit:
        if run_one() is None:
            break
        ran += 1
    return ran


# --- what staff and health checks read ---------------------------------------------------------


def counts() -> dict[str, int]:
    """Jobs by status (for /healthz)."""
    rows = db.session.execute(
        db.select(Job.status, db.func.count(Job.id))
        .where(Job.status.in_([*ACTIVE, JobStatus.FAILED])).group_by(Job.status)
    ).all()
    found = {str(status): n for status, n in rows}
    return {status.value: found.get(status.value, 0)
            for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)}


def latest_job(consultation, kind: str) -> Job | None:
    """The newest job of `kind` about `consultation`."""
    return db.session.scalar(
        db.select(Job).where(Job.consultation_id == consultation.id, Job.kind == kind)
        .order_by(Job.id.desc()).limit(1)
    )
