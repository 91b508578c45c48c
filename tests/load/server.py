"""The app served for real — gunicorn with several workers and threads — on a database of its
own, for tests that send many clients at once (tests/load/) and for benchmarks.

`scratch_database(kind)` makes an empty SQLite file or PostgreSQL database (dropped afterwards);
`prepare(url)` migrates it with `flask db upgrade` and adds one open consultation;
`Server(url, env).start()` serves it and waits until `/healthz` answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_available(url: str = PG_URL) -> bool:
    engine = create_engine(_psycopg(url))
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def scratch_database(kind: str, directory: Path):
    """A new, empty database: a SQLite file in `directory`, or a PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'load.db'}"
        return
    name = f"consult_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_psycopg(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


SEED = """
import sys
from datetime import timedelta
from consult import clock, create_app
from consult.extensions import db
from tests import factories

app = create_app()
with app.app_context():
    unit = factories.unit("负载测试单位")
    ids = []
    for _ in range(int(sys.argv[1])):
        c = factories.consultation("open", unit, title="负载测试：公共数据管理办法（征求意见稿）")
        ids.append(c.id)
    db.session.commit()
    print(",".join(map(str, ids)))
"""


def base_env(database_url: str, **extra) -> dict[str, str]:
    """The environment of a served app: its database, a fixed key, mail to the log."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RATELIMIT_", "COMMENT_", "REDIS_", "CONSULT_"))}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "load-test-secret",
        "BASE_URL": "http://127.0.0.1",
        "UPLOAD_DIR": tempfile.mkdtemp(prefix="consult-load-uploads-"),
        "PYTHONPATH": str(ROOT),
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def prepare(database_url: str, consultations: int = 1) -> list[int]:
    """Migrate the empty database and add `consultations` open consultations; their ids."""
    env = base_env(database_url)
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", SEED, str(consultations)], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True)
    return [int(x) for x in out.stdout.strip().splitlines()[-1].split(",")]


class Server:
    """gunicorn serving the app: `workers` processes × `threads` threads."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, threads: int = 8,
                 port: int | None = None, bind: str = "127.0.0.1"):
        self.env = env
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.bind = bind
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkdtemp(prefix="consult-gunicorn-")) / "gunicorn.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> Server:
        """Start gunicorn and wait for /healthz (bounded for a loaded machine; no speed test)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(self.workers), "-k", "gthread",
             "--threads", str(self.threads), "-b", f"{self.bind}:{self.port}",
             "--graceful-timeout", "5", "--timeout", "60", "app:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()  # gunicorn has its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-20000:]

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
