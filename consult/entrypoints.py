"""The functions RQ calls by name in a worker process (`consult.jobs.rq.RUN_JOB` and
`DELIVER_OUTBOX`): they need the app, built from the environment in a plain `rq worker`, so they
belong to the app's wiring, above everything the app is made of (`.importlinter`)."""

from __future__ import annotations

from flask import Flask

from consult import create_app
from consult.extensions import db
from consult.jobs.queue import run_one
from consult.jobs.rq import outbox_kick_key, redis_connection, set_worker_app, worker_app
from consult.mail import deliver_all


def _app() -> Flask:
    app = worker_app()
    if app is None:  # a plain `rq worker` process: build the app from the environment
        app = create_app()
        set_worker_app(app)
    return app


def rq_run_job(job_id: int) -> None:
    """RQ's job function: run the job row `job_id` (if it is still due)."""
    app = _app()
    with app.app_context():
        try:
            run_one(job_id)
        finally:
            db.session.remove()


def rq_deliver_outbox() -> None:
    """RQ's job function: deliver every due mail."""
    app = _app()
    redis_connection(app).delete(outbox_kick_key(app))  # new mail: kick again
    with app.app_context():
        try:
            deliver_all()
        finally:
            db.session.remove()
