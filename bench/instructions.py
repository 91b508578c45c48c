"""Instructions per request, counted by valgrind's callgrind: the comment POST (API and form),
the app's shell and the baseline insert, in-process — a figure that is the same on every run,
whatever else the machine is doing, where the served benchmarks (bench/submit.py) move by up to
2× within minutes on this machine (bench/README.md, comment submission).

    python bench/instructions.py                 # SQLite, 200 requests each
    python bench/instructions.py -n 500
    python bench/instructions.py --database postgresql   # the app's side only, not the server's
    python bench/instructions.py --targets api --twice consult.api.views:external_url

`--twice module:function` prices one function: it is called twice wherever its callers look it
up, and what the count adds is its cost (the count being exact, to 0.01 M; keep the function's
side effects in mind — a second INSERT is no price of the first).

`--in-lock` counts only what runs while the process holds SQLite's write turn
(`consult.database.WriterLock`, which the baseline takes too): on SQLite every writer of the
host waits meanwhile, so a crowd's comments per second are bounded by it, whatever the CPUs
(bench/README.md, comment submission). It needs gcc and valgrind's headers, for a two-line
helper that switches callgrind's collection on and off (built in a temporary directory).

Each target runs in a process of its own under `valgrind --tool=callgrind --instr-atstart=no`:
it starts the app (not counted), sends 50 requests to warm it up, then counts N requests made
by calling the WSGI app directly (no server, no test client: gunicorn's share and the threads'
contention are not in these figures — bench/submit.py has them) and, for comments, the search
index rows of those N comments written in one batch, as the indexer's thread would. The ratio
is the baseline's instructions per request over the target's: the same sense as SPEC §7's
throughput ratio, of which it is the in-process, single-threaded part. On PostgreSQL only the
app's process is counted (the database server's work is not).

Needs valgrind (Debian package `valgrind`).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 50
TARGETS = {
    "baseline": "the baseline: one-row insert (bench.baselines:insert)",
    "shell": "the app's shell + the same insert (bench/shell.py)",
    "api": "comment POST, API (201)",
    "form": "comment POST, HTML form (303)",
}
COLLECTED = re.compile(r"Collected : (\d+)")
TOTALS = re.compile(r"^totals: (\d+)", re.MULTILINE)


# ------------------------------------------------------------------ in the counted process


def _environ(method: str, path: str, body: bytes = b"", content_type: str = "",
             headers: dict | None = None) -> dict:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "bench",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)),
    }
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _call(app, environ: dict, expected: str) -> tuple[str, list, bytes]:
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    if not answer["status"].startswith(expected):
        raise SystemExit(f"{environ['PATH_INFO']}: {answer['status']}\n{body[:500]!r}")
    return answer["status"], answer["headers"], body


def _requester(target: str, consultation_id: int):
    """The WSGI app of `target`, a function making the environ of its i-th request, and the
    status expected."""
    def json_post(path, payload, headers=None):
        return _environ("POST", path, json.dumps(payload).encode(), "application/json", headers)

    if target == "baseline":
        from bench.baselines import insert as app
        return app, lambda i: json_post("/rows", {"body": f"建议{i}"}), "201"
    if target == "shell":
        from bench.shell import ROUTE, create
        return create(), lambda i: json_post(ROUTE, {"body": f"建议{i}"}), "201"
    from app import app
    if target == "api":
        path = f"/api/v1/consultations/{consultation_id}/comments"
        return app, lambda i: json_post(
            path, {"body": f"建议将第三条的公示期由七日延长至十五日（{i}）。",
                   "category": "individual", "article": 1},
            {"Idempotency-Key": f"count-{i}"}), "201"
    path = f"/consultations/{consultation_id}/comment"
    _status, headers, page = _call(app, _environ("GET", path), "200")
    cookie = "; ".join(value.split(";", 1)[0] for name, value in headers
                       if name.lower() == "set-cookie")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()

    def form_post(i):
        body = urllib.parse.urlencode({
            "csrf_token": token, "nonce": f"count-{i}", "body": f"建议将公示期延长（{i}）",
            "category": "individual", "article": "1", "name": "", "email": "", "remark": "",
        }).encode()
        return _environ("POST", path, body, "application/x-www-form-urlencoded",
                        {"Cookie": cookie})
    return app, form_post, "303"


def _toggle(on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   check=True, capture_output=True)


def _call_twice(name: str) -> None:
    """Make `module:attribute[.attribute]` call the function it names twice (its second answer
    stands): its cost is then what the count adds (`--twice`). The name is looked up where its
    callers find it (`consult.api.views:external_url`, not where it is defined)."""
    module, _, path = name.partition(":")
    owner = importlib.import_module(module)
    *parents, attribute = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    function = getattr(owner, attribute)

    def twice(*args, **kwargs):
        function(*args, **kwargs)
        return function(*args, **kwargs)

    setattr(owner, attribute, twice)


def _index(app) -> None:
    """The search index rows of the comments waiting, as the indexer's thread writes them."""
    from consult.extensions import db
    from consult.search.indexer import index_waiting
    with app.app_context():
        index_waiting()
        db.session.remove()


TOGGLE_C = "#include <valgrind/callgrind.h>\nvoid toggle(void) { CALLGRIND_TOGGLE_COLLECT; }\n"


