"""Several workers at once, each on its own connection: every job runs once, every mail goes
out once (SKIP LOCKED on PostgreSQL, conditional UPDATEs on SQLite)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from consult import clock, mail
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import Job, JobStatus

WORKERS = 3
JOBS = 30


@pytest.fixture
def counted():
    runs: list[int] = []
    lock = threading.Lock()

    def count(job, ctx):
        with lock:
            runs.append(job.id)
        return {"worker": threading.current_thread().name}

    jobs.HANDLERS["test_count"] = jobs.Handler("test_count", count, "count")
    yield runs
    jobs.HANDLERS.pop("test_count", None)


def _in_threads(app, work) -> list[BaseException]:
    errors: list[BaseException] = []

    def run():
        with app.app_context():
            try:
                work()
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, name=f"worker-{n}") for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_three_workers_run_every_job_exactly_once(standalone, counted):
    app = standalone()
    with app.app_context():
        ids = [jobs.enqueue("test_count", {"n": n}).id for n in range(JOBS)]
        db.session.commit()
    errors = _in_threads(app, jobs.run_due)
    assert not errors, errors
    assert sorted(counted) == sorted(ids), "a job ran twice or not at all"
    with app.app_context():
        rows = db.session.scalars(db.select(Job)).all()
        assert {row.status for row in rows} == {JobStatus.DONE}
        assert {row.attempts for row in rows} == {1}


def test_three_senders_send_every_mail_exactly_once(standalone, smtp_server):
    inbox, port = smtp_server
    app = standalone(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", port
        app.extensions["mail"].suppress = False
        with app.test_request_context():
            for n in range(JOBS):
                mail.queue("receipt", f"citizen{n}@example.org", "意见回执", f"第{n}封")
        db.session.commit()
        stored = set(db.session.scalars(db.select(mail.OutboxMessage.message_id)))
    errors = _in_threads(app, mail.deliver_all)
    assert not errors, errors
    recipients = Counter(rcpt for rcpts, _message in inbox.messages for rcpt in rcpts)
    assert len(recipients) == JOBS and set(recipients.values()) == {1}
    assert set(inbox.message_ids()) == stored and len(stored) == JOBS
    with app.app_context():
        assert mail.backlog() == 0


def test_a_mail_whose_sender_died_goes_out_again_with_the_same_message_id(
        standalone, smtp_server):
    """At least once: the SMTP server took the mail, the sender died before marking it sent;
    once the claim expires it is sent again, recognisably the same mail."""
    inbox, port = smtp_server
    app = standalone(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", port
        app.extensions["mail"].suppress = False
        with app.test_request_context():
            message = mail.queue("receipt", "citizen@example.org", "意见回执", "您的意见已收到。")
        db.session.commit()
        [claimed] = mail.claim_due(10)
        mail._send(db.session.get(mail.OutboxMessage, claimed))  # ... and then it dies
        db.session.remove()
    with app.app_context():
        assert mail.deliver_due() == (0, 0)  # claimed by the dead sender, not yet expired
        clock.freeze(clock.now() + timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1))
        assert mail.deliver_due() == (1, 0)
        message = db.session.get(mail.OutboxMessage, claimed)
        assert message.sent_at is not None
        assert inbox.message_ids() == [message.message_id] * 2


def test_a_long_job_renews_its_lease_so_no_other_worker_takes_it(standalone):
    """A handler that reports no progress (a PDF layout, say) keeps its claim through the
    heartbeat: past the lease's length, another worker still finds nothing to take."""
    app = standalone(JOB_LEASE_SECONDS=1)
    release, started = threading.Event(), threading.Event()

    def long(job, ctx):
        started.set()
        release.wait(60)
        return {}

    jobs.HANDLERS["test_long"] = jobs.Handler("test_long", long, "long")
    try:
        with app.app_context():
            job_id = jobs.enqueue("test_long").id
            db.session.commit()
        runner = threading.Thread(target=lambda: _in_app(app, jobs.run_due))
        runner.start()
        assert started.wait(60)
        with app.app_context():
            first = db.session.get(Job, job_id).lease_until
            db.session.remove()
        leases = set()

        def renewed_twice():
            leases.add(db.session.get(Job, job_id).lease_until)
            return len(leases - {first}) >= 2

        from tests.jobs.conftest import wait_for

        assert wait_for(app, renewed_twice, 60)  # well past the first lease's end
        with app.app_context():
            assert jobs.claim() is None  # still held: nobody else runs it
            db.session.remove()
        release.set()
        runner.join(60)
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert job.status == JobStatus.DONE and job.attempts == 1
    finally:
        release.set()
        jobs.HANDLERS.pop("test_long", None)


def _in_app(app, work):
    with app.app_context():
        try:
            work()
        finally:
            db.session.remove()
