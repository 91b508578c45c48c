"""Languages: Simplified Chinese by default; Traditional Chinese and English on request."""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import format_datetime

from consult import audit, clock
from consult.extensions import babel
from consult.labels import label


def select_locale() -> str:
    if not has_request_context():
        return "zh_Hans"
    languages = _languages()
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    return "zh_Hans"


def _languages() -> list[str]:
    from flask import current_app

    return current_app.config["LANGUAGES"]


def local_datetime(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A datetime in the configured time zone, for templates."""
    if value is None:
        return ""
    return format_datetime(clock.local(value), fmt)


def local_date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = clock.local(value).date()
    return value.isoformat()


def init_app(app: Flask) -> None:
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="../translations"
    )
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["audit_action"] = audit.action_label

    @app.context_processor
    def _language():
        from flask_babel import get_locale

        return {"html_lang": str(get_locale() or "zh_Hans").replace("_", "-")}
