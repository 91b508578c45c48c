"""Rate limits per person and per client (F11), with Flask-Limiter and its `limits` storage.

A client is an IPv4 address, or an IPv6 /64 network: one household or phone gets a whole /64
from its provider and can pick any address in it, so counting addresses would count nothing.
IPv4-mapped IPv6 addresses (a dual-stack server on `::` sees IPv4 clients as ::ffff:a.b.c.d)
count as the IPv4 address. `X-Forwarded-For` is believed only behind a configured proxy
(`PROXY_FIX`, which makes `request.remote_addr` the forwarded address); otherwise anyone could
be any client.

Counters live in Redis when `REDIS_URL` is set — shared by every worker and host, so a limit
holds across processes — and in this process's memory otherwise. A Redis outage lets requests
through (logged) rather than turn them into 500s.

Comments are limited twice (`comment_gate`), so that a crowd behind one address — a mobile
carrier's NAT, an office, a school — is not turned away:
- per person (`COMMENT_RATE_LIMIT`, SPEC §5's 10 per 10 minutes): a signed-in citizen account,
  else the browser session's client id (`session_client`, a random id kept in the session
  cookie with the CSRF token), else the e-mail address given to the API, else the client address;
- per client address (`COMMENT_ADDRESS_RATE_LIMIT`, sized for a NAT: many people, one address).
  Above it a submission is not refused but must be verified: it is kept as unverified and counts
  once its author follows the link mailed to them (without an e-mail address the form asks for
  one). Only above `COMMENT_ADDRESS_HARD_LIMIT` is an address refused (429).

Each app gets its own `Limiter` (Flask-Limiter keeps its storage on the instance, so one
instance cannot serve two apps, e.g. two test apps on different storages); `consult.extensions
.limiter` is the current app's. The limits are attached to endpoints here, by name, so the views
stay free of rate-limit code.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request, session
from flask_limiter import Limiter
from limits import parse

from consult.errors import RateLimited

EXTENSION_KEY = "consult_limiter"
SESSION_CLIENT = "client"

log = logging.getLogger(__name__)
# Password guessing and mail-sending forms; endpoints that are not registered are skipped.
LOGIN_ENDPOINTS = ("auth.login", "citizens.login", "citizens.register", "citizens.reset",
                   "citizens.erase_request", "consultations.subscribe")


@functools.lru_cache(maxsize=4096)  # parsed once per address, not twice per comment
def client_id(address: str | None) -> str:
    """The client an address belongs to: the IPv4 address, or the IPv6 address's /64."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_key() -> str:
    """Flask-Limiter's key function: the client of the current request."""
    return client_id(request.remote_addr)


def storage_uri(config) -> str:
    """RATELIMIT_STORAGE_URI if set, else REDIS_URL, else this process's memory."""
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def init_app(app: Flask) -> Limiter:
    """Bind a Limiter to `app` and put the limits on their endpoints (after the blueprints)."""
    # Registered before the Limiter's own after_request, so it runs after it (Flask runs them
    # in reverse): Retry-After belongs on a 429, not on every 201 or 303 that was counted.
    app.after_request(_retry_after_only_when_limited)
    uri = storage_uri(app.config)
    options = {}
    if not uri.startswith("memory://"):
        # Fail fast when the storage is down; the error is swallowed and the request served.
        options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    limiter = Limiter(
        key_func=client_key,
        storage_uri=uri,
        storage_options=options,
        headers_enabled=app.config.get("RATELIMIT_HEADERS_ENABLED", True),
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "consult"),
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter

    login_limit = limiter.limit(_login_limit, methods=["POST"])
    for endpoint in LOGIN_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = login_limit(app.view_functions[endpoint])
    return limiter


def _retry_after_only_when_limited(response):
    if response.status_code == 429:
        own = g.pop("retry_after", None)
        if own is not None:  # a 429 of the app's own (login throttling) knows its wait
            response.headers["Retry-After"] = str(own)
            return response
        # Flask-Limiter rounds down: "0" would invite an immediate retry.
        value = response.headers.get("Retry-After", "")
        if not value.isdigit() or int(value) < 1:
            response.headers["Retry-After"] = "1"
    elif response.status_code < 400 and response.status_code != 202:
        # (a 202 "being prepared" answer keeps its own: when to ask again)
        response.headers.pop("Retry-After", None)
    return response


# ------------------------------------------------------------------ comments: person and address


@dataclass(frozen=True)
class Gate:
    """What the limits say of one comment submission that may go ahead."""

    verify: bool = False  # the address is over its limit: the comment must be verified


def session_client() -> str:
    """This browser session's anonymous client id, made when a form is first shown: whose form
    nonces these are (consult/comments/idempotency.py) and who the person is for the limits."""
    value = session.get(SESSION_CLIENT)
    if not isinstance(value, str) or not value:
        value = session[SESSION_CLIENT] = secrets.token_urlsafe(16)
    return value


def comment_person(*, citizen=None, email: str | None = None) -> str:
    """Who is submitting, for the per-person limit (see the module docstring)."""
    if citizen is not None:
        return f"citizen:{citizen.id}"
    person = session.get(SESSION_CLIENT)
    if isinstance(person, str) and person:
        return f"session:{person}"
    if email and email.strip():
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
        return f"email:{digest}"
    return f"address:{client_key()}"


def comment_gate(person: str) -> Gate:
    """Count one comment submission of `person` from this request's client address.

    Raises RateLimited (429 with Retry-After) above the per-person limit or the address's hard
    limit; answers Gate(verify=True) above the address's limit. When the counters cannot be
    reached (Redis down) the submission goes ahead, and the log says so.
    """
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return Gate()
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "consult"
    address = f"address:{client_key()}"
    checks = (
        ("comment-address-hard", config["COMMENT_ADDRESS_HARD_LIMIT"], address),
        ("comment-person", config["COMMENT_RATE_LIMIT"], person),
    )
    strategy = current_app.extensions[EXTENSION_KEY].limiter
    try:
        for scope, value, key in checks:
            limit = parse(value)
            if not strategy.hit(limit, prefix, scope, key):
                reset_at, _remaining = strategy.get_window_stats(limit, prefix, scope, key)
                raise RateLimited(retry_after=int(reset_at - time.time()) + 1)
        over = not strategy.hit(parse(config["COMMENT_ADDRESS_RATE_LIMIT"]), prefix,
                                "comment-address", address)
    except RateLimited:
        raise
    except Exception as error:  # the counters' storage is down: fail open, loudly
        log.warning("comment rate limits not applied (storage unavailable): %s", error)
        return Gate()
    return Gate(verify=over)
