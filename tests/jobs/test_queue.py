"""The job lifecycle on the suite's database: recorded with the change, claimed once, retried
with back-off, failed with its error, resumed after a crash, retried by staff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult import clock
from consult.audit import AuditEvent
from consult.errors import Conflict, NotAllowed
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import Job, JobStatus
from consult.jobs.transport import SESSION_KEY

calls: list[tuple] = []


@pytest.fixture(autouse=True)
def handlers():
    """Handlers of this module's own kinds (removed afterwards)."""
    calls.clear()

    def echo(job, ctx):
        calls.append(("echo", job.id, ctx.args))
        ctx.progress(50, "一半")
        return {"echo": ctx.args.get("value")}

    def flaky(job, ctx):
        calls.append(("flaky", job.id, job.attempts))
        if job.attempts < ctx.args.get("succeed_at", 99):
            raise ConnectionError("mail server went away")
        return {"ok": True}

    def refused(job, ctx):
        calls.append(("refused", job.id))
        raise NotAllowed("提出该任务的人员已无权进行此操作。")

    for kind, func in (("test_echo", echo), ("test_flaky", flaky), ("test_refused", refused)):
        jobs.HANDLERS[kind] = jobs.Handler(kind, func, kind)
    yield
    for kind in ("test_echo", "test_flaky", "test_refused"):
        jobs.HANDLERS.pop(kind, None)


def _all(kind=None) -> list[Job]:
    query = db.select(Job).order_by(Job.id)
    if kind:
        query = query.where(Job.kind == kind)
    return db.session.scalars(query).all()


def test_a_job_is_recorded_in_the_callers_transaction_and_handed_on_after_commit(session):
    job = jobs.enqueue("test_echo", {"value": 7})
    assert job.id and job.status == JobStatus.QUEUED and job.attempts == 0
    assert session.info[SESSION_KEY]["jobs"] == [job.id]  # handed on only after the commit
    session.commit()
    assert SESSION_KEY not in session.info
    assert jobs.run_one().status == JobStatus.DONE
    assert calls == [("echo", job.id, {"value": 7})]
    assert job.result == {"echo": 7} and job.progress == 100 and job.finished_at is not None


def test_a_rolled_back_change_leaves_no_job_and_hands_nothing_on(session):
    with session.begin_nested():
        jobs.enqueue("test_echo")
    session.rollback()
    assert _all() == [] and SESSION_KEY not in session.info
    assert jobs.run_one() is None and calls == []


def test_a_job_queued_in_a_released_savepoint_waits_for_the_outer_commit(session, monkeypatch):
    """Releasing a savepoint commits nothing: the job is handed on once the whole transaction
    has committed (and let its connection go), and not at all when it rolls back after."""
    from consult.jobs import dispatch

    handed: list[list[int]] = []
    monkeypatch.setattr(dispatch, "_handoff", [lambda app, ids, outbox=False: handed.append(ids)])
    with session.begin_nested():
        job = jobs.enqueue("test_echo")
    assert handed == [] and session.info[SESSION_KEY]["jobs"] == [job.id]
    session.commit()
    assert handed == [[job.id]]
    with session.begin_nested():
        jobs.enqueue("test_echo")
    session.rollback()
    assert handed == [[job.id]]


def test_an_unknown_kind_is_refused_at_enqueue():
    with pytest.raises(ValueError):
        jobs.enqueue("no_such_kind")


def test_the_same_work_is_queued_once_while_it_is_active(session):
    first = jobs.enqueue("test_echo", dedupe_key="echo:1")
    assert jobs.enqueue("test_echo", dedupe_key="echo:1") is first
    other = jobs.enqueue("test_echo", dedupe_key="echo:2")
    assert other is not first
    jobs.run_due()
    again = jobs.enqueue("test_echo", dedupe_key="echo:1")  # the first one is done
    assert again.id not in (first.id, other.id) and len(_all()) == 3


def test_a_claim_takes_exactly_one_due_job(session):
    queued = [jobs.enqueue("test_echo", {"n": n}) for n in range(4)]
    session.commit()
    claimed = jobs.claim()
    assert claimed == queued[0].id
    statuses = [job.status for job in _all()]
    assert statuses == [JobStatus.RUNNING] + [JobStatus.QUEUED] * 3
    assert db.session.get(Job, claimed).worker == jobs.worker_name()
    assert jobs.claim(queued[0].id) is None  # running under a live lease: nobody else


