"""Absolute links: always on the configured BASE_URL, never on the request's Host.

A link built from the request's `Host` (or, behind a proxy, `X-Forwarded-Host`) is the
attacker's to choose: a password-reset mail asked for with `Host: evil.example` would carry the
victim's token to evil.example (SECURITY.md, finding 1). So every absolute URL the site writes —
mail, JSON links, PDFs, cache entries — is built here, from configuration only (SPEC §5).
`TRUSTED_HOSTS` is the second guard: a request naming any other host is refused (400).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import SecurityError

# Names a laptop, a health check or a reverse proxy on the same machine may use; the site is
# served dual-stack, so the IPv6 loopback too.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def check_base_url(value: str) -> str:
    """BASE_URL as configured, refused at start-up unless it is an http(s) URL with a host."""
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ValueError(f"BASE_URL must look like https://consult.example.gov.cn, not {value!r}")
    return value.rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on BASE_URL, in a request or outside one (CLI, worker)."""
    app = current_app
    anchor = values.pop("_anchor", None)
    app.inject_url_defaults(endpoint, values)
    url = _adapter(app).build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(str(anchor), safe="/!$&'()*+,;=:@?")
    return url


def _adapter(app: Flask):
    """The URL map bound to BASE_URL: made once per app (again if BASE_URL changes)."""
    base_url = app.config["BASE_URL"]
    kept = app.extensions.get("consult_base_url_adapter")
    if kept is None or kept[0] != base_url:
        base = urlsplit(base_url)
        kept = app.extensions["consult_base_url_adapter"] = (base_url, app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme))
    return kept[1]


def trusted_hosts(config) -> list[str] | None:
    """The host names this site answers to (Flask's TRUSTED_HOSTS), or None for any.

    TRUSTED_HOSTS unset: BASE_URL's host (and SERVER_NAME's, if set) plus the local names.
    A comma-separated list replaces that; `*` turns the check off (a proxy in front checks).
    """
    raw = config.get("TRUSTED_HOSTS")
    if raw is None:
        names = [urlsplit(config["BASE_URL"]).hostname]
        if config.get("SERVER_NAME"):
            names.append(urlsplit("//" + config["SERVER_NAME"]).hostname)
        names += LOCAL_NAMES
    elif isinstance(raw, str):
        names = [name.strip() for name in raw.split(",")]
    else:
        names = [str(name).strip() for name in raw]
    names = [name for name in names if name]
    if "*" in names:
        return None
    return list(dict.fromkeys(filter(None, map(_hostname, names))))


def _hostname(host: str) -> str | None:
    """A Host header's (or a configured name's) host, lower case, without port or brackets:
    `[::1]:5000` → `::1`. Werkzeug's own TRUSTED_HOSTS check cannot match IPv6 literals."""
    host = host.strip()
    if host.count(":") > 1 and not host.startswith("["):  # a bare IPv6 address: ::1
        host = f"[{host}]"
    try:
        name = urlsplit("//" + host).hostname
    except ValueError:  # an unbalanced bracket, a bad port
        return None
    return name.rstrip(".") if name else None


def init_app(app: Flask) -> None:
    """Refuse requests for any host but the site's own (400), before any view runs."""
    names = app.config.get("SITE_HOSTS")
    if names is None:
        return
    allowed = frozenset(names)

    @app.before_request
    def _check_host():
        if _hostname(request.host) not in allowed:
            raise SecurityError()

