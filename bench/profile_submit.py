"""Where a comment POST spends its time: the statements it sends and a cProfile of N POSTs.

    python bench/profile_submit.py                  # SQLite file in a temporary directory
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/profile_submit.py
    python bench/profile_submit.py -n 500 --sort cumulative

In-process (Flask's test client, no server), on a freshly migrated database with one open
consultation, rate limits off; the per-POST time includes the commit's fsync.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="POSTs to time and to profile")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="consult-profile-")
    os.environ.update(SECRET_KEY="profile", BASE_URL="http://127.0.0.1", UPLOAD_DIR=directory,
                      RATELIMIT_ENABLED="false")
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
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute",
                         lambda *a: statements.append(a[2].split("\n")[0][:100]))
        client = app.test_client()

        def post(i: int) -> None:
            answer = client.post(
                f"/api/v1/consultations/{consultation_id}/comments",
                json={"body": f"建议将第三条的公示期延长至十五日（{i}）", "category": "individual",
                      "article": 1},
                headers={"Idempotency-Key": uuid.uuid4().hex})
            assert answer.status_code == 201, answer.data

        for i in range(50):  # warm up: caches, pools, compiled statements
            post(i)
        statements.clear()
        post(-1)
        print("statements of one POST:", *statements, sep="\n  ")
        start = time.perf_counter()
        for i in range(args.n):
            post(1000 + i)
        per_post = (time.perf_counter() - start) * 1000 / args.n
        print(f"{per_post:.1f} ms per POST (wall, no profiler)")
        profile = cProfile.Profile()
        profile.enable()
        for i in range(args.n):
            post(100000 + i)
        profile.disable()
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
