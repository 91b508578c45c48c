"""Redis and RQ: the connection, the queue, and handing RQ a job's id or an outbox delivery.

RQ calls the functions named by RUN_JOB and DELIVER_OUTBOX (`consult/entrypoints.py`: they
need the app, which they build in a plain `rq worker` process, so they sit above everything
the app is made of).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask

from consult.jobs.dispatch import uses_redis

REDIS_DOWN_PAUSE = 10.0  # seconds without trying Redis again after it failed (per process)
OUTBOX_KICK_TTL = 60  # seconds a pending "deliver the outbox" RQ job suppresses another
RUN_JOB = "consult.entrypoints.rq_run_job"
DELIVER_OUTBOX = "consult.entrypoints.rq_deliver_outbox"

_worker_app: Flask | None = None  # the app of `flask --app app worker`, for RQ's job functions


def set_worker_app(app: Flask | None) -> None:
    """The app RQ's job functions run in (the worker command's own)."""
    global _worker_app
    _worker_app = app


def worker_app() -> Flask | None:
    return _worker_app


def outbox_kick_key(app: Flask) -> str:
    return f"{app.config['JOBS_QUEUE']}:outbox-kick"


def redis_connection(app: Flask):
    """One client per app (a connection pool), with short timeouts: a dead Redis must cost a
    request milliseconds, not seconds."""
    import redis

    client = app.extensions.get("consult_redis")
    if client is None:
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=0.5,
                                      socket_timeout=5, health_check_interval=30)
        app.extensions["consult_redis"] = client
    return client


def rq_queue(app: Flask):
    from rq import Queue

    return Queue(app.config["JOBS_QUEUE"], connection=redis_connection(app),
                 default_timeout=app.config["JOB_TIMEOUT_SECONDS"])


def enqueue_rq(app: Flask, queue, job_id: int) -> None:
    # The job's outcome lives in the jobs table; RQ keeps nothing after a success.
    queue.enqueue(RUN_JOB, job_id, job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
                  result_ttl=0, failure_ttl=24 * 3600, description=f"consult job {job_id}")


def kick_outbox_rq(app: Flask, queue=None) -> bool:
    """One pending "deliver the outbox" job at a time: a crowd's thousand receipts make one."""
    queue = queue or rq_queue(app)
    key = outbox_kick_key(app)
    if not redis_connection(app).set(key, "1", nx=True, ex=OUTBOX_KICK_TTL):
        return False
    queue.enqueue(DELIVER_OUTBOX, job_timeout=app.config["JOB_TIMEOUT_SECONDS"], result_ttl=0,
                  failure_ttl=24 * 3600, description="consult outbox delivery")
    return True


def redis_status(app: Flask) -> str:
    """"ok", "down" or "not_configured" (for /healthz); always asks Redis itself."""
    if not uses_redis(app):
        return "not_configured"
    try:
        redis_connection(app).ping()
    except Exception:  # redis.RedisError, or a socket error under it
        return "down"
    return "ok"


def redis_paused(app: Flask) -> bool:
    return app.extensions.get("consult_redis_down_until", 0.0) > time.monotonic()


def pause_redis(app: Flask) -> None:
    app.extensions["consult_redis_down_until"] = time.monotonic() + REDIS_DOWN_PAUSE


def safe_url(app: Flask) -> str:
    """REDIS_URL without a password, for the log."""
    parts = urlsplit(app.config.get("REDIS_URL") or "")
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"
