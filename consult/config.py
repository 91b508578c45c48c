"""Configuration from the environment, with embedded defaults for a laptop."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'consult.db'}")
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


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
    # Deliver queued mail in a background thread after each response.
    OUTBOX_BACKGROUND = _bool("OUTBOX_BACKGROUND", True)
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 10))

    # Minimum comment period in calendar days, per consultation type (SPEC §6).
    WINDOW_MIN_DAYS = {"rule": 30, "major_decision": 30, "normative_document": 7, "other": 7}

    # Attachments live outside static/, by SHA-256 (consult/uploads.py).
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))

    COMMENT_MAX_LENGTH = 10_000
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


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _database_url() if os.environ.get("DATABASE_URL") else "sqlite://"
    OUTBOX_BACKGROUND = False
    MAIL_SUPPRESS_SEND = True
    UPLOAD_DIR = os.environ.get("TEST_UPLOAD_DIR", "/tmp/consult-test-uploads")
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests; scrypt everywhere else
    SERVER_NAME = "consult.test"