def test_a_job_left_running_by_a_dead_worker_runs_again_when_its_lease_expires(session, app):
    job = jobs.enqueue("test_echo")
    assert jobs.claim() == job.id  # ... and the worker dies here
    assert jobs.run_one() is None
    clock.freeze(clock.now() + timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1))
    assert jobs.run_one().id == job.id
    assert job.status == JobStatus.DONE and job.attempts == 2  # the crash counted


def test_a_failing_job_is_retried_with_back_off_then_fails_with_its_error(session, app):
    app.config["JOB_MAX_ATTEMPTS"] = 3
    try:
        job = jobs.enqueue("test_flaky")
    finally:
        app.config["JOB_MAX_ATTEMPTS"] = 5
    start = clock.now()
    clock.freeze(start)
    jobs.run_one()
    assert job.status == JobStatus.QUEUED and job.attempts == 1
    assert job.last_error == "ConnectionError: mail server went away"
    assert job.next_attempt_at == start + timedelta(seconds=app.config["JOB_RETRY_SECONDS"])
    assert job.active_key is None  # no dedupe key given
    assert jobs.run_one() is None  # not due before its time
    clock.freeze(job.next_attempt_at)
    jobs.run_one()
    assert job.attempts == 2
    assert job.next_attempt_at == clock.now() + timedelta(
        seconds=2 * app.config["JOB_RETRY_SECONDS"])  # doubled
    clock.freeze(job.next_attempt_at)
    jobs.run_one()
    assert job.status == JobStatus.FAILED and job.attempts == 3
    assert job.finished_at is not None and "went away" in job.last_error
    clock.freeze(clock.now() + timedelta(days=1))
    assert jobs.run_one() is None  # failed for good
    assert [call[0] for call in calls] == ["flaky"] * 3


def test_a_job_that_succeeds_on_a_retry_is_done_and_forgets_the_error(session):
    job = jobs.enqueue("test_flaky", {"succeed_at": 2})
    jobs.run_one()
    clock.freeze(job.next_attempt_at)
    jobs.run_one()
    assert job.status == JobStatus.DONE and job.last_error is None and job.result == {"ok": True}


def test_the_back_off_is_capped_at_an_hour(app):
    assert jobs.retry_delay(1) == timedelta(seconds=app.config["JOB_RETRY_SECONDS"])
    assert jobs.retry_delay(30) == timedelta(hours=1)


def test_a_refusal_fails_at_once_without_retrying(session):
    job = jobs.enqueue("test_refused", dedupe_key="refused")
    jobs.run_one()
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert job.last_error == "提出该任务的人员已无权进行此操作。"
    assert job.active_key is None  # the same work may be asked for again
    clock.freeze(clock.now() + timedelta(days=1))
    assert jobs.run_one() is None and len(calls) == 1


def test_staff_retry_a_failed_job_with_fresh_attempts_and_an_audit_row(session, make):
    user = make.user("editor")
    job = jobs.enqueue("test_refused", dedupe_key="refused")
    jobs.run_one()
    jobs.retry_job(job, actor=user)
    assert job.status == JobStatus.QUEUED and job.attempts == 0 and job.finished_at is None
    assert job.active_key == "refused"
    event = session.scalar(db.select(AuditEvent).where(AuditEvent.action == "retry_job"))
    assert event.actor_id == user.id and event.object_id == job.id
    assert event.detail["error"].startswith("提出该任务的人员")
    with pytest.raises(Conflict):  # only failed jobs
        jobs.retry_job(job, actor=user)


def test_a_retry_is_refused_while_the_same_work_is_queued_again(session, make):
    user = make.user("editor")
    job = jobs.enqueue("test_refused", dedupe_key="refused")
    jobs.run_one()
    jobs.enqueue("test_refused", dedupe_key="refused")
    with pytest.raises(Conflict):
        jobs.retry_job(job, actor=user)


def test_progress_is_written_to_the_job_row(session):
    job = jobs.enqueue("test_echo")
    session.commit()
    claimed = jobs.claim()
    context = jobs.JobContext(db.session.get(Job, claimed))
    context.progress(42, "比对相近意见")
    session.expire_all()
    job = db.session.get(Job, claimed)
    assert (job.progress, job.progress_text) == (42, "比对相近意见")
    context.scaled(50, 100)(0.5, None)  # throttled: the next report comes later
    context.progress(100)
    session.expire_all()
    assert db.session.get(Job, claimed).progress == 100


def test_counts_by_status_for_the_health_check(session):
    jobs.enqueue("test_echo")
    jobs.enqueue("test_refused")
    jobs.run_one()
    jobs.run_one()
    jobs.enqueue("test_echo")
    assert jobs.counts() == {"queued": 1, "running": 0, "failed": 1}
