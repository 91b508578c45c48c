"""`flask --app app worker` as a process of its own: a comment's receipt, queued by the web app,
goes out through the worker — polling the database without Redis, through RQ with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from consult.extensions import db
from consult.jobs.models import Job, JobStatus
from consult.mail import OutboxMessage
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def worker_env(app, tmp_path, **extra) -> dict:
    """The environment of a worker process serving `app`'s database and mail server."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("REDIS_", "JOBS_", "MAIL_", "DIGEST_", "PURGE_", "REMINDER_"))}
    env.update({
        "DATABASE_URL": app.database_url, "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(app.config["MAIL_PORT"]), "UPLOAD_DIR": str(tmp_path / "uploads"),
        "DIGEST_HOUR": "off", "PURGE_HOUR": "off", "REMINDER_HOUR": "off", "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def submit_comment(app) -> str:
    """Submit a comment with an e-mail address through the API; the receipt's Message-ID."""
    with app.app_context():
        consultation = factories.consultation("open")
        db.session.commit()
        url = f"/api/v1/consultations/{consultation.id}/comments"
    response = app.test_client().post(url, json={
        "body": "建议第三条增加听证程序。", "category": "individual",
        "email": "citizen@example.org"})
    assert response.status_code == 201
    with app.app_context():
        message = db.session.scalar(db.select(OutboxMessage))
        assert message.sent_at is None  # the web process sent nothing itself
        return message.message_id


def _run(args, env, timeout=60) -> subprocess.CompletedProcess:
    result = subprocess.run(FLASK + args, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_the_worker_sends_a_comments_receipt_from_the_database(standalone, smtp_server,
                                                               tmp_path):
    inbox, port = smtp_server
    app = standalone(MAIL_PORT=port)
    message_id = submit_comment(app)
    result = _run(["worker", "--burst"], worker_env(app, tmp_path))
    assert "database" in result.stderr, result.stderr  # no Redis: it polled the tables
    [(recipients, received)] = inbox.messages
    assert recipients == ["citizen@example.org"]
    assert received["Message-ID"] == message_id and "意见" in received["Subject"]
    with app.app_context():
        assert db.session.scalar(db.select(OutboxMessage.sent_at)) is not None


@pytest.mark.redis
def test_the_worker_sends_a_comments_receipt_through_rq(standalone, smtp_server, redis_queue,
                                                        tmp_path):
    inbox, port = smtp_server
    url, name = redis_queue
    app = standalone(MAIL_PORT=port, REDIS_URL=url, JOBS_QUEUE=name)
    message_id = submit_comment(app)
    from consult.jobs import transport

    assert transport.rq_queue(app).count == 1  # handed to RQ at the commit
    result = _run(["worker", "--burst"], worker_env(app, tmp_path, REDIS_URL=url,
                                                     JOBS_QUEUE=name))
    assert "RQ on" in result.stderr
    assert inbox.message_ids() == [message_id]


def test_the_worker_runs_queued_jobs_and_records_failures(standalone, smtp_server, tmp_path):
    _inbox, port = smtp_server
    app = standalone(MAIL_PORT=port)
    with app.app_context():
        consultation = factories.consultation("closed")
        editor = factories.user("editor", consultation.unit)
        letter = "我们坚决反对在小区内增设收费停车位，建议保留现有的免费停车位。"
        for n in range(2):
            factories.comment(consultation, body=letter + "！" * n)
        from consult.answers.jobs import queue_suggestions

        queue_suggestions(consultation, actor=editor)
        refused = queue_suggestions(factories.consultation("closed"), actor=editor)  # not theirs
        db.session.commit()
        refused_id = refused.id
    _run(["worker", "--burst"], worker_env(app, tmp_path))
    with app.app_context():
        done, failed = db.session.scalars(db.select(Job).order_by(Job.id)).all()
        assert done.status == JobStatus.DONE and done.result["groups"] == 1
        assert failed.id == refused_id and failed.status == JobStatus.FAILED
        assert "已无权" in failed.last_error
