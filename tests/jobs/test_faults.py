"""Faults, on throwaway PostgreSQL and Redis servers (tests/jobs/throwaway.py), never the
suite's own services:

(a) the worker is killed (SIGKILL) while the SMTP server holds its mail's DATA unanswered, then
    started again: the mail goes out, with the Message-ID of the first attempt;
(b) Redis dies: comments and jobs are still accepted (no 500), the work runs from the database
    (the web process's thread, or the worker's polling) with a log line, /healthz says
    "degraded"; Redis comes back: "ok".
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import signal
import subprocess
import threading
import uuid

import pytest
from aiosmtpd.controller import Controller

from consult import create_app, mail
from consult.extensions import db
from consult.jobs.models import Job, JobStatus
from tests import factories
from tests.jobs.conftest import wait_for
from tests.jobs.test_worker_cli import FLASK, ROOT
from tests.jobs.throwaway import (
    SECOND_REDIS_PORT,
    SMTP_PORT,
    ThrowawayPostgres,
    ThrowawayRedis,
    port_is_free,
)

pytestmark = pytest.mark.fault


class StallingInbox:
    """An SMTP server that takes a message's DATA and, while `stall` is set, never answers."""

    def __init__(self):
        self.stall = True
        self.release = threading.Event()
        self.stalled: list = []
        self.accepted: list = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if self.stall:
            self.stalled.append(message)
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"
        self.accepted.append(message)
        return "250 OK"


class Worker:
    """`flask --app app worker` in a process group of its own, its output in a file."""

    def __init__(self, env: dict, log_path):
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child writes to it)
        self.process = subprocess.Popen(FLASK + ["worker"], cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.process = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _env(database_url: str, redis_url: str, queue: str, tmp_path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("REDIS_", "JOBS_", "MAIL_", "DIGEST_", "PURGE_", "REMINDER_",
                                  "OUTBOX_"))}
    env.update({
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "JOBS_QUEUE": queue,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(SMTP_PORT),
        "OUTBOX_LEASE_SECONDS": "2", "JOBS_TICK_SECONDS": "1", "JOBS_POLL_SECONDS": "1",
        "DIGEST_HOUR": "off", "PURGE_HOUR": "off", "REMINDER_HOUR": "off",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def services(tmp_path):
    """Throwaway PostgreSQL and Redis, and a stalling SMTP server, on this branch's ports."""
    if not port_is_free(SMTP_PORT):
        pytest.fail(f"port {SMTP_PORT} is taken")
    started = []
    try:
        postgres = ThrowawayPostgres()
        started.append(postgres)
        redis = ThrowawayRedis()
        started.append(redis)
        inbox = StallingInbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
        controller.start()
        yield postgres, redis, inbox
        inbox.release.set()
        controller.stop()
    finally:
        for service in reversed(started):
            service.close()


def test_a_worker_killed_mid_delivery_sends_the_mail_after_restart_with_its_message_id(
        services, tmp_path, real_session):
    postgres, redis, inbox = services
    queue = f"consult-fault-{uuid.uuid4().hex[:6]}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres.url,
                      "REDIS_URL": redis.url, "JOBS_QUEUE": queue})
    with app.app_context():
        db.create_all()
    worker = Worker(_env(postgres.url, redis.url, queue, tmp_path), tmp_path / "worker.log")
    worker.start()
    try:
        with app.app_context():
            with app.test_request_context():
                message = mail.queue("receipt", "citizen@example.org", "意见回执",
                                     "您的意见已收到。")
            db.session.commit()  # handed to RQ: the worker takes it
            message_id, stored_id = message.id, message.message_id
        assert wait_for(app, lambda: inbox.stalled, 60), worker.output()
        worker.kill()  # SIGKILL while the SMTP server holds the DATA unanswered
        with app.app_context():
            held = db.session.get(mail.OutboxMessage, message_id)
            assert held.sent_at is None and held.claimed_until is not None
        inbox.stall = False  # the mail server works again
        inbox.release.set()
        worker.start()
        assert wait_for(app, lambda: db.session.get(
            mail.OutboxMessage, message_id).sent_at is not None, 60), worker.output()
    finally:
        worker.kill(signal.SIGTERM)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert len(inbox.accepted) == 1
    assert inbox.stalled[0]["Message-ID"] == inbox.accepted[0]["Message-ID"] == stored_id


@pytest.fixture
def dying_redis():
    redis = ThrowawayRedis(SECOND_REDIS_PORT)
    yield redis
    redis.close()


def test_with_redis_down_submissions_and_jobs_fall_back_to_the_database(
        standalone, dying_redis, caplog, tmp_path):
    app = standalone(REDIS_URL=dying_redis.url, JOBS_QUEUE=f"consult-fault-{uuid.uuid4().hex}",
                     JOBS_BACKGROUND=True)
    client = app.test_client()
    assert client.get("/healthz").get_json()["redis"] == "ok"
    with app.app_context():
        consultation = factories.consultation("open")
        db.session.commit()
        url = f"/api/v1/consultations/{consultation.id}/comments"
    dying_redis.kill()
    with caplog.at_level(logging.WARNING):
        response = client.post(url, json={"body": "建议增加听证程序。", "category": "individual",
                                          "email": "citizen@example.org"})
        assert response.status_code == 201  # accepted and saved, not a 500
        health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded" and health.get_json()["redis"] == "down"
    assert "did not answer" in caplog.text
    # the web process's thread delivers the receipt from the database
    assert wait_for(app, lambda: mail.backlog() == 0)
    # a job queued meanwhile waits in the table for the worker, which polls it without Redis
    app.extensions["consult_runner"].stop()  # this web process goes away
    with app.app_context():
        job_id = _queued_digest()
    env = {key: value for key, value in os.environ.items() if not key.startswith("REDIS_")}
    env.update({"DATABASE_URL": app.database_url, "REDIS_URL": dying_redis.url,
                "DIGEST_HOUR": "off", "PURGE_HOUR": "off", "REMINDER_HOUR": "off",
                "UPLOAD_DIR": str(tmp_path / "uploads")})
    result = subprocess.run(FLASK + ["worker", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "is down: running jobs from the database" in result.stderr
    with app.app_context():
        assert db.session.get(Job, job_id).status == JobStatus.DONE
    dying_redis.start()  # Redis is back
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["redis"] == "ok"


def _queued_digest() -> int:
    from consult.jobs.queue import enqueue

    job_id = enqueue("staff_digest").id
    db.session.commit()
    return job_id
