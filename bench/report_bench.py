"""Benchmark: building and showing the adoption report for 10 000 and 100 000 comments.

Run by hand, not in CI (see bench/README.md):

    python bench/report_bench.py                 # SQLite (a scratch file), 10k and 100k
    DATABASE_URL=postgresql://... python bench/report_bench.py   # also that database
    python bench/report_bench.py --sizes 1000 10000              # other sizes

For each size it bulk-inserts one closed consultation whose comments are all answered (SQLAlchemy
core, in batches), then measures wall time (without tracemalloc, median of --repeat runs) and peak
Python memory (tracemalloc, a separate run) of `build_report`, and of rendering the report page
(first page, a search, a later page) through the test client; a hello-world Flask route in the
same process is the baseline. It prints how each figure grows from the smallest to the largest
size (linear growth: ratio ≈ size ratio). On a DATABASE_URL database it only adds its own rows
and deletes them at the end; the SQLite file is a temporary one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, select  # noqa: E402

from consult import clock, create_app  # noqa: E402
from consult.answers import report_page  # noqa: E402
from consult.answers.models import Disposition, DispositionCode, Report  # noqa: E402
from consult.answers.services import build_report, digest_of  # noqa: E402
from consult.auth.models import Unit  # noqa: E402
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

ARTICLES = 40
REASON = "经研究，已有相关规定，暂不采纳。"
BATCH = 5_000
REGIONS = [None, "金水区", "二七区", "中原区", "管城回族区", "惠济区", "郑东新区"]
PHRASES = [
    "建议将第{n}条中的期限由三十日延长至六十日，以便企业有足够时间准备材料。",
    "本条规定的处罚幅度过大，建议区分情节轻重，首次违法且及时改正的可以不予处罚。",
    "请明确“有关部门”具体指哪个部门，避免多头管理、互相推诿。",
    "支持出台本办法。建议增加对老年人、残疾人的便利措施，线下窗口应当保留。",
    "联系电话13812345678，如需进一步说明可以联系我。",
    "建议参考其他城市的做法，设立过渡期，并在过渡期内加强宣传和指导。",
]


def make_app(url: str):
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "consult.bench",
        "OUTBOX_BACKGROUND": False, "RATELIMIT_ENABLED": False,
    })

    @app.get("/_bench/hello")
    def hello():
        return "Hello, World!"

    return app


def seed(size: int, rng: random.Random) -> int:
    """One closed consultation with `size` comments, all answered; returns its id."""
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
    article_ids = [a.id for a in version.articles]
    statuses = ([CommentStatus.PUBLISHED] * 18 + [CommentStatus.HIDDEN]
                + [CommentStatus.UNVERIFIED])
    categories, channels = list(Category), list(Channel)
    prefix = f"{consultation.id:x}".upper()
    rows = []
    for i in range(size):
        status = rng.choice(statuses)
        created = now - timedelta(days=40) + timedelta(seconds=rng.randrange(35 * 86400))
        article = rng.choice(article_ids + [None] * 4)
        rows.append({
            "tracking_no": f"B{prefix}-{i}"[:16], "consultation_id": consultation.id,
            "version_id": version.id, "article_id": article,
            "body": rng.choice(PHRASES).format(n=rng.randrange(1, ARTICLES + 1))
            * rng.randint(1, 3),
            "category": rng.choice(categories), "channel": rng.choice(channels),
            "region": rng.choice(REGIONS), "display_name": None, "publish_name": False,
            "notify": False, "status": status,
            "hidden_reason": rng.choice(list(HiddenReason)) if status == "hidden" else None,
            "created_at": created, "received_at": created,
        })
        if len(rows) == BATCH:
            db.session.execute(insert(Comment), rows)
            rows = []
    if rows:
        db.session.execute(insert(Comment), rows)
    published = db.session.scalars(
        select(Comment.id).where(Comment.consultation_id == consultation.id,
                                 Comment.status == CommentStatus.PUBLISHED)
    ).all()
    codes = list(DispositionCode)
    answers = []
    for comment_id in published:
        code = rng.choice(codes)
        answers.append({
            "comment_id": comment_id, "code": code, "answered_at": now,
            "reason": None if code == DispositionCode.ADOPTED else REASON,
        })
        if len(answers) == BATCH:
            db.session.execute(insert(Disposition), answers)
            answers = []
    if answers:
        db.session.execute(insert(Disposition), answers)
    db.session.commit()
    return consultation.id


def publish(consultation_id: int) -> int:
    """Freeze the report as publish_report does (without audit and mail); returns its id."""
    consultation = db.session.get(Consultation, consultation_id)
    now = clock.now()
    content = build_report(consultation, revision=1, summary="基准测试", published_at=now)
    content["digest"] = digest_of(content)
    report = Report(consultation=consultation, revision=1, summary="基准测试", content=content,
                    digest=content["digest"], published_at=now)
    consultation.state = State.REPORT_PUBLISHED
    db.session.add(report)
    db.session.commit()
    report_id = report.id
    db.session.expunge_all()
    return report_id


def cleanup(consultation_id: int) -> None:
    db.session.rollback()
    comment_ids = select(Comment.id).where(Comment.consultation_id == consultation_id)
    consultation = db.session.get(Consultation, consultation_id)
    unit_id = consultation.unit_id
    db.session.expunge_all()
    db.session.execute(delete(Report).where(Report.consultation_id == consultation_id))
    db.session.execute(delete(Disposition).where(Disposition.comment_id.in_(comment_ids)))
    db.session.execute(delete(Comment).where(Comment.consultation_id == consultation_id))
    version_ids = select(DraftVersion.id).where(DraftVersion.consultation_id == consultation_id)
    db.session.execute(delete(Article).where(Article.version_id.in_(version_ids)))
    db.session.execute(delete(DraftVersion).where(DraftVersion.consultation_id == consultation_id))
    db.session.execute(delete(Consultation).where(Consultation.id == consultation_id))
    db.session.execute(delete(Unit).where(Unit.id == unit_id))
    db.session.commit()


def measure(fn, repeat: int) -> tuple[float, float, float]:
    """(median wall seconds, median CPU seconds of this process — steadier on a busy machine —
    both without tracemalloc, and the peak MiB of one more run under tracemalloc)."""
    times, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), statistics.median(cpu), peak / 2**20


def bench_database(url: str, sizes: list[int], repeat: int) -> list[dict]:
    app = make_app(url)
    results = []
    with app.app_context():
        db.create_all()
        client = app.test_client()
        rng = random.Random(20240501)
        hello_wall, hello_cpu, _mib = measure(
            lambda: [client.get("/_bench/hello") for _ in range(200)], repeat)
        hello, hello_cpu = hello_wall / 200, hello_cpu / 200
        print(f"\n== {db.engine.dialect.name}: hello-world route {hello * 1000:.3f} ms/request "
              f"({hello_cpu * 1000:.3f} ms CPU)")
        for size in sizes:
            start = time.perf_counter()
            consultation_id = seed(size, rng)
            seeded = time.perf_counter() - start
            consultation = db.session.get(Consultation, consultation_id)

            def build(consultation=consultation):
                build_report(consultation, revision=1, summary="", published_at=clock.now())
                db.session.expire_all()

            build_time, build_cpu, build_mem = measure(build, repeat)
            publish(consultation_id)
            size_json = len(json.dumps(
                db.session.scalar(select(Report.content).where(
                    Report.consultation_id == consultation_id)), ensure_ascii=False
            ).encode())
            db.session.expunge_all()
            pages = {}

            def cold(url_=f"/consultations/{consultation_id}/report"):
                report_page._cache.clear()  # the first view of a revision in a process
                response = client.get(url_)
                assert response.status_code == 200, (url_, response.status_code)
                db.session.expunge_all()

            pages["cold"] = measure(cold, repeat)
            for name, query in (("page", ""), ("search", "?q=过渡期"),
                                ("page 20", "?page=20"), ("article", "?article=7")):
                url_ = f"/consultations/{consultation_id}/report{query}"

                def get(url_=url_):
                    response = client.get(url_)
                    assert response.status_code == 200, (url_, response.status_code)
                    db.session.expunge_all()

                get()  # warm (caches, template compilation)
                pages[name] = measure(get, repeat)

            url_ = f"/consultations/{consultation_id}/report"
            etag = client.get(url_).headers["ETag"]

            def revalidate(url_=url_, etag=etag):  # a returning reader or a caching proxy
                response = client.get(url_, headers={"If-None-Match": etag})
                assert response.status_code == 304, response.status_code
                db.session.expunge_all()

            pages["304"] = measure(revalidate, repeat)
            row = {"database": db.engine.dialect.name, "size": size, "seed_s": seeded,
                   "build_s": build_time, "build_cpu_s": build_cpu, "build_mib": build_mem,
                   "json_mib": size_json / 2**20, "hello_ms": hello * 1000, "pages": pages}
            results.append(row)
            print(f"{size:>7} comments: seeded in {seeded:.1f} s; report JSON "
                  f"{row['json_mib']:.1f} MiB")
            print(f"         build_report {build_time:.3f} s ({build_cpu:.3f} s CPU), "
                  f"peak {build_mem:.1f} MiB")
            for name, (seconds, cpu, mib) in pages.items():
                print(f"         report {name:<8} {seconds * 1000:8.1f} ms ({cpu * 1000:7.1f} ms"
                      f" CPU), peak {mib:6.1f} MiB, {hello_cpu / cpu * 100:5.1f} % of the"
                      f" hello-world rate (CPU)")
            cleanup(consultation_id)
    return results


def print_growth(results: list[dict]) -> None:
    by_db: dict[str, list[dict]] = {}
    for row in results:
        by_db.setdefault(row["database"], []).append(row)
    for name, rows in by_db.items():
        if len(rows) < 2:
            continue
        small, large = rows[0], rows[-1]
        factor = large["size"] / small["size"]
        print(f"\n== growth on {name}, {small['size']} → {large['size']} comments "
              f"(size × {factor:g}; linear = {factor:g})")
        print(f"   build_report time × {large['build_s'] / small['build_s']:.1f} "
              f"(CPU × {large['build_cpu_s'] / small['build_cpu_s']:.1f}), "
              f"peak memory × {large['build_mib'] / small['build_mib']:.1f}")
        for page in small["pages"]:
            (t1, c1, m1), (t2, c2, m2) = small["pages"][page], large["pages"][page]
            print(f"   report {page:<8} time × {t2 / t1:.1f} (CPU × {c2 / c1:.1f}), "
                  f"peak memory × {m2 / m1:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("OUTBOX_BACKGROUND", "false")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += bench_database(f"sqlite:///{tmp}/bench.db", args.sizes, args.repeat)
    url = os.environ.get("DATABASE_URL")
    if url:
        from consult.config import _database_url

        results += bench_database(_database_url(), args.sizes, args.repeat)
    print_growth(results)


if __name__ == "__main__":
    main()
