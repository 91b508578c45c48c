"""Rate limits per client (F11), with Flask-Limiter.

A client is an IPv4 address, or an IPv6 /64 network: one household or phone gets a whole /64
from its provider and can pick any address in it, so counting addresses would count nothing.
IPv4-mapped IPv6 addresses (a dual-stack server on `::` sees IPv4 clients as ::ffff:a.b.c.d)
count as the IPv4 address. `X-Forwarded-For` is believed only behind a configured proxy
(`PROXY_FIX`, which makes `request.remote_addr` the forwarded address); otherwise anyone could
be any client.

Counters live in Redis when `REDIS_URL` is set — shared by every worker and host, so a limit
holds across processes — and in this process's memory otherwise. A Redis outage lets requests
through (logged) rather than turn them into 500s.

Each app gets its own `Limiter` (Flask-Limiter keeps its storage on the instance, so one
instance cannot serve two apps, e.g. two test apps on different storages); `consult.extensions
.limiter` is the current app's. The limits are attached to endpoints here, by name, so the views
stay free of rate-limit code.
"""

from __future__ import annotations

import ipaddress

from flask import Flask, current_app, request
from flask_limiter import Limiter

EXTENSION_KEY = "consult_limiter"

# One budget for every way of submitting a comment: the web form and the API.
COMMENT_ENDPOINTS = ("comments.new", "api.submit_comment")
COMMENT_SCOPE = "comment_submission"
# Password guessing and mail-sending forms; endpoints that are not registered are skipped.
LOGIN_ENDPOINTS = ("auth.login", "citizens.login", "citizens.register", "citizens.reset",
                   "citizens.erase_request", "consultations.subscribe")


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


def _comment_limit() -> str:
    return current_app.config["COMMENT_RATE_LIMIT"]


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

    comment_limit = limiter.shared_limit(_comment_limit, scope=COMMENT_SCOPE, methods=["POST"])
    for endpoint in COMMENT_ENDPOINTS:
        app.view_functions[endpoint] = comment_limit(app.view_functions[endpoint])
    login_limit = limiter.limit(_login_limit, methods=["POST"])
    for endpoint in LOGIN_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = login_limit(app.view_functions[endpoint])
    return limiter


def _retry_after_only_when_limited(response):
    if response.status_code == 429:
        # Flask-Limiter rounds down: "0" would invite an immediate retry.
        value = response.headers.get("Retry-After", "")
        if not value.isdigit() or int(value) < 1:
            response.headers["Retry-After"] = "1"
    elif response.status_code < 400 and response.status_code != 202:
        # (a 202 "being prepared" answer keeps its own: when to ask again)
        response.headers.pop("Retry-After", None)
    return response
