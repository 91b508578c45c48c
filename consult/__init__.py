"""Consult: public participation in rule-making, end to end."""

from __future__ import annotations

import logging
import secrets
from types import FunctionType

from flask import Flask

from consult.config import INSTANCE_DIR, Config, TestingConfig


class ConsultFlask(Flask):
    """Flask, remembering which of its functions are plain (synchronous) ones.

    Flask asks `inspect.iscoroutinefunction` of every before/after-request hook and view on
    every request (`ensure_sync`): some twenty calls a request here, ~1 % of a comment POST's
    instructions (bench/instructions.py). The answer for a function never changes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain: set = set()

    def ensure_sync(self, func):
        if func in self._plain:
            return func
        synced = super().ensure_sync(func)
        if synced is func and isinstance(func, FunctionType):  # not bound methods: no growth
            self._plain.add(func)
        return synced


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Build the application. `config` is a Config class or a dict of overrides (tests)."""
    app = ConsultFlask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    if isinstance(config, dict):
        app.config.from_object(TestingConfig if config.get("TESTING") else Config)
        app.config.update(config)
    else:
        app.config.from_object(config or _config_from_environment())
    INSTANCE_DIR.mkdir(exist_ok=True)
    from consult.urls import check_base_url, trusted_hosts

    app.config["BASE_URL"] = check_base_url(app.config["BASE_URL"])
    # The hosts this site answers to, checked by consult.urls (Flask's own check cannot match
    # an IPv6 literal such as [::1], and the site is served dual-stack).
    app.config["SITE_HOSTS"] = trusted_hosts(app.config)
    app.config["TRUSTED_HOSTS"] = None
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key()
    logging.basicConfig(level=logging.INFO)
    app.json.ensure_ascii = False  # readable Chinese in JSON responses

    from consult import database, extensions, http, i18n, settings, urls
    from consult.jobs import transport
    from consult.security import https
    from consult.security import log as security_log

    ext = extensions
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **database.engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    ext.db.init_app(app)
    database.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(INSTANCE_DIR.parent / "migrations"))
    ext.login_manager.init_app(app)
    ext.mail.init_app(app)
    ext.csrf.init_app(app)
    i18n.init_app(app)
    transport.init_app(app)
    http.init_app(app)
    urls.init_app(app)
    https.init_app(app)
    security_log.init_app(app)
    settings.init_app(app)

    _import_models()
    from consult import pagecache, routes

    pagecache.init_app(app)
    from consult.paging import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    routes.register_blueprints(app)
    _init_abuse_control(app)

    from consult import cli
    from consult.security import passwords

    cli.init_app(app)
    passwords.warm_up(app)
    return app


def _config_from_environment() -> type[Config]:
    import os

    from consult.config import ProductionConfig

    return ProductionConfig if os.environ.get("CONSULT_ENV") == "production" else Config


def _import_models() -> None:
    """Import every model module so the metadata (and Alembic) sees all tables, and every module
    that receives domain events (`consult.signals`), so that no event goes unheard."""
    from consult import audit, mail, settings, uploads  # noqa: F401
    from consult.answers import models as _a  # noqa: F401
    from consult.answers import revisions as _r  # noqa: F401  (comments → answers)
    from consult.apitokens import models as _t  # noqa: F401
    from consult.auth import models as _u  # noqa: F401
    from consult.catalogue import models as _k  # noqa: F401
    from consult.citizens import models as _z  # noqa: F401
    from consult.comments import models as _c  # noqa: F401
    from consult.comments import services as _cs  # noqa: F401  (consultations → comments)
    from consult.consultations import models as _s  # noqa: F401
    from consult.feeds import models as _f  # noqa: F401
    from consult.hearings import models as _h  # noqa: F401
    from consult.jobs import models as _j  # noqa: F401
    from consult.oversight import stats as _o  # noqa: F401
    from consult.policies import models as _p  # noqa: F401
    from consult.search import indexer, indexing
    from consult.security import models as _x  # noqa: F401

    indexing.install()  # the search index follows every flush
    indexer.install()  # and the rows of citizens' new comments follow their commits
    _import_job_handlers()


def _import_job_handlers() -> None:
    """Job handlers register themselves (consult.jobs.queue.HANDLERS) when imported."""
    from consult.answers import jobs as _a  # noqa: F401
    from consult.comments import jobs as _c  # noqa: F401
    from consult.feeds import alerts as _f  # noqa: F401
    from consult.opendata import jobs as _d  # noqa: F401
    from consult.oversight import reminders as _o  # noqa: F401
    from consult.policies import jobs as _p  # noqa: F401
    from consult.search import indexer as _i  # noqa: F401


def _init_abuse_control(app: Flask) -> None:
    """Rate limits (F11); behind a reverse proxy, its X-Forwarded-* headers name the client."""
    from consult import ratelimit

    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    ratelimit.init_app(app)


def _instance_secret_key() -> str:
    """A random key kept in instance/, so a laptop needs no SECRET_KEY and sessions survive."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
