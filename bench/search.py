"""Benchmark: search latency as the index grows — 10 000, 100 000 and 1 000 000 comments.

Run by hand, not in CI (see bench/README.md):

    python bench/search.py                                   # SQLite (a scratch file)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_find python bench/search.py
    python bench/search.py --sizes 10000 100000              # other sizes
    DATABASE_URL=... python bench/search.py --sizes 1000000 --keep   # keep it for EXPLAIN

For each size it builds a fresh database (SQLite: a temporary file; PostgreSQL: a scratch
database created beside DATABASE_URL's and dropped at the end, unless --keep) with 60 public
consultations of 30 articles each and `size` published comments, written straight into the
index table with the app's own tokenizer (the comments themselves are not needed to search):
in batches on SQLite (its triggers fill FTS5), by COPY on PostgreSQL (the GIN index built once
afterwards). Comments are synthetic Chinese sentences from policy phrases, a tenth in
traditional characters; a few words are planted at known rates, one of them (古城) only in the
oldest tenth. Then, in the same process, it times (median of --repeat runs) the engine's ranked
top 20 for: a common two-character word (就业, ~1 in 4 comments), a rarer one (罚款, ~1 in 20),
a rare word (滨河, 1 in 1 000), a four-character phrase, a one-character prefix, a filtered
query, two words, the word of old comments, and GET /api/v1/search through the test client,
against a hello-world route of the same app (the baseline). It prints each figure and its
growth from the smallest to the largest size: linear growth would be the size ratio (×100 for
10k → 1M).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from consult import clock, create_app  # noqa: E402
from consult.auth.models import Unit  # noqa: E402
from consult.consultations.models import (  # noqa: E402
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    State,
)
from consult.extensions import db  # noqa: E402
from consult.search.engine import SearchParams, search  # noqa: E402
from consult.search.models import Kind, SearchDocument  # noqa: E402
from consult.textfold import search_tokens  # noqa: E402

BATCH = 5_000
CONSULTATIONS = 60
ARTICLES = 30
SUBJECTS = ["公共数据", "停车收费", "物业管理", "电动自行车", "养老服务", "垃圾分类", "学前教育",
            "住房保障", "营商环境", "医疗保障", "交通出行", "文物保护", "消防安全", "食品安全"]
PHRASES = [
    "建议将{s}的期限由三十日延长至六十日，以便群众有足够时间准备材料。",
    "本条关于{s}的规定过于原则，建议明确责任部门和办理时限，避免互相推诿。",
    "支持出台本办法，{s}关系群众切身利益，建议增加对老年人的便利措施。",
    "建议参考其他城市{s}的做法，设立过渡期，并在过渡期内加强宣传和指导。",
    "{s}工作中应当加强信息公开，定期公布办理情况，接受社会监督。",
]
COMMON = "要把稳就业放在突出位置，就业是最大的民生。"  # ~1 in 4
RARER = "违反规定的应当依法处以罚款，罚款标准应当与违法情节相适应。"  # ~1 in 20
RARE = "滨河路段的管理也应纳入。"  # 1 in 1 000
OLD = "老城区古城墙周边的停车也应统筹。"  # 1 in 5 of the oldest tenth, none after
TRADITIONAL = str.maketrans("业据务场车电议关规应当时间设过渡强"
                            "业据务场车电议关规应当时间设过渡强",
                            "業據務場車電議關規應當時間設過渡強"
                            "業據務場車電議關規應當時間設過渡強")

QUERIES = [
    ("common 2-char (就业)", SearchParams(q="就业")),
    ("rarer 2-char (罚款)", SearchParams(q="罚款")),
    ("rare 2-char (滨河)", SearchParams(q="滨河")),
    ("phrase (公共数据开放)", SearchParams(q="公共数据开放")),
    ("1-char prefix (滨)", SearchParams(q="滨")),
    ("filtered (就业, comments, 2026)", SearchParams(q="就业", kind=Kind.COMMENT, year=2026)),
    ("two words (停车 收费)", SearchParams(q="停车 收费")),
    ("word of old comments only (古城)", SearchParams(q="古城")),
]


def comment_text(rng: random.Random, old: bool = False) -> str:
    parts = [rng.choice(PHRASES).format(s=rng.choice(SUBJECTS))
             for _ in range(rng.randint(1, 3))]
    roll = rng.random()
    if roll < 0.25:
        parts.insert(rng.randint(0, len(parts)), COMMON)
    if rng.random() < 0.05:
        parts.append(RARER)
    if rng.random() < 0.001:
        parts.append(RARE)
    if old:
        parts.append(OLD)
    body = "".join(parts)
    return body.translate(TRADITIONAL) if rng.random() < 0.1 else body


def make_app(url: str):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "OUTBOX_BACKGROUND": False, "RATELIMIT_ENABLED": False})

    @app.get("/_bench/hello")
    def hello():
        return "Hello, World!"

    return app


def load(size: int, seed: int = 7) -> None:
    """The consultations (through the ORM: their index rows follow) and `size` comment rows
    written straight into the index."""
    rng = random.Random(seed)
    unit = Unit(name="市基准测试局")
    db.session.add(unit)
    now = clock.now()
    consultations = []
    for i in range(CONSULTATIONS):
        c = Consultation(title=f"郑州市{SUBJECTS[i % len(SUBJECTS)]}管理办法（第{i}稿）",
                         type=ConsultationType.NORMATIVE_DOCUMENT, unit=unit,
                         state=State.SCHEDULED, summary="为规范管理，制定本办法。",
                         explanation="", opens_at=now - timedelta(days=40),
                         closes_at=now - timedelta(days=5), approved_at=now - timedelta(days=41))
        version = DraftVersion(number=1)
        c.versions.append(version)
        for n in range(1, ARTICLES + 1):
            version.articles.append(Article(
                number=n, label=f"第{n}条",
                text=rng.choice(PHRASES).format(s=rng.choice(SUBJECTS))
                + (RARER if n == 20 else "")))
        db.session.add(c)
        consultations.append(c)
    db.session.commit()
    dialect = db.session.get_bind().dialect.name
    started = time.perf_counter()
    # Plain ids: the rows are made while COPY holds the connection (no lazy loads then).
    rows = _comment_rows(rng, size, [c.id for c in consultations], unit.id, now)
    if dialect == "postgresql":
        _copy_postgresql(rows)
    else:
        table = SearchDocument.__table__
        while batch := list(itertools.islice(rows, BATCH)):
            db.session.execute(insert(table), batch)
            db.session.commit()
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"  loaded {size:,} index rows in {time.perf_counter() - started:.1f} s", flush=True)


COLUMNS = ("kind", "ref_id", "consultation_id", "unit_id", "doc_type", "year", "dated_at",
           "title", "body", "title_tokens", "body_tokens")


def _comment_rows(rng, size: int, consultation_ids: list[int], unit_id: int,
                  now) -> Iterator[dict]:
    ref = 10_000_000
    for i in range(size):
        body = comment_text(rng, old=i < size // 10 and i % 5 == 0)
        consultation_id = consultation_ids[i % CONSULTATIONS]
        created = now - timedelta(days=40) + timedelta(seconds=i % 3_000_000)
        yield {"kind": Kind.COMMENT, "ref_id": ref + i, "consultation_id": consultation_id,
               "unit_id": unit_id, "doc_type": "normative_document",
               "year": clock.local_date(created).year, "dated_at": created,
               "title": "", "body": body, "title_tokens": "",
               "body_tokens": search_tokens(body)}


def _copy_postgresql(rows: Iterator[dict]) -> None:
    """COPY the rows in (the generated tsvector is computed as they arrive), with the
    comments' GIN index dropped during the load and built once afterwards."""
    db.session.execute(text("DROP INDEX ix_search_documents_search_vector"))
    db.session.commit()
    raw = db.session.connection().connection.driver_connection
    statement = f"COPY search_documents ({', '.join(COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([str(row[c]) if c == "kind" else row[c] for c in COLUMNS])
    db.session.commit()
    db.session.execute(text("SET maintenance_work_mem = '256MB'"))
    db.session.execute(text("CREATE INDEX ix_search_documents_search_vector "
                            "ON search_documents USING gin (search_vector)"))
    db.session.commit()
    # What autovacuum does to a table this size soon after: statistics, the visibility map.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE search_documents"))


