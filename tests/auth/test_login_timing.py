"""Login timing (finding 5): an unknown address costs the same password work as a known one.

No stopwatch (timings are noise on a shared machine): the test counts the key-derivation runs
each attempt makes, and their parameters. Every attempt, whoever it names, runs exactly one.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def kdf_runs(monkeypatch):
    """The (hash name, iterations) of every PBKDF2 run (tests hash with pbkdf2:sha256:1000)."""
    runs = []
    real = hashlib.pbkdf2_hmac

    def counting(name, password, salt, iterations, *args, **kwargs):
        runs.append((name, iterations))
        return real(name, password, salt, iterations, *args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    return runs


def _attempt(client, post_form, url, email, password, kdf_runs):
    page = client.get(url).get_data(as_text=True)  # GET first: no password work in it
    from tests.conftest import csrf_from

    token = csrf_from(page)
    kdf_runs.clear()
    response = client.post(url, data={"csrf_token": token, "email": email,
                                      "password": password})
    return response.status_code, list(kdf_runs)


def test_staff_login_runs_one_kdf_whoever_the_address_names(client, make, post_form, kdf_runs):
    make.user("editor", email="known@example.org")
    gone = make.user("editor", email="gone@example.org")
    gone.active = False
    cases = {
        "unknown": ("nobody@example.org", PASSWORD),
        "wrong password": ("known@example.org", "not-the-password"),
        "inactive": ("gone@example.org", PASSWORD),
    }
    seen = {}
    for name, (email, password) in cases.items():
        status, runs = _attempt(client, post_form, "/login", email, password, kdf_runs)
        assert status == 422, name
        seen[name] = runs
    assert seen["unknown"] == seen["wrong password"] == seen["inactive"] == [("sha256", 1000)]


def test_citizen_login_runs_one_kdf_whoever_the_address_names(client, make, post_form,
                                                               kdf_runs):
    make.citizen("known@example.net")
    make.citizen("unverified@example.net", password=None, verified=False)
    cases = {
        "unknown": ("nobody@example.net", PASSWORD),
        "wrong password": ("known@example.net", "not-the-password"),
        "no password yet": ("unverified@example.net", PASSWORD),
    }
    seen = {}
    for name, (email, password) in cases.items():
        status, runs = _attempt(client, post_form, "/account/login", email, password, kdf_runs)
        assert status == 422, name
        seen[name] = runs
    assert seen["unknown"] == seen["wrong password"] == seen["no password yet"] == \
        [("sha256", 1000)]
