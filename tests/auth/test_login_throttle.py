"""Login throttling (finding 8): repeated failures slow down per account and per client.

The Nth failure makes the next attempt wait 2^(N-3) seconds (capped): a 429 with Retry-After,
never a lockout. A browser that has signed in to the account before is not held up by the
account's counter, so nobody can keep an approver out on deadline day; a successful sign-in
clears that client's counter; platform admins see and clear the counters (page and CLI).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult import clock
from consult.extensions import db
from consult.security.models import LoginThrottle
from consult.security.throttle import delay_after
from tests.conftest import csrf_from
from tests.factories import PASSWORD

WRONG = "not-the-password"


def _post(client, url, email, password, *, ip="203.0.113.7"):
    token = csrf_from(client.get(url, environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def now(travel):
    return travel(clock.now().replace(microsecond=0))


@pytest.fixture
def approver(make):
    return make.user("approver", email="approver@example.org")


def test_the_delay_doubles_from_the_third_failure_and_is_capped(app):
    assert [delay_after(n) for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 16]
    assert delay_after(40) == app.config["LOGIN_THROTTLE_MAX_DELAY"]


def test_failures_slow_an_account_down_and_the_wait_ends(app, client, approver, now, travel):
    for _ in range(3):
        assert _post(client, "/login", approver.email, WRONG).status_code == 422
    # The right password does not help during the wait, and the attempt is not even checked.
    response = _post(client, "/login", approver.email, PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "秒后再试" in response.get_data(as_text=True)
    travel(now + timedelta(seconds=1))
    assert _post(client, "/login", approver.email, WRONG).status_code == 422  # 4th failure
    response = _post(client, "/login", approver.email, PASSWORD)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")
    travel(now + timedelta(seconds=3))
    assert _post(client, "/login", approver.email, PASSWORD).status_code == 302


def test_refused_attempts_during_the_wait_do_not_lengthen_it(client, approver, now, travel):
    for _ in range(3):
        _post(client, "/login", approver.email, WRONG)
    for _ in range(5):
        assert _post(client, "/login", approver.email, WRONG).status_code == 429
    travel(now + timedelta(seconds=1))
    assert _post(client, "/login", approver.email, PASSWORD).status_code == 302


def test_another_address_from_the_same_client_is_slowed_too(client, make, now):
    make.user("editor", email="other@example.org")
    for n in range(3):
        _post(client, "/login", f"guess{n}@example.org", WRONG)
    response = _post(client, "/login", "other@example.org", PASSWORD)
    assert response.status_code == 429  # the client's counter, not the account's


def test_a_browser_that_signed_in_before_is_not_held_up_by_the_accounts_counter(
        app, approver, now):
    own = app.test_client()
    assert _post(own, "/login", approver.email, PASSWORD, ip="198.51.100.1").status_code == 302
    own.post("/logout", data={"csrf_token": csrf_from(own.get("/staff").get_data(
        as_text=True))}, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    attackers = [app.test_client() for _ in range(6)]
    for n, attacker in enumerate(attackers):  # many clients, one account
        _post(attacker, "/login", approver.email, WRONG, ip=f"192.0.2.{n + 10}")
    stranger = app.test_client()
    assert _post(stranger, "/login", approver.email, PASSWORD,
                 ip="192.0.2.200").status_code == 429
    # The approver's own browser carries the mark of an earlier sign-in: not held up.
    assert _post(own, "/login", approver.email, PASSWORD, ip="198.51.100.1").status_code == 302


def test_a_forged_device_mark_does_not_help(app, make, approver, now):
    for n in range(4):
        _post(app.test_client(), "/login", approver.email, WRONG, ip=f"192.0.2.{n + 10}")
    forger = app.test_client()
    forger.set_cookie("login_device", "forged.value.here", domain=app.config["SERVER_NAME"])
    assert _post(forger, "/login", approver.email, PASSWORD, ip="192.0.2.99").status_code == 429
    # A genuine mark of another account does not open this one either.
    other = app.test_client()
    assert _post(other, "/login", make.user("editor").email, PASSWORD,
                 ip="192.0.2.98").status_code == 302
    mark = other.get_cookie("login_device", domain=app.config["SERVER_NAME"]).value
    carrier = app.test_client()
    carrier.set_cookie("login_device", mark, domain=app.config["SERVER_NAME"])
    assert _post(carrier, "/login", approver.email, PASSWORD, ip="192.0.2.97").status_code == 429


def test_success_clears_the_clients_counter(client, approver, now):
    for n in range(2):
        _post(client, "/login", f"typo{n}@example.org", WRONG)
    assert _post(client, "/login", approver.email, PASSWORD).status_code == 302
    rows = db.session.scalars(db.select(LoginThrottle).where(
        LoginThrottle.scope == "client")).all()
    assert rows == []


def test_citizen_login_is_throttled_the_same_way(client, make, now, travel):
    citizen = make.citizen("reader@example.net")
    for _ in range(3):
        assert _post(client, "/account/login", citizen.email, WRONG).status_code == 422
    response = _post(client, "/account/login", citizen.email, PASSWORD)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1")
    travel(now + timedelta(seconds=1))
    assert _post(client, "/account/login", citizen.email, PASSWORD).status_code == 303


def test_counters_are_forgotten_a_day_after_the_last_failure(client, approver, now, travel):
    for _ in range(6):
        _post(client, "/login", approver.email, WRONG)
        travel(clock.now() + timedelta(minutes=10))
    travel(clock.now() + timedelta(days=1))
    assert _post(client, "/login", approver.email, WRONG).status_code == 422  # counts as 1st
    assert _post(client, "/login", approver.email, PASSWORD).status_code == 302


# ------------------------------------------------------------------ admins see and clear them


@pytest.fixture
def admin(make):
    return make.user(admin=True, email="admin@example.org")


def _failures(app, email, n=4, ip="192.0.2.50"):
    for _ in range(n):
        _post(app.test_client(), "/login", email, WRONG, ip=ip)


def test_admins_see_and_clear_an_accounts_counter(app, client_as, approver, admin, now):
    _failures(app, approver.email)
    page = client_as(admin).get("/staff/security/logins")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert approver.email in html and "192.0.2.50" in html
    row = db.session.scalar(db.select(LoginThrottle).where(LoginThrottle.key == approver.email))
    admin_client = client_as(admin)
    token = csrf_from(admin_client.get("/staff/security/logins").get_data(as_text=True))
    response = admin_client.post("/staff/security/logins/clear",
                                 data={"csrf_token": token, "id": row.id})
    assert response.status_code == 303
    assert db.session.get(LoginThrottle, row.id) is None
    assert _post(app.test_client(), "/login", approver.email, PASSWORD,
                 ip="198.51.100.9").status_code == 302


def test_admins_clear_every_counter_at_once(app, client_as, approver, admin, now):
    _failures(app, approver.email)
    _failures(app, "someone@example.org", ip="192.0.2.51")
    client = client_as(admin)
    token = csrf_from(client.get("/staff/security/logins").get_data(as_text=True))
    assert client.post("/staff/security/logins/clear",
                       data={"csrf_token": token, "all": "1"}).status_code == 303
    assert db.session.scalar(db.select(db.func.count(LoginThrottle.id))) == 0


def test_clearing_needs_a_csrf_token(app, client_as, approver, admin, now):
    _failures(app, approver.email)
    response = client_as(admin).post("/staff/security/logins/clear", data={"all": "1"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(LoginThrottle.id))) > 0


def test_an_unknown_counter_is_404_and_a_bad_id_422(app, client_as, admin):
    client = client_as(admin)
    token = csrf_from(client.get("/staff/security/logins").get_data(as_text=True))
    assert client.post("/staff/security/logins/clear",
                       data={"csrf_token": token, "id": "999999"}).status_code == 404
    assert client.post("/staff/security/logins/clear",
                       data={"csrf_token": token, "id": "x"}).status_code == 422


@pytest.mark.parametrize("role", ["editor", "approver", "legal_reviewer"])
def test_only_platform_admins_see_the_counters(client_as, make, role):
    client = client_as(make.user(role))
    assert client.get("/staff/security/logins").status_code == 403


def test_hostile_addresses_are_shown_escaped(app, client_as, admin, now):
    _failures(app, '"<script>alert(1)</script>"@example.org')
    html = client_as(admin).get("/staff/security/logins").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html


def test_the_cli_clears_counters(app, approver, now):
    _failures(app, approver.email)
    _failures(app, "someone@example.org", ip="192.0.2.51")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["security", "clear-logins", "--email", approver.email])
    assert result.exit_code == 0, result.output
    assert "cleared 1" in result.output
    keys = set(db.session.scalars(db.select(LoginThrottle.key)))
    assert approver.email not in keys and "someone@example.org" in keys
    result = runner.invoke(args=["security", "clear-logins", "--client", "192.0.2.51"])
    assert result.exit_code == 0 and "192.0.2.51" not in set(
        db.session.scalars(db.select(LoginThrottle.key)))
    result = runner.invoke(args=["security", "clear-logins", "--all"])
    assert result.exit_code == 0
    assert db.session.scalar(db.select(db.func.count(LoginThrottle.id))) == 0
    assert runner.invoke(args=["security", "clear-logins"]).exit_code != 0  # says what to clear
