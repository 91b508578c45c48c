"""HTTP concerns shared by every blueprint: errors as HTML or JSON, security headers."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, SecurityError

from consult import database
from consult.errors import ConsultError
from consult.extensions import db
from consult.security import log as security_log

# Snake-case codes for HTTP errors raised by Flask/Werkzeug itself.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


SECURITY_HEADERS = (  # on every response, unless the view set its own
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def _html_error(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


def _default_message(status: int) -> str:
    messages = {
        400: _("请求无效。"),
        401: _("请先登录。"),
        403: _("您无权进行此操作。"),
        404: _("找不到您要访问的页面。"),
        405: _("不支持此请求方法。"),
        409: _("当前状态不允许此操作。"),
        413: _("提交的内容过大。"),
        422: _("提交的内容有误，请检查后重试。"),
        429: _("提交过于频繁，请稍后再试。"),
        500: _("服务器出现错误，请稍后再试。"),
        503: _("服务暂时不可用，请稍后再试。"),
    }
    return messages.get(status, _("请求无法完成。"))


def init_app(app: Flask) -> None:
    @app.errorhandler(ConsultError)
    def _domain_error(error: ConsultError):
        message = error.message or _default_message(error.status)
        if wants_json():
            extra = {"fields": error.fields} if error.fields else {}
            response = json_error(error.status, error.code, message, **extra)
        else:
            response = _html_error(error.status, message)
        if error.retry_after is not None:
            response = (*response, {"Retry-After": str(error.retry_after)})
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        message = _("表单已失效或来源不可信（CSRF 校验失败），请返回刷新页面后重新提交。")
        security_log.event("csrf_failed", method=request.method, path=security_log.redacted_path())
        if wants_json():
            return json_error(400, "csrf_failed", message)
        return _html_error(400, message)

    @app.errorhandler(SecurityError)
    def _untrusted_host(error: SecurityError):
        """A Host this site does not answer to (TRUSTED_HOSTS, consult/urls.py): a plain 400.

        No URL can be built for such a request, so no page template (they all link) is used.
        """
        message = _("请求的网站地址（Host）不属于本网站。")
        security_log.event("untrusted_host", host=request.headers.get("Host", "")[:100])
        if wants_json():
            return json_error(400, "untrusted_host", message)
        page = f"<!doctype html><meta charset=utf-8><title>400</title><p>{escape(message)}</p>"
        return Response(page, 400, mimetype="text/html")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        if wants_json():
            return json_error(status, HTTP_CODES.get(status, "error"), _default_message(status))
        return _html_error(status, _default_message(status))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool replaces it
            app.logger.warning("rollback failed", exc_info=True)
        if database.is_busy(error):
            # Locked, out of connections or down for a moment: try again, never a 500.
            app.logger.warning("database busy: %s", str(error).splitlines()[0][:300])
            return _domain_error(database.DatabaseBusy())
        app.logger.exception("unhandled error")
        if wants_json():
            return json_error(500, "internal_error", _default_message(500))
        return _html_error(500, _default_message(500))

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # What a view set stays (a page may need another CSP); the others are added. One look
        # at the names: Werkzeug's `setdefault` raises and catches a KeyError for each absent.
        present = {name.lower() for name, _value in headers.items()}
        for name, value in SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        return response
