"""The page cache served for real: gunicorn with several workers sharing one store (a folder,
or Redis), so that no worker serves a page that a write through another worker made stale."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import IN_CI
from tests.load.conftest import REDIS_URL, redis_available


def fetch(url: str) -> tuple[str, str | None]:
    with urllib.request.urlopen(url, timeout=30) as response:  # a new connection each time
        return response.read().decode(), response.headers.get("X-Page-Cache")


def post_comment(server, consultation_id: int, body: str) -> None:
    request = urllib.request.Request(
        f"{server.url}/api/v1/consultations/{consultation_id}/comments",
        data=json.dumps({"body": body, "category": "individual"}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


@pytest.fixture(params=["FileSystemCache", "RedisCache"])
def store(request) -> dict[str, str]:
    if request.param == "RedisCache":
        if not redis_available():
            if IN_CI:
                pytest.fail("Redis is not answering")
            pytest.skip("no Redis")
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL}
    return {"CACHE_TYPE": "FileSystemCache"}


def test_no_worker_serves_a_page_made_stale_by_a_write_through_another(served, store):
    server, consultation_id = served(RATELIMIT_ENABLED="false", **store)
    url = f"{server.url}/consultations/{consultation_id}"
    seen = [fetch(url) for _ in range(30)]  # every worker has read (and is served) the page
    assert all("已收到意见 0 条" in page for page, _ in seen)
    assert sum(how == "hit" for _, how in seen) >= 25
    for n in range(1, 4):
        post_comment(server, consultation_id, f"第{n}条意见：建议延长过渡期。")
        pages = [fetch(url) for _ in range(12)]
        assert all(f"已收到意见 {n} 条" in page for page, _ in pages), n
        assert all(f"第{n}条意见" in page for page, _ in pages)
        listing = [fetch(f"{server.url}/consultations") for _ in range(6)]
        assert len({page for page, _ in listing}) == 1
