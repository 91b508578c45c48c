"""Comment submission against its floor (SPEC §7): the JSON API and the HTML form, each as a
ratio of `bench.baselines:insert` — a minimal route that durably inserts one row into the same
database with the same engine settings — served alike (gunicorn, 2 gthread workers × 8 threads,
wrk with 16 connections, alternating rounds, medians).

    python bench/submit.py                      # SQLite and PostgreSQL
    python bench/submit.py --databases sqlite --rounds 5 --seconds 8
    python bench/submit.py --routes api --rounds 7      # the API only

Every request is a new comment (the Lua script gives each its own text and idempotency key);
rate limits are off (`RATELIMIT_ENABLED=false`) because one wrk client is one address. The form
posts with one browser session (its cookie and CSRF token fetched once), each POST with a fresh
nonce; its answer is the 303 to the receipt, as a browser gets it. The script checks afterwards
that every 201/303 made its own row with its search index row, and fails otherwise.

It also prints the server's CPU per request, which on this 2-core machine (where wrk takes a
share of the CPU too) is the steadier figure.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import sys
import tempfile
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Target, compare, serve  # noqa: E402
from tests.load.server import base_env, postgres_available, prepare, scratch_database  # noqa: E402

API_SCRIPT = r"""
local counter = 0
thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("id", thread_no)  -- a global of that thread's Lua state
end
function request()
  counter = counter + 1
  local n = run_id .. "-" .. id .. "-" .. counter
  local body = '{"body": "建议将第三条的公示期由七日延长至十五日（' .. n .. '）。",'
            .. ' "category": "individual", "article": 1}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Idempotency-Key"] = "bench-" .. n}, body)
end
"""

FORM_SCRIPT = r"""
local counter = 0
thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("id", thread_no)  -- a global of that thread's Lua state
end
function request()
  counter = counter + 1
  local n = run_id .. "-" .. id .. "-" .. counter
  local body = "csrf_token=%(csrf)s&nonce=bench-" .. n
            .. "&body=%%E5%%BB%%BA%%E8%%AE%%AE" .. n
            .. "&category=individual&article=1&name=&email=&remark="
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded",
                                  ["Cookie"] = "%(cookie)s"}, body)
end
"""

INSERT_SCRIPT = r"""
local counter = 0
function request()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    '{"body": "建议将第三条的公示期由七日延长至十五日（' .. counter .. '）。"}')
end
"""

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def form_session(base_url: str, consultation_id: int) -> tuple[str, str]:
    """A browser session on the form: its cookie header and CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base_url}/consultations/{consultation_id}/comment") as answer:
        page = answer.read().decode()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, CSRF.search(page).group(1)


SETTLE_SECONDS = 1.5  # SEARCH_INDEX_DELAY's default and the last batch's time


def comment_rows(url: str) -> tuple[int, int]:
    """Comments saved, and search index rows of comments (every one was published at once)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM comments")).scalar_one()
        indexed = connection.execute(text(
            "SELECT count(*) FROM search_documents WHERE kind = 'comment'")).scalar_one()
    engine.dispose()
    return count, indexed


def run(kind: str, rounds: int, seconds: int, routes: list[str]) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as directory, \
            scratch_database(kind, Path(directory)) as url:
        (consultation_id,) = prepare(url)
        env = base_env(url, RATELIMIT_ENABLED="false")
        # The comments' search index rows are written by a thread of each worker
        # SEARCH_INDEX_DELAY after their commits: counted with the round that made them.
        settle = SETTLE_SECONDS
        answered = 0  # 201s and 303s of the measured rounds: each must be a new row
        baseline = Target("bench.baselines:insert", "/rows", env, script=INSERT_SCRIPT,
                          settle=settle)
        if "api" in routes:
            api = Target("app:app", f"/api/v1/consultations/{consultation_id}/comments", env,
                         script=API_SCRIPT, ready_path="/healthz", settle=settle)
            result = compare(api, baseline, rounds=rounds, seconds=seconds)
            answered += sum(f.requests - f.non_2xx_3xx for f in result.target)
            lines.append(result.line(f"{kind}: comment POST, API"))
            print(lines[-1], flush=True)

        if "form" in routes:
            with serve("app:app", env, ready_path="/healthz") as served:  # a form session
                cookie, csrf = form_session(served.url, consultation_id)
            form = Target("app:app", f"/consultations/{consultation_id}/comment", env,
                          script=FORM_SCRIPT % {"csrf": csrf, "cookie": cookie},
                          ready_path="/healthz", settle=settle)
            result = compare(form, baseline, rounds=rounds, seconds=seconds)
            answered += sum(f.requests - f.non_2xx_3xx for f in result.target)
            lines.append(result.line(f"{kind}: comment POST, HTML form (303)"))
            print(lines[-1], flush=True)
        saved, indexed = comment_rows(url)
        lines.append(f"{kind}: comments saved in all: {saved}, with their search index row: "
                     f"{indexed}; answered 201/303 in the measured rounds: {answered}")
        print(lines[-1], flush=True)
        if saved < answered or indexed < saved:
            # Fewer rows than answers: requests were retries of earlier keys (or rows were lost).
            raise SystemExit(f"{kind}: {answered} comments answered, {saved} saved, "
                             f"{indexed} indexed: the figures above are not of new comments")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--routes", nargs="+", default=["api", "form"], choices=["api", "form"])
    args = parser.parse_args()
    for kind in args.databases:
        if kind == "postgresql" and not postgres_available():
            print("postgresql: not available, skipped")
            continue
        run(kind, args.rounds, args.seconds, args.routes)


if __name__ == "__main__":
    main()
