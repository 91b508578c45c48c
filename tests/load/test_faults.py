"""Faults under load, on throwaway servers of the tests' own: PostgreSQL restarted while a crowd
comments, Redis gone while the rate limits need it."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from bench.crowd import Person, run_crowd, submit_api
from tests.conftest import IN_CI
from tests.load.server import Server, base_env, prepare
from tests.load.services import ThrowawayPostgres, ThrowawayRedis, postgres_bindir

pytestmark = pytest.mark.fault


@pytest.fixture
def throwaway_postgres():
    if postgres_bindir() is None:
        if IN_CI:
            pytest.fail("PostgreSQL server binaries are missing")
        pytest.skip("no PostgreSQL server binaries")
    server = ThrowawayPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def throwaway_redis():
    try:
        server = ThrowawayRedis().start()
    except RuntimeError as error:
        if IN_CI:
            pytest.fail(str(error))
        pytest.skip(str(error))
    yield server
    server.stop()


def rows(url: str, consultation_id: int) -> set[str]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return set(conn.execute(
                text("SELECT tracking_no FROM comments WHERE consultation_id = :c"),
                {"c": consultation_id}).scalars())
    finally:
        engine.dispose()


def test_postgresql_restarted_during_a_crowd_loses_nothing_and_the_app_recovers(
        throwaway_postgres, tmp_path):
    url = throwaway_postgres.url
    consultation_id = prepare(url)[0]
    env = base_env(url, OUTBOX_BACKGROUND="false", RATELIMIT_ENABLED="false",
                   DB_POOL_TIMEOUT="2")
    with Server(env) as server:
        results = {}
        crowd = threading.Thread(target=lambda: results.setdefault(
            "crowd", run_crowd(server.url, consultation_id, 600, 16, mode="mixed")))
        crowd.start()
        time.sleep(2)  # the crowd is in full flow
        throwaway_postgres.restart()
        crowd.join(300)
        result = results["crowd"]
        print(result.summary())
        # Every answer was a 201 (saved) or a 503 with Retry-After: never a 500 or a hang.
        assert result.errors == 0, (result.error_samples(), server.output()[-3000:])
        assert result.refused > 0, "the restart should have been felt"
        # No 201 without its row (a 503 may have a row: its client retries with its key).
        assert set(result.tracking_nos) <= rows(url, consultation_id)
        # The app recovers by itself: new comments are saved without restarting it.
        for _attempt in range(20):
            outcome = submit_api(Person(server.url, "127.0.9.9"), consultation_id, "恢复后的意见")
            if outcome.kind == "saved":
                break
            time.sleep(0.5)
        assert outcome.kind == "saved", outcome
        assert outcome.tracking_no in rows(url, consultation_id)


def test_with_redis_down_comment_limits_fail_open_and_say_so(throwaway_redis, tmp_path):
    """The limits cannot count: comments are taken (a log line says the limits are off)
    rather than refused or answered with a 500; they count again when Redis is back."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'redis-down.db'}"
    if url.startswith("postgres"):
        from tests.load.server import scratch_database

        database = scratch_database("postgresql", tmp_path)
        url = database.__enter__()
    else:
        database = None
    try:
        consultation_id = prepare(url)[0]
        env = base_env(url, OUTBOX_BACKGROUND="false", REDIS_URL=throwaway_redis.url,
                       RATELIMIT_KEY_PREFIX=f"fault-{uuid.uuid4().hex}",
                       COMMENT_RATE_LIMIT="3 per 10 minutes")
        with Server(env) as server:
            person = Person(server.url, "127.0.8.8")
            assert [submit_api(person, consultation_id, f"意见{i}").kind
                    for i in range(4)] == ["saved"] * 3 + ["refused"]
            throwaway_redis.stop()
            outcomes = [submit_api(person, consultation_id, f"Redis 停了{i}") for i in range(3)]
            assert [o.kind for o in outcomes] == ["saved"] * 3, outcomes
            assert "comment rate limits not applied" in server.output()
    finally:
        if database is not None:
            database.__exit__(None, None, None)
