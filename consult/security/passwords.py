"""Password checks that cost the same whether or not the account exists (finding 5).

An unknown e-mail address used to answer at once while a known one ran the KDF (0.01 s against
0.2 s), which told an attacker which accounts exist. Every sign-in attempt now runs exactly one
KDF with the configured method: against the account's hash, or against a throwaway one.
"""

from __future__ import annotations

import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

_CACHE_KEY = "consult_dummy_password_hashes"


def _dummy_hash() -> str:
    """A hash of a random password with the configured method, made once per process."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    hashes = current_app.extensions.setdefault(_CACHE_KEY, {})
    if method not in hashes:
        hashes[method] = generate_password_hash(secrets.token_urlsafe(24), method=method)
    return hashes[method]


def check(password_hash: str | None, password: str) -> bool:
    """`password` against `password_hash`; with no hash (no account, no password set yet), the
    same work against a throwaway hash, and False."""
    if not password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return False
    return check_password_hash(password_hash, password or "")


def warm_up(app) -> None:
    """Make the throwaway hash at start-up, so the first unknown address is not the slow one."""
    with app.app_context():
        _dummy_hash()
