"""What staff and citizen sign-in share: throttling, the known-browser mark, the security log.

The views call `guard` before checking a password, then `failed` or `succeeded`, and commit once.
"""

from __future__ import annotations

from flask import current_app, g, make_response, render_template, request
from flask_babel import gettext as _

from consult.ratelimit import client_key
from consult.security import https, throttle
from consult.security import log as security_log
from consult.security.models import LoginKind


def guard(kind: LoginKind, email: str) -> int:
    """Seconds this attempt must wait (0: go ahead); a wait is logged."""
    known = throttle.is_known_device(request.cookies.get(throttle.DEVICE_COOKIE), kind, email)
    try:
        throttle.check(kind, email, client_key(), known_device=known)
    except throttle.Throttled as wait:
        security_log.event("login_throttled", kind=kind.value,
                           account=security_log.account_ref(kind.value, email),
                           retry_after=wait.retry_after)
        return wait.retry_after
    return 0


def throttled(template: str, seconds: int, **context):
    """The sign-in page again, 429 with Retry-After."""
    error = _("登录失败次数较多，为保护账号安全，请 %(n)d 秒后再试。", n=seconds)
    response = make_response(render_template(template, error=error, **context), 429)
    response.headers["Retry-After"] = str(seconds)
    g.retry_after = seconds  # Flask-Limiter's header would say when its own window resets
    return response


def failed(kind: LoginKind, email: str) -> None:
    """Count and log a failed attempt (the caller commits)."""
    throttle.record_failure(kind, email, client_key())
    security_log.event("login_failed", kind=kind.value,
                       account=security_log.account_ref(kind.value, email))


def succeeded(kind: LoginKind, email: str, response, *, account_id: int):
    """Clear this client's counter, log, and mark the browser as one that signed in here."""
    throttle.record_success(kind, client_key())
    security_log.event("login", kind=kind.value,
                       account=security_log.account_ref(kind.value, email), id=account_id)
    response = make_response(response)
    response.set_cookie(
        throttle.DEVICE_COOKIE, throttle.device_mark(kind, email),
        max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400, httponly=True,
        samesite="Lax", secure=https.cookie_secure(),
    )
    return response