def _count_in_lock() -> Callable[[bool], None]:
    """Collect only while this process holds the write turn (valgrind runs with
    `--collect-atstart=no`); the switch that says whether the requests are being counted."""
    import ctypes

    from consult import database

    directory = tempfile.mkdtemp(prefix="bench-toggle-")
    source, library = Path(directory, "toggle.c"), Path(directory, "toggle.so")
    source.write_text(TOGGLE_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)],
                   check=True)
    toggle = ctypes.CDLL(str(library)).toggle
    counting = [False]
    acquire, release = database.WriterLock.acquire, database.WriterLock.release

    def acquired(self, timeout):
        taken = acquire(self, timeout)
        if taken and counting[0]:
            toggle()
        return taken

    def released(self):
        if counting[0]:
            toggle()
        release(self)

    database.WriterLock.acquire, database.WriterLock.release = acquired, released
    return lambda on: counting.__setitem__(0, on)


def child(target: str, consultation_id: int, n: int, twice: list[str],
          in_lock: bool = False) -> None:
    app, make, expected = _requester(target, consultation_id)
    for name in twice:
        _call_twice(name)
    counting = _count_in_lock() if in_lock else (lambda on: None)
    comments = target in ("api", "form")
    for i in range(WARM_UP):
        _call(app, make(-1 - i), expected)
    if comments:
        _index(app)  # the warm-up's comments, and the indexer's statements compiled
    requests = [make(i) for i in range(n)]  # made before the count: only the app is counted
    _toggle(True)
    counting(True)
    for environ in requests:
        _call(app, environ, expected)
    if comments:  # the requests in one part of the count, their index rows in the next
        _dump()
        _index(app)
    counting(False)
    _toggle(False)


def _dump() -> None:
    subprocess.run(["callgrind_control", "-d", str(os.getpid())], check=True,
                   capture_output=True)


# ------------------------------------------------------------------ the parent


def count(target: str, env: dict, consultation_id: int, n: int,
          directory: Path, twice: list[str] = (), in_lock: bool = False) -> list[int]:
    """Instructions of `n` requests of `target` (a process of its own under callgrind), by
    part: the requests, then (comments) their search index rows."""
    out = directory / f"callgrind.{target}.{n}"
    # --in-lock: nothing collected until the child switches it on inside the write turn
    collect = ["--collect-atstart=no"] if in_lock else []
    finished = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", *collect,
         f"--callgrind-out-file={out}",
         sys.executable, __file__, "--child", target, "--consultation", str(consultation_id),
         "-n", str(n), *(f"--twice={name}" for name in twice),
         *(["--in-lock"] if in_lock else [])],
        cwd=ROOT, env=env, capture_output=True, text=True)
    if finished.returncode != 0 or COLLECTED.search(finished.stderr) is None:
        raise SystemExit(f"{target}: valgrind failed ({finished.returncode})\n"
                         f"{finished.stderr[-3000:]}")
    # Dumps are <out>.1, <out>.2, …; the part left at the end is <out> itself.
    parts = sorted(directory.glob(f"{out.name}*"),
                   key=lambda p: int(p.suffix[1:]) if p != out else sys.maxsize)
    totals = [int(TOTALS.search(p.read_text()).group(1)) for p in parts]
    for part in parts:
        part.unlink()
    return [t for t in totals if t] or [0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="requests counted per target")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--twice", action="append", default=[], metavar="MODULE:FUNCTION",
                        help="call this function twice (its cost is what the count adds)")
    parser.add_argument("--in-lock", action="store_true",
                        help="count only what runs while SQLite's write turn is held")
    parser.add_argument("--child", choices=list(TARGETS), help=argparse.SUPPRESS)
    parser.add_argument("--consultation", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.consultation, args.n, args.twice, args.in_lock)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install -y valgrind")

    from tests.load.server import base_env, postgres_available, prepare, scratch_database

    if args.database == "postgresql" and not postgres_available():
        raise SystemExit("postgresql: not available")
    if args.in_lock and args.database != "sqlite":
        raise SystemExit("--in-lock: the write turn is SQLite's")
    with tempfile.TemporaryDirectory() as directory, \
            scratch_database(args.database, Path(directory)) as url:
        (consultation_id,) = prepare(url)
        # No job runner, no indexer thread: the counted process does only the requests (and
        # the index batch); a fixed hash seed for the same dict layouts on every run.
        env = base_env(url, RATELIMIT_ENABLED="false", JOBS_BACKGROUND="false",
                       SEARCH_INDEX_DELAY="3600", PYTHONHASHSEED="0")
        # What the counting itself costs (a callgrind_control call): taken off each part.
        (empty,) = count("baseline", env, consultation_id, 0, Path(directory),
                         in_lock=args.in_lock)
        figures = {}
        for target in args.targets:
            parts = [max(part - empty, 0) / args.n
                     for part in count(target, env, consultation_id, args.n, Path(directory),
                                       args.twice, args.in_lock)]
            figures[target] = sum(parts)
            line = (f"{args.database}: {TARGETS[target]:<50} "
                    f"{figures[target] / 1e6:6.3f} M instructions/request"
                    f"{' in the write turn' if args.in_lock else ''}")
            if len(parts) > 1:
                line += f" (the request {parts[0] / 1e6:.3f}, its search row {parts[1] / 1e6:.3f})"
            if target != "baseline" and "baseline" in figures:
                line += f"   ratio {figures['baseline'] / figures[target]:.2f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
