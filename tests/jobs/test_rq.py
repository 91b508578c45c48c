"""RQ on a real Redis (a queue of the test's own): the RQ job carries only the row's id, the
worker runs it, mail goes out through one debounced delivery job, retries come back through the
sweep. And without Redis, or with Redis down: the database path, with a log line."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from consult import clock, mail
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs import transport
from consult.jobs.models import Job, JobStatus
from consult.jobs.worker import run_worker, sweep
from tests.jobs.conftest import free_port, wait_for

calls: list[int] = []


@pytest.fixture(autouse=True)
def handlers():
    calls.clear()

    def note(job, ctx):
        calls.append(job.id)
        if ctx.args.get("fail"):
            raise RuntimeError("not yet")
        return {"noted": job.id}

    jobs.HANDLERS["test_note"] = jobs.Handler("test_note", note, "note")
    yield
    jobs.HANDLERS.pop("test_note", None)


@pytest.fixture
def rq_app(standalone, redis_queue, smtp_server):
    url, name = redis_queue
    inbox, port = smtp_server
    app = standalone(REDIS_URL=url, JOBS_QUEUE=name, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                     MAIL_SUPPRESS_SEND=False)
    app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", port
    app.extensions["mail"].suppress = False
    transport.set_worker_app(app)
    app.inbox = inbox
    yield app
    transport.set_worker_app(None)


def _burst(app) -> None:
    from rq import SimpleWorker

    worker = SimpleWorker([transport.rq_queue(app)], connection=transport.redis_connection(app))
    worker.work(burst=True)


@pytest.mark.redis
def test_a_committed_job_is_handed_to_rq_with_only_its_id_and_the_worker_runs_it(rq_app):
    with rq_app.app_context():
        job_id = jobs.enqueue("test_note", {"secret": "不进 Redis"}).id
        queue = transport.rq_queue(rq_app)
        assert queue.count == 0  # not before the commit
        db.session.commit()
        [rq_job] = queue.get_jobs()
        assert rq_job.func_name == transport.RUN_JOB and rq_job.args == (job_id,)
        assert db.session.get(Job, job_id).dispatched_at is not None
    _burst(rq_app)
    assert calls == [job_id]
    with rq_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == JobStatus.DONE and job.result == {"noted": job_id}
    _burst(rq_app)  # RQ handing it over again would change nothing: it is done
    assert calls == [job_id]


@pytest.mark.redis
def test_mail_goes_out_through_one_debounced_delivery_job(rq_app):
    with rq_app.app_context():
        for n in range(3):
            with rq_app.test_request_context():
                mail.queue("receipt", f"c{n}@example.org", "意见回执", "您的意见已收到。")
            db.session.commit()
        assert transport.rq_queue(rq_app).count == 1
        stored = set(db.session.scalars(db.select(mail.OutboxMessage.message_id)))
    _burst(rq_app)
    assert set(rq_app.inbox.message_ids()) == stored and len(rq_app.inbox.messages) == 3
    with rq_app.app_context():
        assert mail.backlog() == 0
        with rq_app.test_request_context():
            mail.queue("receipt", "late@example.org", "意见回执", "您的意见已收到。")
        db.session.commit()
        assert transport.rq_queue(rq_app).count == 1  # the delivery job cleared its flag


@pytest.mark.redis
def test_a_retry_comes_back_to_rq_through_the_sweep_when_it_is_due(rq_app):
    with rq_app.app_context():
        job_id = jobs.enqueue("test_note", {"fail": True}).id
        db.session.commit()
    _burst(rq_app)
    with rq_app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == JobStatus.QUEUED and job.dispatched_at is None
        assert sweep(rq_app) == 0  # not due yet
        clock.freeze(job.next_attempt_at)
        assert sweep(rq_app) == 1 and sweep(rq_app) == 0  # handed on once
    _burst(rq_app)
    assert calls == [job_id, job_id]


@pytest.mark.redis
def test_the_worker_command_in_burst_mode_resumes_and_runs_everything(rq_app):
    with rq_app.app_context():
        job_id = jobs.enqueue("test_note").id
        db.session.commit()
        transport.rq_queue(rq_app).empty()  # RQ lost it (Redis restarted without its data)
        crashed = jobs.enqueue("test_note").id
        db.session.commit()
        transport.rq_queue(rq_app).empty()
        jobs.claim(crashed)  # ... and its worker died
        db.session.execute(db.update(Job).values(dispatched_at=None))
        db.session.commit()
    clock.freeze(clock.now() + timedelta(seconds=rq_app.config["JOB_LEASE_SECONDS"] + 1))
    run_worker(rq_app, burst=True)
    assert sorted(calls) == sorted([job_id, crashed])


def test_with_redis_down_a_job_runs_from_the_database_with_a_log_line(standalone, caplog):
    app = standalone(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", JOBS_BACKGROUND=True)
    with (caplog.at_level(logging.WARNING, logger="consult.jobs.transport"),
          app.test_request_context()):
        job_id = jobs.enqueue("test_note").id
        db.session.commit()
    assert "did not answer" in caplog.text and str(job_id) in caplog.text
    assert wait_for(app, lambda: db.session.get(Job, job_id).status == JobStatus.DONE)
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded" and health.get_json()["redis"] == "down"


@pytest.mark.redis
def test_healthz_says_ok_with_redis_and_counts_the_queue(rq_app):
    with rq_app.app_context():
        jobs.enqueue("test_note")
        db.session.commit()
    body = rq_app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and body["redis"] == "ok" and body["queued_jobs"] == 1
