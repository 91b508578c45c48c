"""Configuration from the environment, with embedded defaults for a laptop."""

import json
import os
from datetime import date
from pathlib import Path

from consult import holidays

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
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # pool options come from consult/database.py
    # SQLite (consult/database.py): WAL; FULL makes every 201 survive a power cut, NORMAL is
    # faster and may lose the last commits (never corrupts); writers wait this long for the
    # lock, then get 503 + Retry-After.
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "FULL")
    SQLITE_BUSY_TIMEOUT = float(os.environ.get("SQLITE_BUSY_TIMEOUT", 10))
    # Connections per worker process: at least its threads; beyond size + overflow a request
    # waits DB_POOL_TIMEOUT seconds, then gets 503 + Retry-After.
    DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", 10))
    DB_MAX_OVERFLOW = int(os.environ.get("DB_MAX_OVERFLOW", 10))
    DB_POOL_TIMEOUT = float(os.environ.get("DB_POOL_TIMEOUT", 10))
    # Citizens' comments that arrive together are committed together, each answered once its
    # group has committed: one transaction (on SQLite one write turn, one fsync) for many
    # (consult/database.py, `WriteGroup`). Off: one transaction each.
    DB_WRITE_GROUPS = _bool("DB_WRITE_GROUPS", True)
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
    # A citizen's new comment is found by search this many seconds after its POST (plus the
    # batch's time): its index row is written after the commit, by a thread of the process, in
    # batches (consult/search/indexer.py). 0: right after the commit, by the request's thread.
    SEARCH_INDEX_DELAY = float(os.environ.get("SEARCH_INDEX_DELAY", 1.0))
    # Scheduled work, at local hours (empty or "off": not scheduled; run the CLI from cron).
    DIGEST_HOUR = _hour("DIGEST_HOUR", 8)  # the staff daily digest (`digest send`)
    PURGE_HOUR = _hour("PURGE_HOUR", 3)  # the retention purge (`privacy purge`)
    REMINDER_HOUR = _hour("REMINDER_HOUR", 9)  # reminders and the weekly summary (working days)
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
    # shipped list (consult/holidays.py; 2027 there is provisional).
    HOLIDAYS_FILE = os.environ.get("HOLIDAYS_FILE", str(INSTANCE_DIR / "holidays.json"))
    HOLIDAYS = _calendar("HOLIDAYS", "holidays", HOLIDAYS_FILE)
    MAKEUP_WORKDAYS = _calendar("MAKEUP_WORKDAYS", "makeup_workdays", HOLIDAYS_FILE)
    # A report is overdue this many days after the window closed (the staff dashboard).
    REPORT_DUE_DAYS = int(os.environ.get("REPORT_DUE_DAYS", 30))
    # The public statistics (/stats) are kept this many seconds as comments keep arriving
    # (a report, policy or interpretation published shows at once); 0: counted on every view.
    STATS_MAX_AGE = int(os.environ.get("STATS_MAX_AGE", 300))
    # While one reader counts them again after a publication, the others wait this many seconds
    # at most (then 503 with Retry-After); a reader's claim to count expires after
    # STATS_RECOUNT_LEASE seconds (a process that died while counting).
    STATS_RECOUNT_WAIT = float(os.environ.get("STATS_RECOUNT_WAIT", 60))
    STATS_RECOUNT_LEASE = int(os.environ.get("STATS_RECOUNT_LEASE", 300))
    # A rule or normative document is filed (备案) within this many days of its issue.
    POLICY_FILING_DAYS = int(os.environ.get("POLICY_FILING_DAYS", 30))
    # 三同步: a published policy's interpretation is due within this many working days.
    INTERPRETATION_DUE_WORKING_DAYS = int(os.environ.get("INTERPRETATION_DUE_WORKING_DAYS", 3))

    # Attachments live outside static/, by SHA-256 (consult/uploads.py), in one store
    # (consult/storage.py): a local directory, or an S3-compatible bucket shared by every host.
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")  # local | s3
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None  # None: AWS itself
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    S3_KEY_PREFIX = os.environ.get("S3_KEY_PREFIX", "")
    S3_ADDRESSING_STYLE = os.environ.get("S3_ADDRESSING_STYLE", "auto")  # auto | path | virtual
    # > 0: public files are a redirect to a presigned URL valid this long; 0: streamed by the app.
    S3_PRESIGN_SECONDS = int(os.environ.get("S3_PRESIGN_SECONDS", 0))
    # Where pg_dump / pg_restore are, for `flask backup` on PostgreSQL (else PATH, then
    # /usr/lib/postgresql/<version>/bin).
    PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "")
    ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
    # A .docx/.txt draft to import (F3); larger uploads get 413.
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 10 * 1024 * 1024))
    # Uploaded .docx/.xlsx (zip) files: the most they may unpack to, and the highest compression
    # ratio of a member (consult/archives.py: zip bombs are refused before any XML parser).
    UNZIP_MAX_BYTES = int(os.environ.get("UNZIP_MAX_BYTES", 50 * 1024 * 1024))
    UNZIP_MAX_RATIO = int(os.environ.get("UNZIP_MAX_RATIO", 100))

    COMMENT_MAX_LENGTH = 10_000
    # Words that send a comment to pre-moderation whatever the consultation's setting
    # (consult/comments/screening.py); an empty value turns the screening off.
    SENSITIVE_WORDS_FILE = os.environ.get(
        "SENSITIVE_WORDS_FILE", str(BASE_DIR / "consult" / "comments" / "sensitive_words.txt"))
    # Near-identical comments (F13): rapidfuzz ratio (0–100) at which two texts are one group.
    GROUP_SIMILARITY = int(os.environ.get("GROUP_SIMILARITY", 90))
    # Email verification links (comments, citizen accounts) expire after this many days (F8).
    VERIFY_MAX_AGE_DAYS = int(os.environ.get("VERIFY_MAX_AGE_DAYS", 7))
    # Contact data is erased this many days after the report (or the close, without one).
    CONTACT_RETENTION_DAYS = int(os.environ.get("CONTACT_RETENTION_DAYS", 180))
    # Who answers questions about personal data, shown on /privacy (e.g. a mailbox and phone).
    PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT", "")
    PER_PAGE = 20

    # Login throttling (consult/security/throttle.py): after LOGIN_THROTTLE_AFTER failures of
    # one account or one client, the Nth failure makes the next attempt wait 2^(N - AFTER)
    # seconds, at most LOGIN_THROTTLE_MAX_DELAY; a counter is forgotten this many hours after its
    # last failure. A browser that signed in to the account within LOGIN_DEVICE_DAYS is not held
    # up by the account's counter (only by its own client's).
    LOGIN_THROTTLE_AFTER = int(os.environ.get("LOGIN_THROTTLE_AFTER", 3))
    LOGIN_THROTTLE_MAX_DELAY = int(os.environ.get("LOGIN_THROTTLE_MAX_DELAY", 300))
    LOGIN_THROTTLE_FORGET_HOURS = int(os.environ.get("LOGIN_THROTTLE_FORGET_HOURS", 24))
    LOGIN_DEVICE_DAYS = int(os.environ.get("LOGIN_DEVICE_DAYS", 180))
    # The security and access logs (consult/security/log.py): one file per day in LOG_DIR, kept
    # LOG_RETENTION_DAYS (at least 180: 网络安全法 Art 21). Empty: to stderr only.
    LOG_DIR = os.environ.get("LOG_DIR", str(INSTANCE_DIR / "logs"))
    LOG_RETENTION_DAYS = int(os.environ.get("LOG_RETENTION_DAYS", 180))
    # HSTS whenever the site is served over HTTPS (consult/security/https.py).
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", 31_536_000))
    HSTS_INCLUDE_SUBDOMAINS = _bool("HSTS_INCLUDE_SUBDOMAINS", False)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a long comment must not fail for an expired token
    # Where the public site lives: every absolute link (mail, JSON, feeds, PDFs) is built on it,
    # never on the request's Host (consult/urls.py).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Host names the site answers to, comma-separated (`*`: any, when a proxy in front checks);
    # unset: BASE_URL's host, localhost and 127.0.0.1. Another Host header is a 400.
    TRUSTED_HOSTS = os.environ.get("TRUSTED_HOSTS") or None
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
    COMMENT_RATE_LIMIT = os.environ.get("COMMENT_RATE_LIMIT", "10 per 10 minutes")  # per person
    # The write API, per token (consult/api/writes.py): 429 with Retry-After above it.
    API_TOKEN_RATE_LIMIT = os.environ.get("API_TOKEN_RATE_LIMIT", "1000 per hour")
    # Refused write-API calls are audited, at most this often per token (or none), route and
    # reason; more in the window go to the security log only. Empty: every refusal audited.
    API_REFUSAL_AUDIT_LIMIT = os.environ.get("API_REFUSAL_AUDIT_LIMIT", "1 per minute")
    # The bulk XLSX files of /data are snapshots built by the worker: at most this many
    # minutes behind the data, rebuilt no more often (consult/opendata/files.py).
    OPENDATA_MAX_AGE_MINUTES = int(os.environ.get("OPENDATA_MAX_AGE_MINUTES", 60))
    # Per client address, sized for many people behind one NAT; above it comments must be
    # verified by e-mail, above the hard limit the address is refused (consult/ratelimit.py).
    COMMENT_ADDRESS_RATE_LIMIT = os.environ.get("COMMENT_ADDRESS_RATE_LIMIT", "600 per 10 minutes")
    COMMENT_ADDRESS_HARD_LIMIT = os.environ.get("COMMENT_ADDRESS_HARD_LIMIT",
                                                "3000 per 10 minutes")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")

    # Rendered public pages for anonymous readers (consult/pagecache.py), in Flask-Caching's
    # store: a folder shared by the workers of one host, or Redis (shared by every host) when
    # REDIS_URL is set. `CACHE_TYPE=NullCache` (or PAGE_CACHE=false) renders every page anew.
    PAGE_CACHE = _bool("PAGE_CACHE", True)
    CACHE_TYPE = os.environ.get("CACHE_TYPE") or ("RedisCache" if REDIS_URL else "FileSystemCache")
    CACHE_DIR = os.environ.get("CACHE_DIR", str(INSTANCE_DIR / "cache" / "pages"))
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL") or REDIS_URL
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "consult:pages:")
    CACHE_THRESHOLD = int(os.environ.get("CACHE_THRESHOLD", 5000))  # pages per folder store
    CACHE_DEFAULT_TIMEOUT = 0  # every entry is given its own
    PAGE_CACHE_TTL = int(os.environ.get("PAGE_CACHE_TTL", 3600))  # the most a page is kept
    # How long nginx (or another shared cache) may serve a public page without asking again.
    PAGE_CACHE_PROXY_SECONDS = int(os.environ.get("PAGE_CACHE_PROXY_SECONDS", 5))


    # The site's identity, shown in every page's footer as a 政府网站 carries it (issue 13; 政府
    # 网站发展指引): who runs it, how to reach them, the site code and the filing numbers. Read
    # through `site_identity()` only; the platform office may override them at /admin/settings
    # (consult.settings.site() lays the saved values over these).
    SITE_NAME = os.environ.get("SITE_NAME", "")  # empty: the translated "公众参与平台"
    SITE_SPONSOR = os.environ.get("SITE_SPONSOR", "市人民政府办公厅")  # 主办单位
    SITE_OPERATOR = os.environ.get("SITE_OPERATOR", "市政务公开办公室")  # 承办单位
    SITE_CONTACT = os.environ.get("SITE_CONTACT", "联系电话：12345（政务服务便民热线）")
    SITE_CONTACT_EMAIL = os.environ.get("SITE_CONTACT_EMAIL", "")
    SITE_ID_CODE = os.environ.get("SITE_ID_CODE", "")  # 网站标识码, e.g. 4101000001
    SITE_ICP = os.environ.get("SITE_ICP", "")  # ICP 备案号, e.g. 豫ICP备12345678号
    SITE_PSB = os.environ.get("SITE_PSB", "")  # 公网安备号, e.g. 豫公网安备 41010502000001号
    SITE_FAVICON = os.environ.get("SITE_FAVICON", "favicon.svg")  # a file in static/


