"""The public statistics (F22) over 1 000 000 comments across 1 000 consultations, as a ratio
of the hello-world route (`bench.baselines:hello`), served alike (gunicorn, 2 gthread workers ×
8 threads, wrk with 16 connections, alternating rounds, medians; bench/harness.py).

    python bench/stats.py                                   # SQLite, 1 000 000 comments
    python bench/stats.py --databases sqlite postgresql --comments 200000
    python bench/stats.py --keep /tmp/stats-bench.db        # seed once (~30 min), reuse

Figures per database:
- the time to count every figure once (`consult.oversight.stats.compute`, no snapshot), for all
  years and for one year: what a request would cost without the snapshot;
- `/stats` as readers get it (STATS_MAX_AGE=300, the default): from the page cache
  (`consult/pagecache.py`, scope `stats`), which keeps the page until a consultation, report,
  policy or interpretation is written or the snapshot is due to count comments again;
- `/stats` from the snapshot with the page cache off (PAGE_CACHE=false): what a reader costs
  when the page is not kept (before the page cache served it: two queries, the snapshot's
  rendered page from memory, an ETag over it);
- `/stats` during recounts (STATS_MAX_AGE=1, so the snapshot is always old): one reader at a
  time counts again, every other reader gets the older snapshot at once;
- what `/stats` would serve if it counted on every request: at most one page per counting time
  and worker process, as a ratio of the same hello-world rate (why the snapshot exists).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Target, compare  # noqa: E402
from tests.load.server import base_env, postgres_available, prepare, scratch_database  # noqa: E402

UNITS = 20
BATCH = 20_000
REGIONS = [None, "金水区", "二七区", "中原区", "管城回族区", "惠济区", "郑东新区", "高新区",
           "经开区", "航空港区", "上街区", "新郑市", "巩义市", "登封市"]


def seed(consultations: int, comments: int) -> None:
    """Units, consultations over two years (60 % with a published report, some policies with
    interpretations) and their comments, answered where the report is out. Runs in a child
    process whose environment names the database."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from consult import create_app
    from consult.answers.models import Disposition, DispositionCode
    from consult.auth.models import Unit
    from consult.comments.models import Category, Channel, Comment, CommentStatus
    from consult.consultations.models import Consultation, ConsultationType, DraftVersion, State
    from consult.extensions import db
    from consult.policies.models import Interpretation, Policy

    rng = random.Random(14)
    app = create_app()
    with app.app_context():
        units = [Unit(name=f"基准单位{n}") for n in range(UNITS)]
        db.session.add_all(units)
        db.session.flush()
        start = datetime(2025, 1, 1, tzinfo=UTC)
        now = datetime.now(UTC)
        rows = []
        for n in range(consultations):
            opens = start + timedelta(days=rng.randrange((now - start).days - 40))
            closes = opens + timedelta(days=30)
            reported = closes < now and rng.random() < 0.6
            rows.append(Consultation(
                title=f"基准征求意见稿{n}", type=rng.choice(list(ConsultationType)),
                unit_id=rng.choice(units).id,
                state=State.REPORT_PUBLISHED if reported else State.SCHEDULED,
                opens_at=opens, closes_at=closes, approved_at=opens - timedelta(days=1),
                report_published_at=closes + timedelta(days=rng.randrange(1, 50))
                if reported else None,
            ))
            rows[-1].versions.append(DraftVersion(number=1))
        db.session.add_all(rows)
        db.session.flush()
        for c in rows:
            if c.report_published_at and rng.random() < 0.5:
                at = c.report_published_at + timedelta(days=2)
                policy = Policy(consultation_id=c.id, unit_id=c.unit_id, title="政策",
                                document_number="基准", issued_on=at.date(), text="正文",
                                published_at=at)
                db.session.add(policy)
                if rng.random() < 0.8:
                    db.session.add(Interpretation(policy=policy, title="解读", body="解读",
                                                  published_at=at + timedelta(
                                                      days=rng.randrange(0, 8))))
        db.session.commit()
        targets = [(c.id, c.versions[0].id, c.opens_at, c.report_published_at is not None)
                   for c in rows]
        per = comments // len(targets)
        statuses = [CommentStatus.PUBLISHED] * 18 + [CommentStatus.HIDDEN,
                                                     CommentStatus.UNVERIFIED]
        categories, channels, codes = list(Category), list(Channel), list(DispositionCode)
        batch, answered, made = [], [], 0
        for consultation_id, version_id, opens, reported in targets:
            for i in range(per):
                at = opens + timedelta(seconds=rng.randrange(30 * 86400))
                status = rng.choice(statuses)
                batch.append({
                    "tracking_no": f"S{consultation_id:x}-{i}", "consultation_id":
                    consultation_id, "version_id": version_id, "body": "基准意见",
                    "category": rng.choice(categories), "channel": rng.choice(channels),
                    "region": rng.choice(REGIONS), "publish_name": False, "notify": False,
                    "status": status, "created_at": at, "received_at": at,
                })
                if reported and status == CommentStatus.PUBLISHED:
                    answered.append(len(batch) - 1)
                if len(batch) == BATCH:
                    made += _flush(db, insert, Comment, Disposition, batch, answered, rng, codes)
                    batch, answered = [], []
        if batch:
            made += _flush(db, insert, Comment, Disposition, batch, answered, rng, codes)
        db.session.commit()
        print(f"seeded {len(targets)} consultations, {made} comments", flush=True)


