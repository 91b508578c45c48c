"""Serve a WSGI app with gunicorn and drive it with wrk: the one way every HTTP benchmark here
measures, so a ratio compares like with like.

    with serve("bench.baselines:hello") as base:       # gunicorn, 2 gthread workers
        figures = drive(base + "/")                     # wrk, 16 connections, 5 s
    result = compare(target=Target("app:app", "/consultations/1", env),
                     baseline=Target("bench.baselines:hello", "/"))
    print(result.ratio)

`compare` alternates rounds (baseline, target, baseline, target, ...) so a machine that slows
down or speeds up during the run touches both sides alike, and takes the median of each side.
Besides requests per second it reports the server's CPU time per request (user + system of the
gunicorn master and workers, from /proc), which is steadier than throughput on a busy machine,
and, when the app runs on a PostgreSQL server of this host, the database server's own CPU per
request (its processes, from /proc): on two cores the database's work competes with the app's.

wrk (Debian package `wrk`) is the client: it costs far less CPU per request than a Python
client, so on this 2-core machine the server, not the client, is what is measured. A request
that must differ each time (a POST) gets a Lua script (`script=`); each drive defines in it the
global `run_id`, new every time, so that requests keyed on a counter (idempotency keys, form
nonces) are new in every round and not retries of the previous round's.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORKERS = 2
THREADS = 8
CONNECTIONS = 16
SECONDS = 5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its children still running (gunicorn's workers)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def database_cpu_seconds() -> float:
    """User + system CPU of this host's PostgreSQL server processes (all of them: run the
    benchmarks on a quiet machine)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            line = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        if not line[line.index("(") + 1:line.rindex(")")].startswith("postgres"):
            continue
        fields = line.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.process.pid)