def timed(func, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_size(url: str, size: int, repeat: int, keep: bool = False) -> dict:
    app = make_app(url)
    figures = {}
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        load(size)
        figures["load s"] = time.perf_counter() - started
        client = app.test_client()
        figures["hello ms"] = timed(lambda: client.get("/_bench/hello"), repeat * 5)[0] * 1000
        for name, params in QUERIES:
            search(params)  # warm the caches once
            seconds, results = timed(lambda p=params: search(p), repeat)
            figures[f"{name} ms"] = seconds * 1000
            figures[f"{name} matches"] = results.total
        seconds, response = timed(lambda: client.get("/api/v1/search?q=就业"), repeat)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        figures["GET /api/v1/search?q=就业 ms"] = seconds * 1000
        db.session.remove()
        if not keep:
            db.drop_all()
        db.engine.dispose()
    return figures


def scratch_database(base: str):
    """A scratch PostgreSQL database beside `base`'s (created now; drop it with the callback)."""
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true",
                        help="keep each scratch database (to look at plans) and print its URL")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    results = {}
    for size in args.sizes:
        if url.startswith("postgres"):
            db_url, drop = scratch_database(url)
        else:
            folder = tempfile.mkdtemp(prefix="bench-search-")
            db_url = f"sqlite:///{folder}/bench.db"
            drop = lambda folder=folder: shutil.rmtree(folder, ignore_errors=True)  # noqa: E731
        try:
            results[size] = run_size(db_url, size, args.repeat, args.keep)
        finally:
            if args.keep:
                print(f"size {size}: kept {db_url}", flush=True)
            else:
                drop()
        print(f"size {size}: " + ", ".join(f"{k} {v:.1f}" for k, v in results[size].items()),
              flush=True)
    sizes = sorted(results)
    first, last = sizes[0], sizes[-1]
    print(f"\n{'database':<10} {url.split(':', 1)[0] or 'sqlite'}")
    header = ["figure"] + [f"{s:,}" for s in sizes] + [f"growth ×{last // first}"]
    print(" | ".join(header))
    for key in results[first]:
        row = [key] + [f"{results[s][key]:.1f}" for s in sizes]
        if key.endswith("ms") and results[first][key] > 0:
            row.append(f"×{results[last][key] / results[first][key]:.2f}")
            baseline = results[last]["hello ms"]
            row[-1] += f" ({results[last][key] / baseline:.0f}× hello at {last:,})"
        else:
            row.append("")
        print(" | ".join(row))


if __name__ == "__main__":
    main()
