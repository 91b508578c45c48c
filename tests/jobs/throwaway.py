"""Throwaway PostgreSQL and Redis servers on ports of this branch's own (15460–15469), for fault
tests that kill them or their clients: never the services the rest of the suite uses.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (run
through `runuser`). Without the binaries the tests skip on a laptop and fail under CI=true.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PORT, REDIS_PORT, SMTP_PORT, SECOND_REDIS_PORT = 15460, 15461, 15462, 15463


def _missing(what: str):
    if IN_CI:
        pytest.fail(f"{what} is needed for the fault tests")
    pytest.skip(f"{what} is not installed")


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answers on port {port}")


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory, on `port`, without fsync (its data is
    thrown away)."""

    def __init__(self, port: int = PG_PORT):
        if not (PG_BIN / "initdb").exists():
            _missing(f"PostgreSQL ({PG_BIN})")
        if not port_is_free(port):
            pytest.fail(f"port {port} is taken: a throwaway PostgreSQL left running?")
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="consult-pg-"))
        self.data = self.dir / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self.start()

    def _run(self, *args) -> None:
        subprocess.run(self.as_user + [str(a) for a in args], check=True, capture_output=True,
                       timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.dir / "log",
                  "-w", "start")

    def stop(self) -> None:
        subprocess.run(self.as_user + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                                       "immediate", "-w", "stop"], capture_output=True,
                       timeout=60)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayRedis:
    """redis-server on `port`, no persistence, as a child process that can be killed."""

    def __init__(self, port: int = REDIS_PORT):
        if shutil.which("redis-server") is None:
            _missing("redis-server")
        if not port_is_free(port):
            pytest.fail(f"port {port} is taken: a throwaway Redis left running?")
        self.port = port
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    close = kill