@contextmanager
def serve(app: str, env: dict | None = None, *, workers: int = WORKERS,
          threads: int = THREADS, ready_path: str = "/") -> Iterator[Server]:
    """Run `app` ("module:variable") under gunicorn on a free port until the block ends."""
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="bench-gunicorn-")) / "gunicorn.log"
    with log_path.open("wb") as log:  # gunicorn keeps its own copy of the descriptor
        process = subprocess.Popen(
            [GUNICORN, "--config", "/dev/null",  # the same flags for every app
             "--worker-class", "gthread", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--timeout", "120",
             "--log-level", "warning", app],
            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {log_path}")
            try:
                with urllib.request.urlopen(url + ready_path, timeout=5) as answer:
                    answer.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer: see {log_path}") from None
                time.sleep(0.2)
        yield Server(url, process)
        shutil.rmtree(log_path.parent, ignore_errors=True)  # kept when gunicorn failed
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Figures:
    requests: int
    seconds: float
    non_2xx_3xx: int
    errors: int
    cpu_ms_per_request: float | None = None
    database_cpu_ms_per_request: float | None = None  # PostgreSQL's own (`database_cpu`)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def drive(url: str, *, seconds: int = SECONDS, connections: int = CONNECTIONS,
          script: str | None = None, headers: dict | None = None,
          server: Server | None = None, timeout: int | None = None,
          settle: float = 0.0, database_cpu: bool = False) -> Figures:
    """Send requests to `url` from `connections` keep-alive connections for `seconds` (a request
    unanswered after `timeout` seconds, wrk's 2 by default, counts as an error). With `settle`,
    the server's CPU is read once it has gone quiet, at least `settle` seconds after the last
    request: work it does after the answers (the search index rows of new comments, written a
    second later by a thread) is counted with the requests that caused it. With
    `database_cpu`, the CPU of this host's PostgreSQL server is read over the same span."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if timeout is not None:
        command += ["--timeout", f"{timeout}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    script_file = None
    if script is not None:
        script_file = Path(tempfile.mkdtemp(prefix="bench-wrk-")) / "request.lua"
        # Lua's counters start again in every wrk run: `run_id` keeps the keys of each run new.
        script_file.write_text(f'run_id = "{uuid.uuid4().hex[:12]}"\n' + script)
        command += ["-s", str(script_file)]
    cpu_before = server.cpu_seconds() if server else None
    database_before = database_cpu_seconds() if database_cpu else None
    finished = subprocess.run(command + [url], capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}\n"
                           f"{finished.stdout.strip()}")
    output = finished.stdout
    cpu_after = server.cpu_seconds() if server else None
    if server is not None and settle > 0:
        cpu_after = _quiet(server, settle)
    database_after = database_cpu_seconds() if database_cpu else None
    if script_file is not None:
        shutil.rmtree(script_file.parent)
    match = WRK_REQUESTS.search(output)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests = int(match.group(1))
    elapsed = float(match.group(2)) * UNITS[match.group(3)]
    non_2xx = WRK_NON_2XX.search(output)
    errors = WRK_ERRORS.search(output)
    figures = Figures(requests, elapsed, int(non_2xx.group(1)) if non_2xx else 0,
                      sum(int(g) for g in errors.groups()) if errors else 0)
    if cpu_before is not None and requests:
        figures.cpu_ms_per_request = (cpu_after - cpu_before) * 1000 / requests
    if database_before is not None and requests:
        figures.database_cpu_ms_per_request = (database_after - database_before) * 1000 / requests
    return figures


def _quiet(server: Server, settle: float, *, idle_ms: float = 5, longest: float = 30) -> float:
    """The server's CPU seconds once it has spent less than `idle_ms` in a quarter second, at
    least `settle` seconds from now (at most `longest`)."""
    time.sleep(settle)
    deadline = time.monotonic() + longest
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        after = server.cpu_seconds()
        if (after - before) * 1000 < idle_ms:
            return after
        before = after
    return before


@dataclass
class Target:
    """What to measure: an app, the path to request, its environment, and how to request it."""

    app: str
    path: str
    env: dict = field(default_factory=dict)
    script: str | None = None
    headers: dict = field(default_factory=dict)
    ready_path: str = "/"
    settle: float = 0.0  # seconds of work after the answers to count with them (`drive`)


@dataclass
class Comparison:
    target: list[Figures]
    baseline: list[Figures]

    @staticmethod
    def _median(rounds: list[Figures], attribute: str) -> float | None:
        """The median over the rounds that have the figure (a round that answered no request
        has no CPU per request); None when none has it."""
        values = [v for v in (getattr(figures, attribute) for figures in rounds) if v is not None]
        return statistics.median(values) if values else None

    @property
    def target_rps(self) -> float:
        return self._median(self.target, "per_second")

    @property
    def baseline_rps(self) -> float:
        return self._median(self.baseline, "per_second")

    @property
    def ratio(self) -> float:
        """Median requests per second of the target over the baseline's."""
        return self.target_rps / self.baseline_rps if self.baseline_rps else 0.0

    @property
    def cpu_ratio(self) -> float | None:
        """Baseline CPU per request over the target's: the same sense as `ratio`."""
        target = self._median(self.target, "cpu_ms_per_request")
        baseline = self._median(self.baseline, "cpu_ms_per_request")
        return baseline / target if target and baseline else None

    @property
    def bad_answers(self) -> int:
        return sum(f.non_2xx_3xx + f.errors for f in self.target)

    def line(self, label: str) -> str:
        def shown(value: float | None, width: int) -> str:
            return f"{value:{width}.2f}" if value is not None else "-".rjust(width)

        target_cpu = self._median(self.target, "cpu_ms_per_request")
        base_cpu = self._median(self.baseline, "cpu_ms_per_request")
        line = (f"{label:<44} {self.target_rps:8.0f}/s vs {self.baseline_rps:7.0f}/s "
                f"ratio {self.ratio:5.2f}   CPU {shown(target_cpu, 6)} vs {shown(base_cpu, 5)} "
                f"ms/req ratio {shown(self.cpu_ratio, 5)}   bad answers {self.bad_answers}")
        target_db = self._median(self.target, "database_cpu_ms_per_request")
        base_db = self._median(self.baseline, "database_cpu_ms_per_request")
        if target_db is not None and base_db is not None:
            line += f"   database CPU {target_db:.2f} vs {base_db:.2f} ms/req"
        return line


def _on_postgresql(target: Target) -> bool:
    """Whether the app runs on a PostgreSQL server of this host (its CPU is then read)."""
    url = target.env.get("DATABASE_URL", "")
    return url.startswith("postgres") and any(
        host in url for host in ("@127.0.0.1", "@localhost", "@[::1]", "@/"))


def compare(target: Target, baseline: Target, *, rounds: int = 3, seconds: int = SECONDS,
            connections: int = CONNECTIONS, warmup: int = 1,
            timeout: int | None = None) -> Comparison:
    """Alternate baseline and target rounds, both served the same way; medians of each."""
    result = Comparison([], [])
    with serve(baseline.app, baseline.env, ready_path=baseline.ready_path) as base, \
            serve(target.app, target.env, ready_path=target.ready_path) as served:
        for _ in range(warmup):
            drive(base.url + baseline.path, seconds=1, connections=connections,
                  script=baseline.script, headers=baseline.headers)
            drive(served.url + target.path, seconds=1, connections=connections,
                  script=target.script, headers=target.headers)
        for _ in range(rounds):
            result.baseline.append(drive(base.url + baseline.path, seconds=seconds,
                                         connections=connections, script=baseline.script,
                                         headers=baseline.headers, server=base,
                                         settle=baseline.settle,
                                         database_cpu=_on_postgresql(baseline)))
            result.target.append(drive(served.url + target.path, seconds=seconds,
                                       connections=connections, script=target.script,
                                       headers=target.headers, server=served,
                                       timeout=timeout, settle=target.settle,
                                       database_cpu=_on_postgresql(target)))
    return result