def _flush(db, insert, Comment, Disposition, batch, answered, rng, codes) -> int:
    ids = db.session.scalars(insert(Comment).returning(Comment.id, sort_by_parameter_order=True),
                             batch).all()
    if answered:
        db.session.execute(insert(Disposition), [
            {"comment_id": ids[i], "code": rng.choice(codes), "reason": "基准理由",
             "answered_at": batch[i]["created_at"]} for i in answered])
    db.session.commit()
    return len(batch)


def timed(env: dict, code: str) -> float:
    """Seconds to run `code` (with `stats` and `Filters` imported) in an app context."""
    script = (
        "import time\nfrom consult import create_app\n"
        "from consult.oversight import stats\nfrom consult.oversight.stats import Filters\n"
        "app = create_app()\nwith app.app_context():\n"
        f"    t = time.perf_counter(); {code}; print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def run(kind: str, consultations: int, comments: int, rounds: int, seconds: int,
        keep: str | None = None):
    """Yield each figure's line as soon as it is measured."""
    with tempfile.TemporaryDirectory() as directory, \
            _database(kind, Path(directory), keep) as (url, fresh):
        env = base_env(url, RATELIMIT_ENABLED="false")
        if fresh:
            prepare(url)
            started = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--seed", str(consultations),
                            "--comments", str(comments)], env=env, check=True)
            yield f"{kind}: seeded in {time.perf_counter() - started:.0f} s"
        year = time.gmtime().tm_year
        counted = {}
        for label, code in (("all years", "stats.compute(Filters())"),
                            (f"year {year}", f"stats.compute(Filters(year={year}))")):
            counted[label] = timed(env, code)
            yield f"{kind}: counting every figure once, {label}: {counted[label]:.2f} s"
        hello = Target("bench.baselines:hello", "/")
        timed(env, "stats.figures(Filters())")  # the snapshot the served app then reads
        for label, extra in (
                ("/stats (page cache)", {"STATS_MAX_AGE": "300"}),
                ("/stats (snapshot, page cache off)", {"STATS_MAX_AGE": "300",
                                                       "PAGE_CACHE": "false"}),
                ("/stats (recounting, older snapshot)", {"STATS_MAX_AGE": "1"})):
            served = {**env, **extra, "CACHE_DIR": str(Path(directory) / uuid.uuid4().hex),
                      "CACHE_KEY_PREFIX": f"bench-{uuid.uuid4().hex}:"}
            result = compare(Target("app:app", "/stats", served, ready_path="/healthz"), hello,
                             rounds=rounds, seconds=seconds)
            yield result.line(f"{kind}: {label}")
        # Without the snapshot every request would count: at best one per counting time and
        # worker process (2), against the hello-world route's rate just measured.
        ceiling = 2 / counted["all years"]
        yield (f"{kind}: /stats counted on every request: at most {ceiling:.2f}/s vs "
               f"{result.baseline_rps:.0f}/s ratio {ceiling / result.baseline_rps:.5f}")


@contextlib.contextmanager
def _database(kind: str, directory: Path, keep: str | None):
    """(url, fresh): a scratch database, or the SQLite file `keep` (seeded once, reused)."""
    if keep and kind == "sqlite":
        path = Path(keep).resolve()
        yield f"sqlite:///{path}", not path.exists()
        return
    with scratch_database(kind, directory) as url:
        yield url, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--consultations", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--keep", help="SQLite file to seed once and reuse in later runs")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.seed, args.comments)
        return
    for kind in args.databases:
        if kind == "postgresql" and not postgres_available():
            print("postgresql: not available, skipped")
            continue
        for line in run(kind, args.consultations, args.comments, args.rounds, args.seconds,
                        args.keep):
            print(line, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
