"""Login throttling: repeated failures slow sign-in down, per account and per client.

After LOGIN_THROTTLE_AFTER failures (default 3) the next attempt must wait 2^(N - 3) seconds
after the Nth failure, capped at LOGIN_THROTTLE_MAX_DELAY: 1, 2, 4, 8 s... An attempt during the
wait is answered 429 with Retry-After; its password is not checked and it does not count, so it
cannot lengthen the wait. Nothing is ever locked.

Per account (the address tried, whether or not it exists, so that the answers tell nobody who has
an account) and per client (the rate-limit client: an IPv4 address or an IPv6 /64), for staff and
citizen sign-in alike. The counters live in the database, so every worker and host sees them.

So that nobody can keep an approver out on deadline day by failing on their account from many
addresses, a browser that has signed in to the account before carries a signed mark of it
(`login_device`, LOGIN_DEVICE_DAYS) and is not held up by the account's counter — only by its own
client's. A successful sign-in clears that client's counter; platform admins see and clear any
counter (/staff/security/logins, `flask --app app security clear-logins`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from consult import clock
from consult.extensions import db
from consult.security.models import LoginKind, LoginThrottle, ThrottleScope
from consult.tokens import LinkExpired, LinkInvalid, make_token, read_token

DEVICE_COOKIE = "login_device"
DEVICE_SALT = "login-device"


class Throttled(Exception):
    """Sign-in must wait `retry_after` seconds (answered 429 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def normalize(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def delay_after(failures: int) -> int:
    """Seconds the next attempt waits after the `failures`-th failure in a row."""
    start = current_app.config["LOGIN_THROTTLE_AFTER"]
    if failures < start:
        return 0
    cap = current_app.config["LOGIN_THROTTLE_MAX_DELAY"]
    return min(2 ** min(failures - start, 32), cap)


def _forget_before(now: datetime) -> datetime:
    return now - timedelta(hours=current_app.config["LOGIN_THROTTLE_FORGET_HOURS"])


def _live(row: LoginThrottle, now: datetime) -> bool:
    return row.last_failure_at >= _forget_before(now)


def wait_for(row: LoginThrottle, now: datetime | None = None) -> int:
    """Whole seconds left before `row` lets the next attempt through (0: none)."""
    now = now or clock.now()
    if not _live(row, now):
        return 0
    ready = row.last_failure_at + timedelta(seconds=delay_after(row.failures))
    return max(0, math.ceil((ready - now).total_seconds()))


def _rows(kind: LoginKind, email: str, client: str) -> list[LoginThrottle]:
    return db.session.scalars(db.select(LoginThrottle).where(
        LoginThrottle.kind == kind,
        db.or_(db.and_(LoginThrottle.scope == ThrottleScope.ACCOUNT,
                       LoginThrottle.key == normalize(email)),
               db.and_(LoginThrottle.scope == ThrottleScope.CLIENT,
                       LoginThrottle.key == client)),
    )).all()


def check(kind: LoginKind, email: str, client: str, *, known_device: bool = False) -> None:
    """Raise Throttled while this account or this client must wait."""
    now = clock.now()
    waits = [wait_for(row, now) for row in _rows(kind, email, client)
             if not (known_device and row.scope == ThrottleScope.ACCOUNT)]
    if max(waits, default=0) > 0:
        raise Throttled(max(waits))


def record_failure(kind: LoginKind, email: str, client: str) -> None:
    """Count a failed sign-in against the account and the client."""
    now = clock.now()
    db.session.execute(db.delete(LoginThrottle).where(  # forgotten counters go
        LoginThrottle.last_failure_at < _forget_before(now)))
    for scope, key in ((ThrottleScope.ACCOUNT, normalize(email)),
                       (ThrottleScope.CLIENT, client)):
        _bump(kind, scope, key, now)
    db.session.flush()


def _bump(kind: LoginKind, scope: ThrottleScope, key: str, now: datetime) -> None:
    where = (LoginThrottle.kind == kind, LoginThrottle.scope == scope, LoginThrottle.key == key)
    row = db.session.scalar(db.select(LoginThrottle).where(*where))
    if row is None:
        try:
            with db.session.begin_nested():  # a concurrent first failure may insert it first
                db.session.add(LoginThrottle(kind=kind, scope=scope, key=key, failures=1,
                                             first_failure_at=now, last_failure_at=now))
            return
        except IntegrityError:
            row = db.session.scalar(db.select(LoginThrottle).where(*where))
    # Incremented in SQL, so that two workers counting at once both count.
    db.session.execute(db.update(LoginThrottle).where(LoginThrottle.id == row.id).values(
        failures=LoginThrottle.failures + 1, last_failure_at=now))
    db.session.refresh(row)


def record_success(kind: LoginKind, client: str) -> None:
    """A sign-in from this client worked: its counter starts again from nothing."""
    db.session.execute(db.delete(LoginThrottle).where(
        LoginThrottle.kind == kind, LoginThrottle.scope == ThrottleScope.CLIENT,
        LoginThrottle.key == client))
    db.session.flush()


# ------------------------------------------------------------------ the mark of a known browser


def _account_digest(kind: LoginKind, email: str) -> str:
    return hashlib.sha256(f"{kind.value}:{normalize(email)}".encode()).hexdigest()[:32]


def device_mark(kind: LoginKind, email: str) -> str:
    """The signed cookie value saying "this browser has signed in to this account"."""
    return make_token(DEVICE_SALT, {"a": _account_digest(kind, email)})


def is_known_device(mark: str | None, kind: LoginKind, email: str) -> bool:
    if not mark:
        return False
    try:
        payload = read_token(DEVICE_SALT, mark,
                             max_age_days=current_app.config["LOGIN_DEVICE_DAYS"])
    except (LinkInvalid, LinkExpired):
        return False
    return isinstance(payload, dict) and payload.get("a") == _account_digest(kind, email)


# ------------------------------------------------------------------ what admins see and clear


@dataclass
class Counter:
    row: LoginThrottle
    wait: int


def live_counters() -> list[Counter]:
    """Every counter not yet forgotten, the most recent failure first."""
    now = clock.now()
    rows = db.session.scalars(
        db.select(LoginThrottle).where(LoginThrottle.last_failure_at >= _forget_before(now))
        .order_by(LoginThrottle.last_failure_at.desc(), LoginThrottle.id.desc())
    ).all()
    return [Counter(row, wait_for(row, now)) for row in rows]


def clear(*, ids: list[int] | None = None, email: str | None = None, client: str | None = None,
          everything: bool = False) -> int:
    """Delete counters: by id, every counter of an address or of a client, or all of them."""
    query = db.delete(LoginThrottle)
    if everything:
        pass
    elif ids is not None:
        query = query.where(LoginThrottle.id.in_(ids))
    elif email is not None:
        query = query.where(LoginThrottle.scope == ThrottleScope.ACCOUNT,
                            LoginThrottle.key == normalize(email))
    elif client is not None:
        query = query.where(LoginThrottle.scope == ThrottleScope.CLIENT,
                            LoginThrottle.key == client.strip())
    else:
        raise ValueError("say which counters to clear")
    count = db.session.execute(query).rowcount
    db.session.flush()
    return count
