"""Where a comment POST spends its time: the statements it sends, and a cProfile of N POSTs by
area (request handling, the consultation, the rules, the INSERT and what the flush adds, the
commit).

    python bench/profile_submit.py                  # SQLite file in a temporary directory
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/profile_submit.py
    python bench/profile_submit.py --route form -n 500 --lines 40 --sort cumulative

In-process (Flask's test client, no server), on a freshly migrated database with one open
consultation, rate limits off. `--route api` posts JSON to the API, `--route form` the HTML form
with one browser session (its cookie and CSRF token fetched once, a fresh nonce per POST, the
303 to the receipt not followed), `both` (the default) one after the other. The per-POST time
includes the commit's fsync.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import re
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import database_cpu_seconds  # noqa: E402

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

# (area, how pstats names the function that does it). Cumulative time of each per POST; the
# areas nest (the rules hold the INSERT's flush, the commit holds the page stamps).
AREAS = [
    ("whole request (Werkzeug test client → response)", "flask/app.py", "wsgi_app"),
    ("  the view (with its commit)", "consult/web.py", "wrapped"),
    ("    consultation lookup (API: what the rules read)", "consult/comments/services.py",
     "comment_target"),
    ("    consultation lookup (form)", "consult/web.py", "public_or_404"),
    ("    form: CommentForm built", "consult/comments/forms.py", "__init__"),
    ("    form: validate_on_submit (CSRF, fields)", "flask_wtf/form.py", "validate_on_submit"),
    ("    rate-limit gate", "consult/ratelimit.py", "comment_gate"),
    ("    submit_comment (rules + INSERT)", "consult/comments/services.py", "submit_comment"),
    ("      idempotency lookup", "consult/comments/idempotency.py", "lookup"),
    ("      the article", "consult/comments/services.py", "find_article"),
    ("      sensitive words", "consult/comments/services.py", "screen"),
    ("      idempotency key and fingerprint", "consult/comments/idempotency.py", "scoped"),
    ("      idempotency fingerprint", "consult/comments/idempotency.py", "fingerprint"),
    ("      the comment built (tracking number, fields)", "consult/comments/services.py",
     "_new_comment"),
    ("      the INSERT and what follows it", "consult/comments/services.py", "_insert"),
    ("        count shard upsert", "consult/comments/counts.py", "add"),
    ("        search index row", "consult/search/indexing.py", "_comment_submitted"),
    ("          masked text", "consult/comments/masking.py", "mask"),
    ("          search tokens", "consult/textfold.py", "search_tokens"),
    ("        page-cache scopes noted", "consult/pagecache.py", "_comment_submitted"),
    ("      session.flush (what else was written)", "sqlalchemy/orm/session.py", "_flush"),
    ("    session.commit", "sqlalchemy/orm/scoping.py", "commit"),
    ("      the database's COMMIT (fsync)", "~", "<method 'commit' of 'sqlite3.Connection' "
     "objects>"),
    ("      page-cache stamps renewed", "consult/pagecache.py", "_after_commit"),
    ("    redirect + flash (form)", "flask/helpers.py", "flash"),
    ("  before_request hooks", "flask/app.py", "preprocess_request"),
    ("  after_request hooks (+ session cookie)", "flask/app.py", "process_response"),
]


def area_table(stats: pstats.Stats, posts: int) -> list[str]:
    """Cumulative ms per POST of each area, and its share of the whole request."""
    found: dict[tuple[str, str], float] = {}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for _label, file_part, function in AREAS:
            if name == function and (file_part == "~" or filename.endswith(file_part)):
                key = (file_part, function)
                found[key] = max(found.get(key, 0.0), cumulative)
    whole = found.get(AREAS[0][1:], 0.0) * 1000 / posts or 1.0
    lines = []
    for label, file_part, function in AREAS:
        seconds = found.get((file_part, function))
        if seconds:
            ms = seconds * 1000 / posts
            lines.append(f"  {label:<52} {ms:7.2f} ms  {100 * ms / whole:5.1f} %")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="POSTs to time and to profile")
    parser.add_argument("--route", choices=["api", "form", "both"], default="both")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    parser.add_argument("--lines", type=int, default=0, help="pstats lines to print (0: none)")
    parser.add_argument("--callees", metavar="FUNCTION", default="",
                        help="print what the functions of this name call (pstats callees)")
    parser.add_argument("--callers", metavar="FUNCTION", default="",
                        help="print what calls the functions of this name (pstats callers)")
    parser.add_argument("--echo", action="store_true",
                        help="log one POST's statements with SQLAlchemy's statement-cache notes "
                             "([cached since …] or [generated in …]: compiled again)")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="consult-profile-")
    os.environ.update(SECRET_KEY="profile", BASE_URL="http://127.0.0.1", UPLOAD_DIR=directory,
                      RATELIMIT_ENABLED="false", CACHE_DIR=os.path.join(directory, "cache"))
    from tests.load.server import prepare, scratch_database

    kind = "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite"
    with scratch_database(kind, Path(directory)) as url:
        os.environ["DATABASE_URL"] = url  # read by consult.config when it is imported
        (consultation_id,) = prepare(url)
        from sqlalchemy import event

        from consult import create_app
        from consult.extensions import db

        app = create_app()
        statements: list[str] = []
        driver = DriverClock()
        main_thread = threading.get_ident()  # the POSTs' (not the search indexer's thread)

        def note(statement: str) -> None:
            if threading.get_ident() == main_thread:
                statements.append(statement)

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute",
                         lambda *a: note(a[2].split("\n")[0][:100]))
            event.listen(db.engine, "commit", lambda *a: note("COMMIT"))
            event.listen(db.engine, "before_cursor_execute", driver.before)
            event.listen(db.engine, "after_cursor_execute", driver.after)
        routes = ["api", "form"] if args.route == "both" else [args.route]
        for route in routes:
            post = _poster(app, route, consultation_id)
            for i in range(50):  # warm up: caches, pools, compiled statements
                post(i)
            statements.clear()
            engine_log = logging.getLogger("sqlalchemy.engine.Engine")
            engine_log.setLevel(logging.INFO if args.echo else logging.WARNING)
            post(-1)
            engine_log.setLevel(logging.WARNING)
            queries = [s for s in statements if not s.upper().startswith(CONTROL)]
            print(f"\n== {kind}, {route}: {len(statements)} statements of one POST, "
                  f"{len(queries)} of them queries (not BEGIN/COMMIT/SAVEPOINT/RELEASE)")
            print(*statements, sep="\n  ", end="\n" if statements else "")
            driver.clear()
            database_cpu = database_cpu_seconds() if kind == "postgresql" else None
            start, cpu = time.perf_counter(), time.process_time()
            for i in range(args.n):
                post(1000 + i)
            per_post = (time.perf_counter() - start) * 1000 / args.n
            cpu_per_post = (time.process_time() - cpu) * 1000 / args.n
            print(f"{per_post:.2f} ms per POST (wall, no profiler), {cpu_per_post:.2f} ms of this "
                  "process's CPU; the database driver's time per statement (wall):")
            print(*driver.lines(args.n), sep="\n")
            waited, drained_cpu = drain(app, cpu, args.n)
            print(f"the search index rows written by the indexer's thread {waited:.2f} s after "
                  f"the last POST; CPU per comment with them: {drained_cpu:.2f} ms")
            if database_cpu is not None:  # this host's PostgreSQL server, the indexer's included
                spent = (database_cpu_seconds() - database_cpu) * 1000 / args.n
                print(f"PostgreSQL's own CPU per comment (its processes on this host): "
                      f"{spent:.2f} ms")
            profile = cProfile.Profile()
            profile.enable()
            for i in range(args.n):
                post(100000 + i)
            profile.disable()
            stats = pstats.Stats(profile)
            print("under the profiler, per POST, by area (cumulative, nested):")
            print(*area_table(stats, args.n), sep="\n")
            if args.lines:
                stats.sort_stats(args.sort).print_stats(args.lines)
            if args.callees:
                stats.sort_stats("cumulative").print_callees(args.callees)
            if args.callers:
                stats.sort_stats("cumulative").print_callers(args.callers)


def drain(app, cpu: float, posts: int) -> tuple[float, float]:
    """Wait until no comment waits for its search index row (consult/search/indexer.py writes
    them after the commit, in a thread of this process); (seconds waited after the last POST,
    this process's CPU per comment since `cpu`, the indexer's included)."""
    from consult.comments.models import UnindexedComment
    from consult.extensions import db

    last = time.perf_counter()
    deadline = last + 60
    while time.perf_counter() < deadline:
        with app.app_context():
            waiting = db.session.scalar(db.select(UnindexedComment.comment_id).limit(1))
            db.session.remove()
        if waiting is None:
            break
        time.sleep(0.02)
    return time.perf_counter() - last, (time.process_time() - cpu) * 1000 / posts


class DriverClock:
    """Wall time inside the database driver per statement of the POSTs (cursor.execute, not
    the COMMIT; the app's background job thread is left out)."""

    def __init__(self):
        self.spent: dict[str, float] = {}
        self.thread = threading.get_ident()
        self.started = 0.0

    def clear(self) -> None:
        self.spent.clear()

    def before(self, conn, cursor, statement, *args) -> None:
        if threading.get_ident() == self.thread:
            self.started = time.perf_counter()

    def after(self, conn, cursor, statement, *args) -> None:
        if threading.get_ident() != self.thread:
            return
        name = " ".join(statement.split()[:3])[:40]
        self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - self.started

    def lines(self, posts: int) -> list[str]:
        return [f"  {name:<40} {seconds * 1000 / posts:6.3f} ms"
                for name, seconds in sorted(self.spent.items(), key=lambda kv: -kv[1])]


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _poster(app, route: str, consultation_id: int):
    """A function that makes one comment through `route` (asserting its answer)."""
    client = app.test_client()
    if route == "api":
        def post(i: int) -> None:
            answer = client.post(
                f"/api/v1/consultations/{consultation_id}/comments",
                json={"body": f"建议将第三条的公示期延长至十五日（{i}）", "category": "individual",
                      "article": 1},
                headers={"Idempotency-Key": uuid.uuid4().hex})
            assert answer.status_code == 201, answer.data
        return post

    path = f"/consultations/{consultation_id}/comment"
    page = client.get(path).get_data(as_text=True)
    token = CSRF.search(page).group(1)

    def post(i: int) -> None:
        answer = client.post(path, data={
            "csrf_token": token, "nonce": uuid.uuid4().hex, "article": "1",
            "body": f"建议将第三条的公示期延长至十五日（{i}）", "category": "individual",
            "name": "", "email": "", "remark": ""})
        assert answer.status_code == 303, answer.data
        with client.session_transaction() as session:  # a browser shows the flash once
            session.pop("_flashes", None)
    return post


if __name__ == "__main__":
    main()
