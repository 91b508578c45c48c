"""The security log and the access log, kept at least six months (网络安全法 Art 21).

Security events, one line each (`login_failed kind=staff account=… ip=… client=…`): sign-ins,
failed sign-ins, throttled attempts, sign-outs, sessions ended by a changed stamp, permission
refusals (401/403) and requests naming a host the site does not serve. The access log has one
line per request: client address, method, path (mailed tokens in it replaced by the parameter's
name, no query string), status, and the signed-in staff user or citizen account.

With LOG_DIR set, each log is one file per local day (`security-2026-12-06.log`,
`access-2026-12-06.log`). Every worker process appends to the day's file and none renames one
(the standard library's TimedRotatingFileHandler renames, and several gunicorn workers would
rotate over each other); files older than LOG_RETENTION_DAYS (never less than 180) are deleted
when a new day's file is opened. Without LOG_DIR the security lines go to the process's log
(stderr) only, for the process manager to keep, and there is no access log of our own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, request, session
from flask_login import current_user

from consult import clock
from consult.ratelimit import client_key

SECURITY = logging.getLogger("consult.security")
ACCESS = logging.getLogger("consult.access")
MIN_RETENTION_DAYS = 180  # six months: 网络安全法 Art 21
_DATED = re.compile(r"^(?P<name>[a-z]+)-(?P<day>\d{4}-\d{2}-\d{2})\.log$")


class DailyFileHandler(logging.Handler):
    """Append to `<directory>/<name>-<local date>.log`; delete files older than the retention."""

    def __init__(self, directory: str | os.PathLike, name: str, *, retention_days: int,
                 timezone: str = "Asia/Shanghai") -> None:
        super().__init__()
        self.directory = Path(directory)
        self.name = name
        self.retention_days = retention_days
        self.zone = ZoneInfo(timezone)
        self._day: date | None = None
        self._stream = None
        self.setFormatter(logging.Formatter("%(message)s"))

    def path_for(self, day: date) -> Path:
        return self.directory / f"{self.name}-{day.isoformat()}.log"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record))
        except Exception:  # a full disk must not turn a request into a 500
            self.handleError(record)

    def write_line(self, message: str) -> None:
        """Append `message` as one line, as `emit` does, without a logging record: the access
        log's line of every request (the logging module's record, caller lookup and handler
        chain were a tenth of a request's shell; bench/instructions.py)."""
        with self.lock:
            try:
                self._write(message)
            except Exception as error:  # a full disk must not turn a request into a 500
                if logging.raiseExceptions:
                    sys.stderr.write(f"--- {self.name} log not written: {error!r}\n")

    def _write(self, message: str) -> None:
        moment = clock.now().astimezone(self.zone)
        if moment.date() != self._day:
            self._open(moment.date())
        self._stream.write(f"{moment.isoformat(timespec='seconds')} {message}\n")
        self._stream.flush()

    def _open(self, day: date) -> None:
        if self._stream is not None:
            self._stream.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stream = open(self.path_for(day), "a", encoding="utf-8")  # noqa: SIM115
        self._day = day
        self.purge(day)

    def purge(self, today: date) -> list[Path]:
        """Delete this log's files older than the retention period; return what was deleted."""
        oldest = today - timedelta(days=self.retention_days)
        gone = []
        for path in self.directory.glob(f"{self.name}-*.log"):
            match = _DATED.match(path.name)
            if match and match["name"] == self.name and date.fromisoformat(match["day"]) < oldest:
                path.unlink(missing_ok=True)
                gone.append(path)
        return gone

    def close(self) -> None:
        with self.lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
                self._day = None
        super().close()


def _value(value) -> str:
    """A field value on one line that nobody can forge another line or field with."""
    return quote(str(value), safe="@:/.+-_*[]<>,") if value not in (None, "") else "-"


