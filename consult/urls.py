"""Absolute links: always on the configured BASE_URL, never on the request's Host.

A link built from the request's `Host` (or, behind a proxy, `X-Forwarded-Host`) is the
attacker's to choose: a password-reset mail asked for with `Host: evil.example` would carry the
victim's token to evil.example (SECURITY.md, finding 1). So every absolute URL the site writes —
mail, JSON links, PDFs, cache entries — is built here, from configuration only (SPEC §5).
`TRUSTED_HOSTS` is the second guard: a request naming any other host is refused (400).
"""

from __future__ import annotations

import re
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
    app = current_app._get_current_object()  # one context lookup, not one per attribute
    anchor = values.pop("_anchor", None)
    app.inject_url_defaults(endpoint, values)
    base = _base(app)
    url = _from_template(app, base, endpoint, values)
    if url is None:
        url = base.adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(str(anchor), safe="/!$&'()*+,;=:@?")
    return url


class _Base:
    """The URL map bound to BASE_URL, and the URLs built from it with stand-ins (`_template`)."""

    def __init__(self, app: Flask, base_url: str):
        self.base_url = base_url
        parts = urlsplit(base_url)
        self.adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                        url_scheme=parts.scheme)
        self.templates: dict[tuple, tuple[str, ...] | None] = {}


def _base(app: Flask) -> _Base:
    """Made once per app (again if BASE_URL changes)."""
    base_url = app.config["BASE_URL"]
    kept = app.extensions.get("consult_base_url")
    if kept is None or kept.base_url != base_url:
        kept = app.extensions["consult_base_url"] = _Base(app, base_url)
    return kept


# RFC 3986's unreserved characters: what every converter and the query string write as they
# are. An URL whose values are all of these is the URL built once with stand-ins for them, the
# values put in their places (a comment POST builds two URLs: Werkzeug's build was 3 % of it).
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")
_STAND_IN = "zq0standin{}z"


def _from_template(app: Flask, base: _Base, endpoint: str, values: dict) -> str | None:
    for value in values.values():
        if type(value) is not str or not _PLAIN.fullmatch(value):
            return None
    names = tuple(values)
    key = (endpoint, names)
    try:
        parts = base.templates[key]
    except KeyError:
        parts = base.templates[key] = _template(app, base, endpoint, names)
    if parts is None:
        return None
    url = [parts[0]]
    for name, part in zip(names, parts[1:], strict=True):
        url += (values[name], part)
    return "".join(url)


def _template(app: Flask, base: _Base, endpoint: str, names: tuple[str, ...]):
    """The URL of `endpoint` cut where each of `names` goes, or None where a value's place is
    not a plain copy of it (a converter that changes it, a rule chosen by a default's value)."""
    if any(rule.defaults for rule in app.url_map.iter_rules(endpoint)):
        return None
    stand_ins = [_STAND_IN.format(i) for i in range(len(names))]
    try:
        url = base.adapter.build(endpoint, dict(zip(names, stand_ins, strict=True)),
                                 force_external=True)
    except Exception:  # noqa: BLE001 - the build proper says what is wrong
        return None
    parts = []
    for stand_in in stand_ins:
        if url.count(stand_in) != 1:
            return None
        before, url = url.split(stand_in)
        parts.append(before)
    return (*parts, url)


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

