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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Target, compare  # noqa: E402
from bench.report_bench import make_app, publish, seed  # noqa: E402
from consult import clock  # noqa: E402
from consult.comments.counts import recount  # noqa: E402
from consult.consultations.models import Consultation  # noqa: E402
from consult.extensions import db  # noqa: E402
from tests.load.server import base_env, postgres_available, prepare, scratch_database  # noqa: E402

HELLO = Target("bench.baselines:hello", "/")


def populate(url: str, size: int, *, report: bool = True) -> int:
    """The consultation with `size` comments (and its published report); its id."""
    app = make_app(url)
    with app.app_context():
        started = time.monotonic()
        consultation_id = seed(size, random.Random(size))
        if report:
            publish(consultation_id)
            consultation = db.session.get(Consultation, consultation_id)
            consultation.report_published_at = clock.now()
        recount(consultation_id)  # the comments were inserted in bulk, past the ORM
        db.session.commit()
        print(f"  seeded {size} comments and the report in {time.monotonic() - started:.0f} s",
              flush=True)
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
                    result = compare(target, HELLO, rounds=rounds, seconds=seconds)
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
    values = sorted(f.cpu_ms_per_request or 0.0 for f in rounds)
    return values[len(values) // 2]


def print_table(results: list[dict]) -> None:
    print("\n| database | comments | page | served | req/s | hello req/s | ratio | CPU ms/req "
          "| CPU ratio | bad answers |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['database']} | {r['size']:,} | {r['page']} | "
              f"{'cache' if r['cached'] else 'rendered'} | {r['rps']:.0f} | {r['hello']:.0f} | "
              f"**{r['ratio']:.2f}** | {r['cpu_ms']:.2f} | {r['cpu_ratio']:.2f} | {r['bad']} |")
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
