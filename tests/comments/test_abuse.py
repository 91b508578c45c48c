"""Abuse control without a CAPTCHA (F11): rate limits per client, honeypot, idempotent retries.

The test app's limits are high (TestingConfig) so that the rest of the suite is never limited;
these tests put the real defaults back and give every test clients of its own (addresses from a
counter), because the counters live as long as the app.
"""

import itertools
import os
import re
import uuid
from datetime import timedelta

import pytest

from consult import clock, create_app
from consult.comments.models import Comment, CommentStatus
from consult.config import Config
from consult.extensions import db
from consult.mail import OutboxMessage
from consult.ratelimit import client_id
from tests.conftest import IN_CI, csrf_from

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_numbers = itertools.count(1)


def ipv6_64() -> str:
    """A /64 no other test uses, as an address prefix: '2001:db8:7:3:'."""
    n = next(_numbers)
    return f"2001:db8:{n // 0xFFFF:x}:{n % 0xFFFF:x}:"


def ipv4() -> str:
    n = next(_numbers)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def as_client(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def api_url(c):
    return f"/api/v1/consultations/{c.id}/comments"


def post_api(client, c, address, body="建议第三条增加听证程序。", **kw):
    return client.post(api_url(c), json={"body": body, "category": "individual"},
                       **as_client(address), **kw)


def count(c) -> int:
    return db.session.scalar(
        db.select(db.func.count(Comment.id)).where(Comment.consultation_id == c.id))


def retry_after(response) -> int:
    value = response.headers["Retry-After"]
    assert value.isdigit(), value
    return int(value)


@pytest.fixture
def limits(app, monkeypatch):
    """The production defaults: 10 comments per 10 minutes, 10 logins per minute."""
    monkeypatch.setitem(app.config, "COMMENT_RATE_LIMIT", Config.COMMENT_RATE_LIMIT)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", Config.LOGIN_RATE_LIMIT)
    assert Config.COMMENT_RATE_LIMIT == "10 per 10 minutes"


@pytest.fixture
def open_c(make):
    return make.consultation("open")


def another_app(**config):
    """A second app instance (another worker), sharing the test's database transaction."""
    settings = {"TESTING": True, "COMMENT_RATE_LIMIT": Config.COMMENT_RATE_LIMIT, **config}
    return create_app(settings)


# ------------------------------------------------------------------ who is a client


@pytest.mark.parametrize("address, client", [
    ("203.0.113.5", "203.0.113.5"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.5", "203.0.113.5"),  # IPv4 client of a dual-stack server on ::
    ("fe80::1%eth0", "fe80::/64"),
    ("", "unknown"),
    (None, "unknown"),
    ("not-an-address", "not-an-address"),
])
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(address, client):
    assert client_id(address) == client


# ------------------------------------------------------------------ rate limits


def test_the_11th_comment_from_one_64_is_429_and_other_clients_are_unaffected(
        client, open_c, limits):
    prefix = ipv6_64()
    for i in range(1, 11):  # ten addresses of one /64: one client
        response = post_api(client, open_c, f"{prefix}:{i:x}")
        assert response.status_code == 201, (i, response.json)
    response = post_api(client, open_c, f"{prefix}ffff:1:2:3")
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "rate_limited"
    assert 1 <= retry_after(response) <= 600
    assert count(open_c) == 10  # the refused one was not saved
    # Another /64 next door, and an IPv4 client, are not limited.
    assert post_api(client, open_c, ipv6_64() + ":1").status_code == 201
    assert post_api(client, open_c, ipv4()).status_code == 201
    assert count(open_c) == 12


def test_the_web_form_and_the_api_share_one_budget_and_the_page_says_so(
        client, post_form, open_c, limits):
    address = ipv4()
    url = f"/consultations/{open_c.id}/comment"
    for i in range(5):
        response = post_form(client, url, {"body": f"意见{i}", "category": "individual"},
                             **as_client(address))
        assert response.status_code == 303
        assert "Retry-After" not in response.headers  # only a 429 asks to wait
    for _ in range(5):
        assert post_api(client, open_c, address).status_code == 201
    response = post_form(client, url, {"body": "第十一条意见", "category": "individual"},
                         **as_client(address))
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert retry_after(response) >= 1
    assert "提交过于频繁" in response.get_data(as_text=True)
    assert post_api(client, open_c, address).status_code == 429
    assert count(open_c) == 10


def test_reading_is_not_counted(client, open_c, limits):
    address = ipv4()
    for _ in range(15):
        assert client.get(f"/consultations/{open_c.id}/comment",
                          **as_client(address)).status_code == 200
        assert client.get(api_url(open_c), **as_client(address)).status_code == 200
    assert post_api(client, open_c, address).status_code == 201


def test_x_forwarded_for_is_ignored_without_proxy_fix(client, open_c, limits):
    address = ipv4()
    for i in range(10):
        headers = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert post_api(client, open_c, address, headers=headers).status_code == 201
    response = post_api(client, open_c, address, headers={"X-Forwarded-For": "198.51.100.99"})
    assert response.status_code == 429


def test_behind_proxy_fix_the_forwarded_address_is_the_client(open_c):
    proxied = another_app(PROXY_FIX=True)
    client = proxied.test_client()
    proxy, first, second = ipv4(), ipv4(), ipv4()

    def via_proxy(address):
        return post_api(client, open_c, proxy, headers={"X-Forwarded-For": address})

    for _ in range(10):
        assert via_proxy(first).status_code == 201
    assert via_proxy(first).status_code == 429
    assert via_proxy(second).status_code == 201  # another client behind the same proxy


@pytest.fixture
def nat_limits(app, monkeypatch):
    """Per person as in production; per address small enough to cross in a test."""
    monkeypatch.setitem(app.config, "COMMENT_RATE_LIMIT", Config.COMMENT_RATE_LIMIT)
    monkeypatch.setitem(app.config, "COMMENT_ADDRESS_RATE_LIMIT", "30 per 10 minutes")
    monkeypatch.setitem(app.config, "COMMENT_ADDRESS_HARD_LIMIT", "40 per 10 minutes")


def test_a_crowd_behind_one_address_is_not_turned_away(app, open_c, nat_limits, post_form):
    """Thirty people behind one NAT, each in their own browser, all comment."""
    address, url = ipv4(), f"/consultations/{open_c.id}/comment"
    for i in range(30):
        person = app.test_client()  # their own cookies
        response = post_form(person, url, {"body": f"意见{i}", "category": "individual"},
                             environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 303, (i, response.status_code)
    assert count(open_c) == 30
    statuses = set(db.session.scalars(
        db.select(Comment.status).where(Comment.consultation_id == open_c.id)))
    assert statuses == {CommentStatus.PUBLISHED}


def test_one_person_is_limited_whatever_their_address(app, open_c, nat_limits, post_form):
    person, url = app.test_client(), f"/consultations/{open_c.id}/comment"
    for i in range(10):
        response = post_form(person, url, {"body": f"意见{i}", "category": "individual"},
                             environ_base={"REMOTE_ADDR": ipv4()})
        assert response.status_code == 303
    response = post_form(person, url, {"body": "第十一条", "category": "individual"},
                         environ_base={"REMOTE_ADDR": ipv4()})
    assert response.status_code == 429 and retry_after(response) >= 1
    assert count(open_c) == 10


def test_above_the_address_limit_a_comment_must_be_verified_not_refused(
        app, client, open_c, nat_limits, post_form):
    address = ipv4()

    def person_posts(i, email=None):
        payload = {"body": f"意见{i}", "category": "individual",
                   "email": email or f"person{i}@example.org"}
        return app.test_client().post(api_url(open_c), json=payload, **as_client(address))

    for i in range(30):  # thirty people fill the address's share
        assert person_posts(i).status_code == 201
    assert count(open_c) == 30
    # The 31st: without an e-mail address it is asked for one, and nothing is saved.
    response = post_api(app.test_client(), open_c, address, body="第三十一条意见")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "verification_required"
    assert "email" in response.json["error"]["fields"]
    assert count(open_c) == 30
    # With one it is saved, unverified, and the verification link is mailed.
    response = person_posts(31, "crowd31@example.org")
    assert response.status_code == 201, response.json
    assert response.json["status"] == "unverified"
    saved = db.session.scalar(db.select(Comment).where(Comment.email == "crowd31@example.org"))
    assert saved.status == CommentStatus.UNVERIFIED
    mail = db.session.scalar(db.select(OutboxMessage)
                             .where(OutboxMessage.recipient == "crowd31@example.org"))
    assert "/verify/" in mail.body or "验证" in mail.body
    # The web form says why it asks for an address.
    page = app.test_client()
    response = post_form(page, f"/consultations/{open_c.id}/comment",
                         {"body": "网页意见", "category": "individual"},
                         environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 422
    assert "请填写电子邮箱" in response.get_data(as_text=True)
    # Above the hard limit the address is refused.
    for i in range(40):
        response = person_posts(100 + i)
        if response.status_code == 429:
            break
    assert response.status_code == 429 and retry_after(response) >= 1
    # Another address is unaffected.
    assert post_api(app.test_client(), open_c, ipv4()).json["status"] == "published"


def test_login_is_limited(client, limits, travel):
    address = ipv4()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token, "email": "nobody@example.org", "password": "wrong password"}
    # Each attempt after the login throttle's wait (consult/security/throttle.py, on the app's
    # clock), so that what answers 429 below is the rate limit (on the wall clock).
    moment = clock.now()
    for n in range(10):
        travel(moment + timedelta(minutes=10 * (n + 1)))
        response = client.post("/login", data=data, **as_client(address))
        assert response.status_code != 429
    travel(moment + timedelta(minutes=110))
    response = client.post("/login", data=data, **as_client(address))
    assert response.status_code == 429 and retry_after(response) >= 1


def test_rate_limits_can_be_turned_off(open_c):
    unlimited = another_app(RATELIMIT_ENABLED=False)
    client, address = unlimited.test_client(), ipv4()
    assert all(post_api(client, open_c, address).status_code == 201 for _ in range(12))


def test_a_rate_limit_storage_outage_does_not_refuse_comments(open_c):
    broken = another_app(RATELIMIT_STORAGE_URI=None, REDIS_URL="redis://127.0.0.1:1/0")
    client, address = broken.test_client(), ipv4()
    for _ in range(3):  # nothing can count them: served rather than a 500
        assert post_api(client, open_c, address).status_code == 201


# ------------------------------------------------------------------ across processes (Redis)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the local Redis; its keys are deleted afterwards."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail(f"Redis is not answering at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"consult-test-{uuid.uuid4().hex}"
    yield prefix
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.mark.redis
def test_limits_hold_across_two_app_processes_sharing_redis(open_c, redis_prefix):
    shared = {"RATELIMIT_STORAGE_URI": None, "REDIS_URL": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": redis_prefix}
    one, two = another_app(**shared).test_client(), another_app(**shared).test_client()
    address = ipv6_64() + ":1"
    for i in range(10):  # alternate between the two workers
        worker = one if i % 2 else two
        assert post_api(worker, open_c, address).status_code == 201, i
    for worker in (one, two):
        response = post_api(worker, open_c, address)
        assert response.status_code == 429 and retry_after(response) >= 1
    assert post_api(one, open_c, ipv4()).status_code == 201  # another client


def test_without_shared_storage_each_process_counts_alone(open_c):
    """What the Redis test guards against: two workers counting in their own memory."""
    one = another_app(RATELIMIT_STORAGE_URI="memory://").test_client()
    two = another_app(RATELIMIT_STORAGE_URI="memory://").test_client()
    address = ipv4()
    for i in range(10):
        assert post_api(one if i % 2 else two, open_c, address).status_code == 201
    assert post_api(one, open_c, address).status_code == 201  # one has counted only five


# ------------------------------------------------------------------ honeypot


def test_the_form_has_a_honeypot_that_people_do_not_see(client, open_c):
    page = client.get(f"/consultations/{open_c.id}/comment").get_data(as_text=True)
    honeypot = re.search(r'<div class="hp" aria-hidden="true">(.*?)</div>', page, re.S)
    assert honeypot, "no honeypot"
    field = re.search(r"<input[^>]*>", honeypot.group(1)).group(0)
    assert 'name="remark"' in field and 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field and 'type="text"' in field
    css = client.get("/static/css/site.css")
    assert ".hp {" in css.get_data(as_text=True)
    css.close()


def test_a_filled_honeypot_saves_nothing_and_answers_422(client, post_form, open_c):
    url = f"/consultations/{open_c.id}/comment"
    response = post_form(client, url, {"body": "买便宜发票，加微信", "category": "individual",
                                       "remark": "http://spam.example"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "提交未成功" in page and "http://spam.example" not in page
    assert count(open_c) == 0
    # A person, who leaves it empty, is not bothered by it.
    response = post_form(client, url, {"body": "建议延长期限。", "category": "individual",
                                       "remark": ""})
    assert response.status_code == 303 and count(open_c) == 1


# ------------------------------------------------------------------ retries and sizes


def test_a_double_click_makes_one_comment_and_both_answers_name_the_same_receipt(client,
                                                                                 open_c):
    url = f"/consultations/{open_c.id}/comment"
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page)[1]
    data = {"csrf_token": csrf_from(page), "nonce": nonce, "body": "建议增加听证。",
            "category": "individual"}
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    [comment] = db.session.scalars(db.select(Comment).where(Comment.consultation_id == open_c.id))
    assert first.headers["Location"].endswith(f"/receipts/{comment.tracking_no}")
    assert client.get(second.headers["Location"]).status_code == 200
    # The same form sent again with a corrected text is another comment.
    third = client.post(url, data={**data, "body": "建议增加听证和论证。"})
    assert third.status_code == 303 and third.headers["Location"] != first.headers["Location"]
    assert count(open_c) == 2


def test_the_same_idempotency_key_twice_gives_one_comment_and_the_same_answer(client, open_c):
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    address = ipv4()  # a retry comes from the same client (keys are scoped to it)
    first = post_api(client, open_c, address, headers=headers)
    second = post_api(client, open_c, address, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json and count(open_c) == 1


def test_a_body_over_max_content_length_is_413_on_the_form_and_the_api(app, client, open_c,
                                                                        monkeypatch):
    url = f"/consultations/{open_c.id}/comment"
    token = csrf_from(client.get(url).get_data(as_text=True))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = client.post(url, data={"csrf_token": token, "body": "长" * 3000,
                                      "category": "individual"})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "提交的内容过大" in response.get_data(as_text=True)
    response = post_api(client, open_c, ipv4(), body="长" * 3000)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert count(open_c) == 0