def account_ref(kind: str, email: str | None) -> str:
    """How the log names an account: a staff address as is; a citizen's address pseudonymised
    (a keyed hash, the same for the same address), as citizens' addresses are personal data."""
    email = (email or "").strip().lower()
    if kind == "staff" or not email:
        return email
    key = current_app.config["SECRET_KEY"].encode()
    return "h:" + hmac.new(key, email.encode(), hashlib.sha256).hexdigest()[:16]


def event(name: str, **fields) -> None:
    """Write one security event; the request's address and client are added."""
    if has_request_context():
        fields.setdefault("ip", request.remote_addr)
        fields.setdefault("client", client_key())
    SECURITY.info(" ".join([name] + [f"{key}={_value(value)}" for key, value in fields.items()]))


def redacted_path() -> str:
    """The path with its string parameters (mailed tokens, tracking numbers) named, not shown."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


# Who else may be signed in, besides staff (Flask-Login): the citizens domain registers its
# `current_citizen` here (this core module imports no domain).
_citizen_of_request: list = []


def register_citizen_loader(loader) -> None:
    """`loader()` is the signed-in citizen account of the request, or None."""
    _citizen_of_request[:] = [loader]


def staff_may_be_signed_in() -> bool:
    """Whether this request may carry a staff sign-in: a session holding a user id, or a
    remember-me cookie. Without either Flask-Login has nobody to load."""
    return "_user_id" in session or \
        current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def _who() -> tuple[str, str]:
    if not request.cookies and "_login_user" not in g:
        # Nobody is signed in without a cookie (sessions and remember-me are cookies; API
        # tokens are not Flask-Login's): not worth loading anyone to say so (the API's POSTs).
        return "-", "-"
    user = None
    if "_login_user" in g or staff_may_be_signed_in():
        # Loaded already, or someone to load: a visitor's session without a staff sign-in
        # (a citizen's form) is not put through Flask-Login's session checks to say "-".
        user = getattr(current_user, "id", None) if current_user.is_authenticated else None
    try:
        citizen = _citizen_of_request[0]() if _citizen_of_request else None
    except Exception:  # an error page without a database still gets its access line
        citizen = None
    return _value(user), _value(getattr(citizen, "id", None))


def _access_line(response):
    user, citizen = _who()
    line = (f"{_value(request.remote_addr)} {request.method} {_value(redacted_path())} "
            f"{response.status_code} {response.calculate_content_length() or '-'} "
            f"user={user} citizen={citizen}")
    for handler in ACCESS.handlers:  # the day's file of each app of this process
        if isinstance(handler, DailyFileHandler):
            handler.write_line(line)
        else:
            handler.handle(ACCESS.makeRecord(ACCESS.name, logging.INFO, "", 0, line, (), None))
    return response


def _log_refusals(response):
    if response.status_code in (401, 403):
        user, citizen = _who()
        event("refused", status=response.status_code, method=request.method,
              path=redacted_path(), user=user, citizen=citizen)
    return response


def _attach(logger: logging.Logger, handler: DailyFileHandler) -> None:
    """Add `handler` unless one for the same file is there (several apps in one process)."""
    for existing in logger.handlers:
        if isinstance(existing, DailyFileHandler) and \
                (existing.directory, existing.name) == (handler.directory, handler.name):
            return
    logger.addHandler(handler)


def init_app(app: Flask) -> None:
    retention = int(app.config["LOG_RETENTION_DAYS"])
    if retention < MIN_RETENTION_DAYS:
        raise ValueError(f"LOG_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} "
                         "(网络安全法 Art 21: six months)")
    SECURITY.setLevel(logging.INFO)
    ACCESS.setLevel(logging.INFO)
    ACCESS.propagate = False  # the server logs requests to stderr already
    directory = app.config.get("LOG_DIR")
    if directory:
        zone = app.config["TIMEZONE"]
        _attach(SECURITY, DailyFileHandler(directory, "security", retention_days=retention,
                                           timezone=zone))
        _attach(ACCESS, DailyFileHandler(directory, "access", retention_days=retention,
                                         timezone=zone))
        app.after_request(_access_line)
    app.after_request(_log_refusals)
