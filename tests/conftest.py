"""Fixtures shared by every test: one schema per run, each test in a rolled-back transaction.

The same suite runs on SQLite (default) and on PostgreSQL when DATABASE_URL points at it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import g, request_started
from flask_login import FlaskLoginClient
from flask_sqlalchemy.session import Session

from consult import clock, create_app
from consult.comments.targets import forget_targets
from consult.extensions import db
from consult.mail import OutboxMessage
from tests import factories
from tests.storage_backends import moto_endpoint, s3_bucket, storage_backend  # noqa: F401

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    url = os.environ.get("DATABASE_URL", "sqlite://")
    config.consult_database = url.split(":", 1)[0]


def pytest_report_header(config):
    return f"consult database: {os.environ.get('DATABASE_URL', 'sqlite:// (in memory)')}"


def _fresh_g(sender, **extra):
    """Give every request a fresh `g`, as it has outside tests, and what the test has written
    so far as committed data: a request that rolls back (`consult.web.commits` on a refusal)
    undoes its own work only, as it does outside tests (the test's transaction is still rolled
    back at its end)."""
    g.__dict__.clear()
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False  # the test's objects stay
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


@pytest.fixture(scope="session")
def app():
    app = create_app({"TESTING": True})
    app.test_client_class = FlaskLoginClient
    # Each test pushes one app context that every request in it reuses, so `g` would carry the
    # logged-in user, the locale and the CSRF token from one client's request into the next.
    request_started.connect(_fresh_g, app)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()  # or psycopg warns of an open connection at exit


class _ConnectionSession(Session):
    """Flask-SQLAlchemy's session, bound to the test's connection instead of the engine."""

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture(autouse=True)
def _transaction(app):
    """Every test runs inside a transaction that is rolled back; commits become SAVEPOINTs."""
    ctx = app.app_context()
    ctx.push()
    forget_targets()  # what a process kept of consultations belongs to another test's data
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
            "class_": _ConnectionSession,
        }
    )
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        clock.freeze(None)
        ctx.pop()


@pytest.fixture
def file_app(tmp_path, real_session):
    """`file_app(**config)`: an app on a SQLite file of its own with the schema and one open
    consultation; yields (app, consultation id)."""
    apps = []

    def make(**config):
        url = f"sqlite:///{tmp_path / 'busy.db'}"
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, **config})
        with app.app_context():
            db.create_all()
            consultation = factories.consultation("open")
            db.session.commit()
            consultation_id = consultation.id
            db.session.remove()
        apps.append(app)
        return app, consultation_id

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def session():
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def client_as(app):
    """`client_as(user)`: a test client logged in as `user` (None: anonymous)."""

    def make(user=None):
        return app.test_client(user=user) if user is not None else app.test_client()

    return make


@pytest.fixture
def travel():
    """`travel(datetime or days from now)`: freeze the clock there."""

    def to(moment):
        if isinstance(moment, (int, float)):
            moment = datetime.now(UTC) + timedelta(days=moment)
        clock.freeze(moment)
        return moment

    return to


@pytest.fixture
def make():
    """Factories for test data: make.unit(), make.user(role=, unit=), make.consultation(...)."""
    return factories


@pytest.fixture
def unit(make):
    """A unit for the test's staff (a test module may give it a name of its own)."""
    return make.unit("市测试局")


@pytest.fixture
def editor(make, unit):
    return make.user("editor", unit)


@pytest.fixture
def approver(make, unit):
    return make.user("approver", unit)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@pytest.fixture
def post_form():
    """`post_form(client, url, data, page=None)`: GET the form page for its CSRF token, POST."""

    def post(client, url, data, page=None, **kwargs):
        response = client.get(page or url)
        token = csrf_from(response.get_data(as_text=True))
        return client.post(url, data={"csrf_token": token, **data}, **kwargs)

    return post


@pytest.fixture
def real_session():
    """For tests that run their own app (or thread): a session of its own, not the test's."""
    swapped = db.session
    db.session = db._make_scoped_session({})
    yield
    db.session.remove()
    db.session = swapped
    _empty_the_database()


def _empty_the_database() -> None:
    """Delete what a test committed for real (the suite's database is empty between tests:
    every other test's writes are rolled back), so no later test sees it. DELETE, not
    TRUNCATE: the test's own open connection may still hold its snapshot's locks. SQLite's
    in-memory database is one shared connection inside the test's transaction: left alone."""
    if db.engine.dialect.name == "sqlite":
        return
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


def table_counts() -> dict[str, int]:
    """Rows in every table: a refused request must leave every count as it was."""
    return {table.name: db.session.scalar(db.select(db.func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def staff_post(client, url, data=None):
    """POST as staff, with the CSRF token of the workspace page of the same session."""
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


# ------------------------------------------------------------------ mail

LINK = re.compile(r"https?://consult\.test(/\S+)")


def mails_to(address: str) -> list[OutboxMessage]:
    """Mail queued to `address`, oldest first."""
    return db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id)
    ).all()


def link_in(message: OutboxMessage) -> str:
    """The path of the (first) link of this site in a mail."""
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def last_link_to(address: str) -> str:
    messages = mails_to(address)
    assert messages, f"no mail to {address}"
    return link_in(messages[-1])


def sign_in(client, post_form, citizen, password: str = factories.PASSWORD):
    """Sign a citizen account in (through the sign-in form)."""
    response = post_form(client, "/account/login", {"email": citizen.email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response
