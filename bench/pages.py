"""Public pages against hello-world (SPEC §7: ≥ 0.30, also with 100 000 comments): the
consultation page and the report page, served by the page cache (`consult/pagecache.py`) and
rendered anew (`PAGE_CACHE=false`), each as a ratio of `bench.baselines:hello` served alike
(gunicorn, 2 gthread workers × 8 threads, wrk with 16 connections, alternating rounds, medians).

    python bench/pages.py                                 # SQLite and PostgreSQL, 10k and 100k
    python bench/pages.py --databases sqlite --sizes 10000 100000 1000000 --pages consultation
                                                  # the growth row (no report: its JSON is 0.5 GB)
    python bench/pages.py --rounds 5 --seconds 8

For each size a scratch database gets one closed consultation with that many comments (90 %
published and answered, 5 % hidden, 5 % unverified; bench/report_bench.py's data) and its
published report. wrk sends no cookie: every request is a new anonymous reader, the crowd a news
link sends (the consultation page gives each its own CSRF token and session cookie, as a first
visit does). "uncached" renders every request: the cost of the first reader after a write.
Afterwards it prints the growth of each figure from the smallest size to the largest.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Target, compare  # noqa: E402
from bench.report_bench import ARTICLES, PHRASES, REASON, REGIONS, make_app, publish  # noqa: E402
from consult import clock  # noqa: E402
from consult.answers.models import Disposition, DispositionCode  # noqa: E402
from consult.auth.models import Unit  # noqa: E402
from consult.comments.counts import recount  # noqa: E402
from consult.comments.models import (  # noqa: E402
    Category,
    Channel,
    Comment,
    CommentStatus,
    HiddenReason,
)
from consult.consultations.models import (  # noqa: E402
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    State,
)
from consult.extensions import db  # noqa: E402
from tests.load.server import base_env, postgres_available, prepare, scratch_database  # noqa: E402

HELLO = Target("bench.baselines:hello", "/")
TIMEOUT = 30  # seconds before wrk gives up on a page: a rendered page at 1 000 000 comments,
# queued behind 15 others on 2 cores, takes longer than wrk's default 2 s


CHUNK = 50_000  # rows generated and written at a time
COMMENT_COLUMNS = ("id", "tracking_no", "consultation_id", "version_id", "article_id", "body",
                   "category", "channel", "region", "display_name", "publish_name", "notify",
                   "status", "hidden_reason", "created_at", "received_at")
ANSWER_COLUMNS = ("id", "comment_id", "code", "reason", "answered_at")


def seed(size: int, rng: random.Random) -> int:
    """One closed consultation with `size` comments, 90 % published and answered, 5 % hidden,
    5 % unverified (bench/report_bench.py's data); its id.

    The comments and answers are written in bulk, past the ORM, with ids given here (so the
    answers need not read the comments back): COPY on PostgreSQL, one executemany per chunk on
    SQLite. A million comments take a minute or two, not the ORM's quarter of an hour."""
    now = clock.now()
    unit = Unit(name=f"基准测试单位{size}-{rng.randrange(10**9)}")
    consultation = Consultation(
        title=f"基准测试管理办法（征求意见稿，{size}条意见）", type=ConsultationType.RULE,
        unit=unit, state=State.SCHEDULED, summary="基准测试", explanation="基准测试",
        opens_at=now - timedelta(days=40), closes_at=now - timedelta(days=5),
    )
    version = DraftVersion(number=1)
    consultation.versions.append(version)
    for n in range(1, ARTICLES + 1):
        version.articles.append(Article(number=n, label=f"第{n}条", text=f"第{n}条的内容。"))
    db.session.add(consultation)
    db.session.commit()
    consultation_id, version_id = consultation.id, version.id
    articles = [a.id for a in version.articles] + [None] * 4
    next_comment = (db.session.scalar(db.select(db.func.max(Comment.id))) or 0) + 1
    next_answer = (db.session.scalar(db.select(db.func.max(Disposition.id))) or 0) + 1
    db.session.commit()
    statuses = [CommentStatus.PUBLISHED] * 18 + [CommentStatus.HIDDEN, CommentStatus.UNVERIFIED]
    categories, channels, codes = list(Category), list(Channel), list(DispositionCode)
    hidden_reasons = list(HiddenReason)
    bodies = [phrase.format(n=n) * times for phrase in PHRASES
              for n in range(1, ARTICLES + 1) for times in (1, 2, 3)]
    prefix = f"{consultation_id:x}".upper()
    start = now - timedelta(days=40)
    # values as stored: SQLite keeps UTC datetimes as naive text (what SQLAlchemy writes)
    stored = (_sqlite_time if db.engine.dialect.name == "sqlite" else lambda moment: moment)
    answered_at = stored(now)
    written = 0
    while written < size:
        comments, answers = [], []
        for i in range(written, min(size, written + CHUNK)):
            status = rng.choice(statuses)
            created = stored(start + timedelta(seconds=rng.randrange(35 * 86400)))
            comments.append((
                next_comment, f"B{prefix}-{i}"[:16], consultation_id, version_id,
                rng.choice(articles), rng.choice(bodies), rng.choice(categories).value,
                rng.choice(channels).value, rng.choice(REGIONS), None, False, False, status.value,
                rng.choice(hidden_reasons).value if status == CommentStatus.HIDDEN else None,
                created, created))
            if status == CommentStatus.PUBLISHED:
                code = rng.choice(codes)
                answers.append((next_answer, next_comment, code.value,
                                None if code == DispositionCode.ADOPTED else REASON,
                                answered_at))
                next_answer += 1
            next_comment += 1
        _write(Comment.__table__, COMMENT_COLUMNS, comments)
        _write(Disposition.__table__, ANSWER_COLUMNS, answers)
        written += len(comments)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            for table in ("comments", "dispositions"):  # the ids given here, past the sequences
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
            connection.exec_driver_sql("ANALYZE")  # as autovacuum would after such a load
    return consultation_id


def _write(table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Write `rows` (values in `columns`' order, as stored) in one go and commit."""
    if not rows:
        return
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            cursor = connection.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.close()
        else:
            marks = ", ".join("?" * len(columns))
            connection.connection.driver_connection.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)


def _sqlite_time(moment: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it on SQLite: naive text with microseconds."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def populate(url: str, size: int, *, report: bool = True) -> int:
    """The consultation with `size` comments (and its published report); its id."""
    app = make_app(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with app.app_context():
        started = time.monotonic()
        consultation_id = seed(size, random.Random(size))
        if report:
            publish(consultation_id)
            consultation = db.session.get(Consultation, consultation_id)
            consultation.report_published_at = clock.now()
        recount(consultation_id)  # the comments were inserted in bulk, past the ORM
        db.session.commit()
        print(f"  seeded {size} comments{' and the report' if report else ''} in "
              f"{time.monotonic() - started:.0f} s", flush=True)
        db.session.remove()
        db.engine.dispose()
    return consultation_id


def run(kind: str, sizes: list[int], pages: list[str], rounds: int, seconds: int) -> list[dict]:
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as directory, \
                scratch_database(kind, Path(directory)) as url:
            prepare(url)
            consultation_id = populate(url, size, report="report" in pages)
            paths = {"consultation": f"/consultations/{consultation_id}",
                     "report": f"/consultations/{consultation_id}/report"}
            for page in pages:
                for cached in (True, False):
                    env = base_env(url, RATELIMIT_ENABLED="false", JOBS_BACKGROUND="false",
                                   PAGE_CACHE="true" if cached else "false",
                                   CACHE_DIR=str(Path(directory) / "pages"),
                                   CACHE_KEY_PREFIX=f"bench-{uuid.uuid4().hex}:")
                    target = Target("app:app", paths[page], env, ready_path=paths[page])
                    result = compare(target, HELLO, rounds=rounds, seconds=seconds,
                                     timeout=TIMEOUT)
                    label = f"{kind} {size:>7} {page:<12} {'cached' if cached else 'uncached'}"
                    print(result.line(label), flush=True)
                    results.append({"database": kind, "size": size, "page": page,
                                    "cached": cached, "ratio": result.ratio,
                                    "cpu_ratio": result.cpu_ratio, "rps": result.target_rps,
                                    "hello": result.baseline_rps,
                                    "cpu_ms": median_cpu(result.target),
                                    "bad": result.bad_answers})
    return results


def median_cpu(rounds) -> float:
    values = sorted(f.cpu_ms_per_request for f in rounds if f.cpu_ms_per_request is not None)
    return values[len(values) // 2] if values else 0.0


def print_table(results: list[dict]) -> None:
    print("\n| database | comments | page | served | req/s | hello req/s | ratio | CPU ms/req "
          "| CPU ratio | bad answers |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['database']} | {r['size']:,} | {r['page']} | "
              f"{'cache' if r['cached'] else 'rendered'} | {r['rps']:.0f} | {r['hello']:.0f} | "
              f"**{r['ratio']:.2f}** | {r['cpu_ms']:.2f} | {r['cpu_ratio'] or 0:.2f} | "
              f"{r['bad']} |")
    print("\nGrowth (CPU ms per request, smallest size → each larger one):")
    keys = {(r["database"], r["page"], r["cached"]) for r in results}
    for key in sorted(keys):
        rows = sorted((r for r in results if (r["database"], r["page"], r["cached"]) == key),
                      key=lambda r: r["size"])
        if len(rows) > 1:
            base = rows[0]["cpu_ms"] or 1e-9
            steps = " → ".join(f"{r['size']:,}: ×{r['cpu_ms'] / base:.2f}" for r in rows)
            print(f"  {key[0]} {key[1]} {'cache' if key[2] else 'rendered'}: {steps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--pages", nargs="+", default=["consultation", "report"],
                        choices=["consultation", "report"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    results = []
    for kind in args.databases:
        if kind == "postgresql" and not postgres_available():
            print("postgresql: not available, skipped")
            continue
        results += run(kind, args.sizes, args.pages, args.rounds, args.seconds)
    print_table(results)


if __name__ == "__main__":
    main()
