"""Configuration from the environment, with embedded defaults for a laptop."""

import json
import os
from datetime import date
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _hour(name: str, default: int) -> int | None:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in ("", "off", "none", "-1"):
        return None
    hour = int(value)
    if not 0 <= hour <= 23:
        raise ValueError(f"{name}: {value!r} is not an hour (0–23) or 'off'")
    return hour


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'consult.db'}")
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _calendar(name: str, key: str, path: str, *, shipped: bool = False) -> list[str]:
    """ISO dates from the environment variable `name`, else the file's `key`, else the default."""
    from consult.consultations import holidays

    raw = None if shipped else os.environ.get(name)
    if raw is not None:
        values = [v.strip() for v in raw.split(",") if v.strip()]
    elif path and Path(path).is_file():
        values = json.loads(Path(path).read_text(encoding="utf-8")).get(key, [])
    else:
        values = list(getattr(holidays, name))
    for value in values:  # a typo fails at start-up, not in a window check
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD)") from error
    return values


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")  # filled from instance/ when unset
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024))

    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ["zh_Hans", "zh_Hant", "en"]

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "consult@localhost")
    # Without MAIL_SERVER, mail is printed to the log instead of sent.
    MAIL_SUPPRESS_SEND = False
    # Older name of JOBS_BACKGROUND (mail was the only background work then); false turns the
    # web process's background thread off as before.
    OUTBOX_BACKGROUND = _bool("OUTBOX_BACKGROUND", True)
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 10))
    # A worker that claimed a mail and died before marking it sent leaves it to be sent again
    # (with the same Message-ID) once this claim has expired.
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", 300))

    # Jobs (consult/jobs): recorded in the database, then run by RQ on Redis when REDIS_URL is
    # set (`flask --app app worker`), else by a background thread of the web process (and by
    # `flask --app app worker`, which then polls the jobs table).
    JOBS_BACKGROUND = _bool("JOBS_BACKGROUND", OUTBOX_BACKGROUND)
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "consult")  # RQ queue name (and key prefix)
    JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", 5))
    # Back-off after a failed attempt: this many seconds, doubled per attempt, at most an hour.
    JOB_RETRY_SECONDS = int(os.environ.get("JOB_RETRY_SECONDS", 30))
    # A running job's claim; renewed while it runs, so only a dead worker's job outlives it.
    JOB_LEASE_SECONDS = int(os.environ.get("JOB_LEASE_SECONDS", 300))
    JOB_TIMEOUT_SECONDS = int(os.environ.get("JOB_TIMEOUT_SECONDS", 3600))  # RQ's hard limit
    JOBS_POLL_SECONDS = float(os.environ.get("JOBS_POLL_SECONDS", 5))  # idle database polling
    JOBS_TICK_SECONDS = float(os.environ.get("JOBS_TICK_SECONDS", 60))  # the schedule's clock
    # Scheduled work, at local hours (empty or "off": not scheduled; run the CLI from cron).
    DIGEST_HOUR = _hour("DIGEST_HOUR", 8)  # the staff daily digest (`digest send`)
    PURGE_HOUR = _hour("PURGE_HOUR", 3)  # the retention purge (`privacy purge`)
    # A consultation with at least this many comments builds its report (preview and
    # publication) in a job; smaller ones build it within the request.
    REPORT_JOB_MIN_COMMENTS = int(os.environ.get("REPORT_JOB_MIN_COMMENTS", 5000))

    # Minimum comment period per consultation type (SPEC §6, consult/consultations/windows.py):
    # days, counted as working days for the types in WINDOW_WORKING_DAY_TYPES, else calendar
    # days. A normative document concerning business activity needs WINDOW_BUSINESS_MIN_DAYS
    # calendar days (优化营商环境条例 Art 62).
    WINDOW_MIN_DAYS = {"rule": 30, "major_decision": 30, "normative_document": 7, "other": 7}
    WINDOW_WORKING_DAY_TYPES = ("normative_document",)
    WINDOW_BUSINESS_MIN_DAYS = 30
    # Public holidays and make-up working days (调休) as ISO dates: comma-separated in the
    # environment, else {"holidays": [...], "makeup_workdays": [...]} in HOLIDAYS_FILE, else the
    # shipped list (consult/consultations/holidays.py; 2027 there is provisional).
    HOLIDAYS_FILE = os.environ.get("HOLIDAYS_FILE", str(INSTANCE_DIR / "holidays.json"))
    HOLIDAYS = _calendar("HOLIDAYS", "holidays", HOLIDAYS_FILE)
    MAKEUP_WORKDAYS = _calendar("MAKEUP_WORKDAYS", "makeup_workdays", HOLIDAYS_FILE)
    # A report is overdue this many days after the window closed (the staff dashboard).
    REPORT_DUE_DAYS = int(os.environ.get("REPORT_DUE_DAYS", 30))

    # Attachments live outside static/, by SHA-256 (consult/uploads.py).
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
    # A .docx/.txt draft to import (F3); larger uploads get 413.
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 10 * 1024 * 1024))

    COMMENT_MAX_LENGTH = 10_000
    # Near-identical comments (F13): rapidfuzz ratio (0–100) at which two texts are one group.
    GROUP_SIMILARITY = int(os.environ.get("GROUP_SIMILARITY", 90))
    # Email verification links (comments, citizen accounts) expire after this many days (F8).
    VERIFY_MAX_AGE_DAYS = int(os.environ.get("VERIFY_MAX_AGE_DAYS", 7))
    # Contact data is erased this many days after the report (or the close, without one).
    CONTACT_RETENTION_DAYS = int(os.environ.get("CONTACT_RETENTION_DAYS", 180))
    # Who answers questions about personal data, shown on /privacy (e.g. a mailbox and phone).
    PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT", "")
    PER_PAGE = 20

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a long comment must not fail for an expired token
    # Where the public site lives, for links in mail sent outside a request (CLI, worker).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    PROXY_FIX = _bool("PROXY_FIX", False)

    # Abuse control (F11, consult/ratelimit.py). Limits count in Redis when REDIS_URL is set
    # (shared by every worker and host), else in the process's memory.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)  # false: no limits (benchmarks)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or None  # else REDIS_URL
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "consult")
    RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "moving-window")
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on every 429
    RATELIMIT_SWALLOW_ERRORS = True  # a Redis outage serves the request rather than a 500
    COMMENT_RATE_LIMIT = os.environ.get("COMMENT_RATE_LIMIT", "10 per 10 minutes")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _database_url() if os.environ.get("DATABASE_URL") else "sqlite://"
    OUTBOX_BACKGROUND = False
    JOBS_BACKGROUND = False  # tests run queued jobs themselves (consult.jobs.queue.run_due)
    # Jobs stay in the database unless a test gives its app a Redis of its own.
    REDIS_URL = None
    JOBS_QUEUE = "consult-test"
    DIGEST_HOUR = PURGE_HOUR = None  # nothing scheduled unless a test asks
    MAIL_SUPPRESS_SEND = True
    UPLOAD_DIR = os.environ.get("TEST_UPLOAD_DIR", "/tmp/consult-test-uploads")
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests; scrypt everywhere else
    SERVER_NAME = "consult.test"
    # The shipped calendar, whatever the environment or instance/holidays.json say.
    HOLIDAYS = _calendar("HOLIDAYS", "holidays", "", shipped=True)
    MAKEUP_WORKDAYS = _calendar("MAKEUP_WORKDAYS", "makeup_workdays", "", shipped=True)
    # Every test client is 127.0.0.1 and the app lives for the whole run: real limits would
    # make the suite's 11th comment a 429. Tests of the limits set them (tests/comments/
    # test_abuse.py); the counters stay in memory, whatever REDIS_URL says.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    COMMENT_RATE_LIMIT = "100000 per minute"
    LOGIN_RATE_LIMIT = "100000 per minute"