def site_identity(config) -> dict[str, str]:
    """The site identity of the footer (the SITE_* settings): the one place it is read."""
    keys = ("SITE_NAME", "SITE_SPONSOR", "SITE_OPERATOR", "SITE_CONTACT", "SITE_CONTACT_EMAIL",
            "SITE_ID_CODE", "SITE_ICP", "SITE_PSB", "SITE_FAVICON")
    return {key[5:].lower(): (config.get(key) or "").strip() for key in keys}


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _database_url() if os.environ.get("DATABASE_URL") else "sqlite://"
    OUTBOX_BACKGROUND = False
    JOBS_BACKGROUND = False  # tests run queued jobs themselves (consult.jobs.queue.run_due)
    SEARCH_INDEX_DELAY = 0.0  # a new comment is found right after its POST (tests/search)
    # Jobs stay in the database unless a test gives its app a Redis of its own.
    REDIS_URL = None
    CACHE_TYPE = "SimpleCache"  # one process; tests of shared stores give their own
    CACHE_REDIS_URL = None
    JOBS_QUEUE = "consult-test"
    DIGEST_HOUR = PURGE_HOUR = REMINDER_HOUR = None  # nothing scheduled unless a test asks
    MAIL_SUPPRESS_SEND = True
    STORAGE_BACKEND = "local"  # tests of the S3 backend set it (tests/storage_backends.py)
    UPLOAD_DIR = os.environ.get("TEST_UPLOAD_DIR", "/tmp/consult-test-uploads")
    LOG_DIR = ""  # tests that look at the log files give their own directory
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests; scrypt everywhere else
    SERVER_NAME = "consult.test"
    BASE_URL = "http://consult.test"
    # The shipped calendar, whatever the environment or instance/holidays.json say.
    HOLIDAYS = _calendar("HOLIDAYS", "holidays", "", shipped=True)
    MAKEUP_WORKDAYS = _calendar("MAKEUP_WORKDAYS", "makeup_workdays", "", shipped=True)
    # Every test client is 127.0.0.1 and the app lives for the whole run: real limits would
    # make the suite's 11th comment a 429. Tests of the limits set them (tests/comments/
    # test_abuse.py); the counters stay in memory, whatever REDIS_URL says.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    API_REFUSAL_AUDIT_LIMIT = ""  # every refusal audited (the flood test sets a limit)
    COMMENT_RATE_LIMIT = "100000 per minute"
    COMMENT_ADDRESS_RATE_LIMIT = "100000 per minute"
    COMMENT_ADDRESS_HARD_LIMIT = "100000 per minute"
    LOGIN_RATE_LIMIT = "100000 per minute"
