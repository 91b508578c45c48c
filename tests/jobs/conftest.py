"""Fixtures for the job tests: apps on databases of their own (for work that runs on other
connections, threads or processes), a real SMTP server, and Redis with a queue of its own."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import time
import uuid

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from consult import create_app
from consult.extensions import db
from tests.conftest import IN_CI

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(app, check, seconds: float = 20) -> bool:
    """Poll the database (on a connection of this thread) until `check()` is true; False when
    it never became true within `seconds` (a generous bound, not a measurement)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            try:
                if check():
                    return True
            finally:
                db.session.remove()
        time.sleep(0.05)
    return False


class Inbox:
    """What a real SMTP server received: (recipients, parsed message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(
            envelope.content, policy=email.policy.default)))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for _rcpt, message in self.messages]


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free port: (inbox, port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _database_urls(tmp_path) -> tuple[str, callable]:
    """A URL for a database of its own, and how to drop it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp_path / f'jobs-{uuid.uuid4().hex[:6]}.db'}", lambda: None
    base = url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"consult_jobs_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.rsplit("/", 1)[0] + "/" + name, drop


@pytest.fixture
def standalone(tmp_path, real_session):
    """`standalone(**config)`: an app on a fresh database of its own (a SQLite file, or a new
    PostgreSQL database when the suite runs on PostgreSQL), schema created. Data committed
    there is seen by other connections, threads and processes."""
    made = []

    def make(**config):
        url, drop = _database_urls(tmp_path)
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "WTF_CSRF_ENABLED": False, **config})
        with app.app_context():
            db.create_all()
        made.append((app, drop))
        app.database_url = url
        return app

    yield make
    for app, drop in made:
        runner = app.extensions.get("consult_runner")
        if runner is not None:
            runner.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


@pytest.fixture
def redis_queue():
    """(REDIS_URL, a queue name of this test's own) on the suite's Redis; its keys go after."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail(f"Redis is not answering at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"consult-test-{uuid.uuid4().hex[:10]}"
    yield REDIS_URL, name
    from rq import Queue

    Queue(name, connection=connection).delete(delete_jobs=True)
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)
    connection.close()
