"""Fixtures for tests that serve the app with gunicorn and send a crowd at it.

They run on the database the suite runs on (`DATABASE_URL`: SQLite by default, PostgreSQL in
CI's second run), each on a fresh database of its own, with the rate limits on. On PostgreSQL the
limits count in Redis (the production path) when it answers.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import IN_CI
from tests.load.server import Server, base_env, postgres_available, prepare, scratch_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/load/" in str(item.fspath):
            item.add_marker(pytest.mark.load)


@pytest.fixture(scope="module")
def database_kind() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        if not postgres_available():
            if IN_CI:
                pytest.fail("PostgreSQL is not answering")
            pytest.skip("no PostgreSQL")
        return "postgresql"
    return "sqlite"


def redis_available() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except redis.RedisError:
        return False


@pytest.fixture
def served(database_kind, tmp_path):
    """`served(**env)`: the app on gunicorn (2 workers × 8 threads) on a fresh database, with
    one open consultation; yields (server, consultation_id)."""
    started: list[Server] = []
    databases = []

    def serve(consultations: int = 1, **env):
        database = scratch_database(database_kind, tmp_path)
        url = database.__enter__()
        databases.append(database)
        ids = prepare(url, consultations)
        if database_kind == "postgresql" and "REDIS_URL" not in env and redis_available():
            env.update(REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=f"load-{uuid.uuid4().hex}")
        # The page cache of this server alone: its own folder, or its own keys in Redis.
        env.setdefault("CACHE_DIR", str(tmp_path / f"pages-{len(started)}"))
        env.setdefault("CACHE_KEY_PREFIX", f"load-{uuid.uuid4().hex}:")
        server = Server(base_env(url, OUTBOX_BACKGROUND="false", **env)).start()
        started.append(server)
        return server, ids[0] if consultations == 1 else ids

    yield serve
    for server in started:
        server.stop()
    for database in databases:
        database.__exit__(None, None, None)
