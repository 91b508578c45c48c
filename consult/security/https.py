"""HTTPS: HSTS and `Secure` cookies whenever the site is served over HTTPS (finding 6).

"Served over HTTPS" is: this request came over HTTPS (behind PROXY_FIX, as X-Forwarded-Proto
says), or BASE_URL is https — not only in production mode. Then every response carries
`Strict-Transport-Security` (HSTS_MAX_AGE, HSTS_INCLUDE_SUBDOMAINS) and every cookie the site
sets (session, remember-me, login-device mark) is `Secure`. SESSION_COOKIE_SECURE=true still
makes cookies Secure everywhere.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface


def served_over_https() -> bool:
    if current_app.config["BASE_URL"].startswith("https://"):
        return True
    return has_request_context() and request.is_secure


def cookie_secure() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or served_over_https()


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, `Secure` whenever the site is served over HTTPS.

    Its signer is made once per key, not for every request: Flask makes a new one each time
    it opens or saves a session — for a request without a cookie too, where nothing is read —
    and the shell of every request paid for it (bench/instructions.py)."""

    def __init__(self) -> None:
        self._signers: dict = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        signer = self._signers.get(keys)
        if signer is None:
            if len(self._signers) > 8:  # keys changed (tests): never grows without bound
                self._signers.clear()
            signer = self._signers[keys] = super().get_signing_serializer(app)
        return signer

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure()


def _hsts(response):
    if served_over_https():
        max_age = int(current_app.config["HSTS_MAX_AGE"])
        value = f"max-age={max_age}"
        if current_app.config.get("HSTS_INCLUDE_SUBDOMAINS"):
            value += "; includeSubDomains"
        response.headers.setdefault("Strict-Transport-Security", value)
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    if app.config["BASE_URL"].startswith("https://"):
        # Flask-Login reads this when it sets a remember-me cookie (the site sets none today).
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.after_request(_hsts)
