"""The baselines SPEC §7 measures against, as WSGI apps for bench/harness.py.

- `hello`: a one-route Flask app that answers "hello" — the ceiling for any page.
- `insert`: a minimal Flask route that durably inserts one row per POST into the same database
  as the app (`DATABASE_URL`, else `BASELINE_SQLITE` / a file in the temporary directory), with
  the app's own engine settings (consult/database.py: WAL, `SQLITE_SYNCHRONOUS`, busy timeout,
  `BEGIN IMMEDIATE` and the writer lock on SQLite; the same pool on PostgreSQL) — the physical
  floor for a comment POST. It answers 201 only after the commit.
"""

from __future__ import annotations

import os
import tempfile

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

from consult.config import Config
from consult.database import configure_engine, engine_options

hello = Flask("hello")


@hello.get("/")
def say_hello():
    return "hello"


def _database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return Config.SQLALCHEMY_DATABASE_URI  # as the app reads it (psycopg 3 on PostgreSQL)
    path = os.environ.get("BASELINE_SQLITE",
                          os.path.join(tempfile.gettempdir(), "consult-baseline.db"))
    return f"sqlite:///{path}"


insert = Flask("insert")
_config = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
_url = _database_url()
_engine = create_engine(_url, **engine_options(_url, _config))
configure_engine(_engine, _config)
with _engine.begin() as _connection:
    if _engine.dialect.name == "postgresql":
        # Each worker imports this: one at a time, or two may both find no table and the
        # second CREATE fails on PostgreSQL's catalogue (that worker, and gunicorn, exit).
        _connection.execute(text("SELECT pg_advisory_xact_lock(8080)"))
        _connection.execute(text(
            "CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL,"
            " created_at TIMESTAMPTZ NOT NULL DEFAULT now())"))
    else:
        _connection.execute(text(
            "CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL,"
            " created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"))


@insert.get("/")
def ready():
    return "ready"


@insert.post("/rows")
def add_row():
    body = (request.get_json(silent=True) or {}).get("body") or request.form.get("body", "")
    with _engine.begin() as connection:  # BEGIN IMMEDIATE on SQLite: a POST writes
        row_id = connection.execute(
            text("INSERT INTO bench_rows (body) VALUES (:body) RETURNING id"), {"body": body},
        ).scalar_one()
    return jsonify(id=row_id), 201
