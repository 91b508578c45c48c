"""What a transaction hands on after its commit: the jobs it queued, and whether the outbox got
mail.

`consult.jobs.queue.enqueue` and `consult.mail.queue` note it here in the session; when the
session has committed and let its connection go — never before, so a worker never looks for
a row that is not there yet, and a rolled-back change (a savepoint's too) hands on nothing —
the hand-off that `consult.jobs.transport` registers (RQ on Redis, or this process's thread)
gets it. Kept apart from the transport so that the outbox and the job queue, which the
transport runs, need not import it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from consult import database
from consult.extensions import db

SESSION_KEY = "consult_dispatch"

_handoff: list[Callable[..., None]] = []


def on_commit(handoff: Callable[..., None]) -> None:
    """`handoff(app, job_ids, outbox=)` gets what each committed transaction queued."""
    _handoff[:] = [handoff]


def dispatch_after_commit(*, job_id: int | None = None, outbox: bool = False) -> None:
    """Remember to hand a job (or the outbox) on when the current transaction commits."""
    pending = db.session.info.setdefault(SESSION_KEY, {"jobs": [], "outbox": False})
    if job_id is not None and job_id not in pending["jobs"]:
        pending["jobs"].append(job_id)
    pending["outbox"] = pending["outbox"] or outbox


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    pending = session.info.pop(SESSION_KEY, None)
    if pending and has_app_context() and _handoff:
        app = current_app._get_current_object()
        # once the connection is given back: a hand-off to Redis is a round trip that no other
        # writer should wait for (on SQLite, the write turn)
        database.when_released(session, lambda: _handoff[0](app, pending["jobs"],
                                                             outbox=pending["outbox"]))


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(SESSION_KEY, None)


def uses_redis(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def worker_name() -> str:
    """Who holds a lease (of a job, or of a batch of mail): host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]
