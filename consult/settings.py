"""Platform settings: environment defaults, overridden by what the platform office saves at
/admin/settings (F24).

The configuration (`consult.config`, from the environment) gives every default; a row in
`settings` replaces it for what is decided afterwards (a consultation created later, the next
report's due date, the next reminder). Reading is `value(KEY)`: one query per request (or job)
for every override at once, kept in `g`. Core: it imports no domain; the admin read model
(`consult.admin`) checks and saves the values, each change audited.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, has_app_context
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from consult import clock
from consult.config import site_identity
from consult.extensions import db
from consult.types import UTCDateTime


class Setting(db.Model):
    """One saved override of a configuration key."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


_MISSING = object()


def overrides() -> dict[str, object]:
    """Every saved override, read once per request or job (`forget` after a change)."""
    cached = g.get("_settings") if has_app_context() else None
    if cached is None:
        rows = db.session.execute(db.select(Setting.key, Setting.value)).all()
        cached = {key: stored for key, stored in rows}
        if has_app_context():
            g._settings = cached
    return cached


def forget() -> None:
    """Read the overrides again on the next `value` (after saving one)."""
    if has_app_context():
        g.pop("_settings", None)


def value(key: str, default=_MISSING):
    """The saved override of `key`, else the configuration's value (else `default`)."""
    saved = overrides().get(key, _MISSING)
    if saved is not _MISSING:
        return saved
    if default is _MISSING:
        return current_app.config[key]
    return current_app.config.get(key, default)


def site() -> dict[str, str]:
    """The site's identity for the page header and footer (empty strings: not set): the
    configuration's (consult.config.site_identity) with the values saved at /admin/settings laid
    over it. An error page drawn while the database is down shows the configuration's."""
    try:
        saved = overrides()
    except SQLAlchemyError:
        saved = {}
    identity = site_identity(current_app.config)
    for name in identity:
        value = saved.get(f"SITE_{name.upper()}")
        if value is not None:
            identity[name] = str(value).strip()
    return identity


def init_app(app) -> None:
    """Every template sees `site` (one settings query per request at most)."""
    app.context_processor(lambda: {"site": site()})
