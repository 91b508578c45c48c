"""Languages: Simplified Chinese by default; Traditional Chinese and English on request."""

from __future__ import annotations

from functools import lru_cache

from babel import support
from flask import Flask, has_request_context, request, session
from flask_babel import format_datetime, get_locale
from wtforms.i18n import messages_path

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


DEFAULT_DATETIME = "yyyy-MM-dd HH:mm"


def local_datetime(value, fmt: str = DEFAULT_DATETIME) -> str:
    """A datetime in the configured time zone, for templates."""
    if value is None:
        return ""
    if fmt == DEFAULT_DATETIME:  # digits only, the same in every language: no Babel needed
        return clock.local(value).strftime("%Y-%m-%d %H:%M")  # (a page shows dozens)
    return format_datetime(clock.local(value), fmt)


def local_date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = clock.local(value).date()
    return value.isoformat()


@lru_cache(maxsize=8)
def _wtforms_catalog(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsTranslations:
    """WTForms' own messages in the request's language, each catalog parsed once per process.

    Flask-WTF would parse the catalog file again in every request that builds a form (~1 ms);
    it uses `request.wtforms_translations` when that is set, so it is set to this.
    """

    def ugettext(self, string: str) -> str:
        return _wtforms_catalog(str(get_locale())).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalog(str(get_locale())).ungettext(singular, plural, n)


_WTFORMS_TRANSLATIONS = _WTFormsTranslations()


def init_app(app: Flask) -> None:
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="../translations"
    )
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["audit_action"] = audit.action_label

    @app.before_request
    def _wtforms_translations():
        request.wtforms_translations = _WTFORMS_TRANSLATIONS

    @app.context_processor
    def _language():
        return {"html_lang": str(get_locale() or "zh_Hans").replace("_", "-")}
