"""Languages: Simplified Chinese by default; Traditional Chinese and English on request."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from babel import support
from flask import Flask, g, has_request_context, request, session, url_for
from flask_babel import format_datetime, get_locale, get_translations
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


def _translations():
    """The translations of the language in force, looked up once per request and language.

    Flask-Babel's own template callables look them up again for every string (~10 context
    lookups each; a consultation page has ~150 strings: ~15 % of its rendering). The catalog
    is kept on Flask-Babel's per-request namespace beside the locale it belongs to, so
    `force_locale` (a mail or a file in the reader's language) gets its own."""
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None)
    if locale is None:  # not chosen yet in this request: Flask-Babel chooses it
        return get_translations()
    kept = getattr(ctx, "consult_translations", None)
    if kept is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    ctx.consult_translations = (locale, translations)
    return translations


def init_app(app: Flask) -> None:
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="../translations"
    )
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
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
        locale = str(get_locale() or "zh_Hans")
        return {
            "html_lang": locale.replace("_", "-"),
            # Documents (drafts, comments, reports, policies) are written in Simplified Chinese:
            # marked with `lang` on pages in another language, with a short notice.
            "content_lang": CONTENT_LANG,
            "foreign_content": locale != "zh_Hans",
            "language_url": language_url,
            "large_text_url": large_text_url,
            "large_text": large_text(),
        }


CONTENT_LANG = "zh-Hans"


def language_url(language: str) -> str:
    """This page in another language: the same path and query, `lang` replaced. Built from the
    URL alone, so every visitor of one URL gets the same HTML (the render cache)."""
    if not has_request_context():
        return f"/?{urlencode({'lang': language})}"
    return _with_arg("lang", language)


LARGE_COOKIE = "large"  # "1": this browser chose 长者模式 (set by /large-text or large.js)
LARGE_COOKIE_MAX_AGE = 365 * 86400


def large_remembered() -> bool:
    """Whether this browser chose 长者模式 (the cookie). Any other value is the standard mode:
    a page has exactly two variants (the render cache keys on this)."""
    return has_request_context() and request.cookies.get(LARGE_COOKIE) == "1"


def large_text_url(on: bool) -> str:
    """The switch of 长者模式 (large text) on this page: `/large-text?on=1&next=<this page>`
    remembers the choice in this browser (a cookie, for a year) and comes back — without
    JavaScript; with it, static/js/large.js switches at once and sets the same cookie."""
    value = "1" if on else "0"
    if not has_request_context():
        return f"/large-text?{urlencode({'on': value})}"
    return url_for("main.large_text", on=value, next=_here(exclude="large"))


def large_text() -> bool | None:
    """The mode of this page: the URL's `?large=1` / `?large=0` (one page, as a link shared by
    a relative), else the browser's remembered choice: True, False, or None (standard)."""
    if not has_request_context():
        return None
    value = {"1": True, "0": False}.get(request.args.get("large"))
    if value is None and large_remembered():
        return True
    return value


def _args(exclude: str) -> list[tuple[str, str]]:
    """This page's query but `exclude`. `lang` is left out (the choice stays in the session);
    on a page the render cache keeps (consult/pagecache.py), so is every parameter the page does
    not read: the links of a stored page must be the same for every URL it is stored for."""
    kept = g.get("page_params")
    return [(key, v) for key, v in request.args.items(multi=True)
            if key not in (exclude, "lang") and (kept is None or key in kept)]


def _with_arg(name: str, value: str) -> str:
    """This page's URL with `name=value` (see `_args`)."""
    args = [*_args(name), (name, value)]
    return f"{request.script_root}{request.path}?{urlencode(args)}"


def _here(exclude: str) -> str:
    """This page's path and query but `exclude` (see `_args`), to come back to."""
    args = _args(exclude)
    return f"{request.script_root}{request.path}" + (f"?{urlencode(args)}" if args else "")
