"""What the app's own request shell costs: the whole app (every extension, hook, session event
and the access log) with the baseline's one-row insert as an extra route, as a ratio of
`bench.baselines:insert` — served alike, same database, same engine settings.

    python bench/shell.py                        # SQLite and PostgreSQL, 3 rounds × 4 s
    python bench/shell.py --databases postgresql --rounds 5

A comment POST pays this shell before any comment work of its own, so it bounds what the POST
can reach (SPEC §7 asks ≥ 0.50 of the same baseline): bench/README.md, comment submission.
The extra route (`/bench/shell-rows`, CSRF-exempt, writing to its own table) exists only in
the app this module builds for gunicorn (`bench.shell:create()`), never in the product.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Target, compare  # noqa: E402
from bench.submit import INSERT_SCRIPT  # noqa: E402

ROUTE = "/bench/shell-rows"
TABLE = "bench_shell_rows"


def create():
    """The app with the baseline's insert as a route (gunicorn: `bench.shell:create()`)."""
    from flask import jsonify, request
    from sqlalchemy import text

    from app import app
    from consult.extensions import csrf, db

    with app.app_context(), db.engine.begin() as connection:
        key = ("BIGSERIAL PRIMARY KEY" if db.engine.dialect.name == "postgresql"
               else "INTEGER PRIMARY KEY")
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, "
                                "body TEXT NOT NULL)"))

    @csrf.exempt
    def add_row():
        body = (request.get_json(silent=True) or {}).get("body") or ""
        row_id = db.session.execute(
            text(f"INSERT INTO {TABLE} (body) VALUES (:body) RETURNING id"), {"body": body},
        ).scalar_one()
        db.session.commit()  # a POST's session: BEGIN IMMEDIATE and the writer lock on SQLite
        return jsonify(id=row_id), 201

    app.add_url_rule(ROUTE, "bench_shell_rows", add_row, methods=["POST"])
    return app


def main() -> None:
    from tests.load.server import base_env, postgres_available, prepare, scratch_database

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    for kind in args.databases:
        if kind == "postgresql" and not postgres_available():
            print("postgresql: not available, skipped")
            continue
        with tempfile.TemporaryDirectory() as directory, \
                scratch_database(kind, Path(directory)) as url:
            prepare(url)
            env = base_env(url, RATELIMIT_ENABLED="false")
            baseline = Target("bench.baselines:insert", "/rows", env, script=INSERT_SCRIPT)
            shell = Target("bench.shell:create()", ROUTE, env, script=INSERT_SCRIPT,
                           ready_path="/healthz")
            result = compare(shell, baseline, rounds=args.rounds, seconds=args.seconds)
            print(result.line(f"{kind}: the app's shell + one-row insert"), flush=True)


if __name__ == "__main__":
    main()
