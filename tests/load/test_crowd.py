"""A crowd cannot break it: many citizens comment at once through a real server (SPEC §7).

Every answer is a 201 (saved durably) or a 429/503 carrying Retry-After — never a 500, a hang,
or a success that was not saved — on SQLite (the embedded default) and PostgreSQL alike.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, text

from bench.crowd import Outcome, Person, address, count_lost, run_crowd, submit_api, submit_form


def saved_rows(server, consultation_id: int) -> set[str]:
    engine = create_engine(server.env["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return set(conn.execute(
                text("SELECT tracking_no FROM comments WHERE consultation_id = :c"),
                {"c": consultation_id}).scalars())
    finally:
        engine.dispose()


def kept_counts(server, consultation_id: int) -> tuple[int, int]:
    """The consultation's kept counts (consult/comments/counts.py): its totals by status, and its
    comments received per article — each summed over its shard rows."""
    engine = create_engine(server.env["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            totals, per_article = (conn.execute(text(
                "SELECT coalesce(sum(n), 0) FROM comment_counts WHERE consultation_id = :c "
                f"AND {where}"), {"c": consultation_id}).scalar_one()
                for where in ("version_id = 0", "status = '*'"))
            return int(totals), int(per_article)
    finally:
        engine.dispose()


def search_rows(server, consultation_id: int, seconds: float = 60) -> tuple[int, int]:
    """(published comments, their search index rows) once no comment waits for its row: each
    worker's indexer writes the rows of the comments it took, a second after (SEARCH_INDEX_DELAY,
    consult/search/indexer.py)."""
    engine = create_engine(server.env["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    scope = {"c": consultation_id}
    try:
        deadline = time.monotonic() + seconds
        while True:
            with engine.connect() as conn:
                waiting = conn.execute(text(
                    "SELECT count(*) FROM unindexed_comments JOIN comments "
                    "ON comments.id = comment_id WHERE consultation_id = :c"), scope).scalar_one()
                if not waiting or time.monotonic() > deadline:
                    published = conn.execute(text(
                        "SELECT count(*) FROM comments WHERE consultation_id = :c "
                        "AND status = 'published'"), scope).scalar_one()
                    rows = conn.execute(text(
                        "SELECT count(*) FROM search_documents WHERE kind = 'comment' "
                        "AND consultation_id = :c"), scope).scalar_one()
                    return published, rows
            time.sleep(0.2)
    finally:
        engine.dispose()


def check(result, server, consultation_id, *, at_least: float):
    result.lost = count_lost(server.url, result.tracking_nos)
    print(result.summary())
    assert result.errors == 0, (result.error_samples(), server.output()[-3000:])
    assert result.saved >= at_least * len(result.outcomes), result.summary()
    rows = saved_rows(server, consultation_id)
    assert len(result.tracking_nos) == len(set(result.tracking_nos))
    assert rows == set(result.tracking_nos), "every 201 is a row, and every row had its 201"
    assert kept_counts(server, consultation_id) == (len(rows), len(rows)), "each counted once"
    assert result.lost == 0
    published, indexed = search_rows(server, consultation_id)
    assert published and indexed == published, "every published comment found by search, once"


def test_2000_citizens_from_64_at_once_are_all_answered_and_saved(served):
    """2 000 people, 64 at a time, each from their own address, half by the form, half by the
    API, with the production rate limits."""
    server, consultation_id = served()
    result = run_crowd(server.url, consultation_id, 2000, 64, mode="mixed")
    check(result, server, consultation_id, at_least=0.95)


def test_200_people_behind_one_address_are_not_turned_away(served):
    """A school or a mobile carrier's NAT: 200 people, one address, each in their own browser."""
    server, consultation_id = served()
    result = run_crowd(server.url, consultation_id, 200, 32, mode="form", one_address=True)
    check(result, server, consultation_id, at_least=0.95)


def test_one_client_hammering_gets_429s_with_retry_after_and_nothing_else(served):
    """One client (one address, no cookies, no e-mail) sending 100 at once: ten are saved, the
    rest are refused politely."""
    server, consultation_id = served()
    result = run_crowd(server.url, consultation_id, 100, 16, mode="api", one_address=True)
    result.lost = count_lost(server.url, result.tracking_nos)
    print(result.summary())
    assert result.errors == 0, result.error_samples()
    if "REDIS_URL" in server.env:  # counted once, in Redis, for both workers
        assert result.saved == 10
    else:  # each worker counts in its own memory (the laptop default; set REDIS_URL to share)
        assert 10 <= result.saved <= 20
    assert result.refused == 100 - result.saved
    assert saved_rows(server, consultation_id) == set(result.tracking_nos)


def test_a_consultation_withdrawn_mid_crowd_takes_nothing_sent_after(served):
    """Both workers keep the consultation for its comments (consult/comments/targets.py) while
    64 people comment at once, half by the form and half by the API; staff withdraw it midway,
    from another process, which neither worker is told of. Every comment sent after the
    withdrawal was committed is refused with 409, every 201 is a row, nothing fails."""
    server, consultation_id = served()
    engine = create_engine(server.env["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    outcomes: list[tuple[float, Outcome]] = []
    withdrawn_at: list[float] = []
    lock = threading.Lock()

    def withdraw() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE consultations SET state = 'withdrawn', "
                              "withdrawn_reason = '撤回' WHERE id = :c"), {"c": consultation_id})
        withdrawn_at.append(time.monotonic())

    def one(i: int) -> None:
        person = Person(server.url, address(i))
        submit = submit_form if i % 2 else submit_api
        started = time.monotonic()
        try:
            outcome = submit(person, consultation_id, f"建议延长公示期（第 {i} 位）")
        except Exception as exc:  # noqa: BLE001 - a dropped connection is an error, not a crash
            outcome = Outcome("error", None, detail=f"{type(exc).__name__}: {exc}")
        with lock:
            outcomes.append((started, outcome))
            if len(outcomes) == 300:
                threading.Thread(target=withdraw).start()

    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(one, range(900)))
        rows = saved_rows(server, consultation_id)
    finally:
        engine.dispose()
    assert withdrawn_at, "the withdrawal did not happen"
    statuses = Counter(o.status for _, o in outcomes)
    print(f"answers: {dict(statuses)}")
    unexpected = [o for _, o in outcomes if o.status not in (201, 303, 409, 429, 503)]
    assert not unexpected, (unexpected[:3], server.output()[-3000:])
    after = [o for started, o in outcomes if started > withdrawn_at[0]]
    assert after and all(o.status != 201 and o.kind != "saved" for o in after), \
        Counter(o.status for o in after)
    assert sum(o.status == 409 for o in after) >= 0.9 * len(after)
    saved = {o.tracking_no for _, o in outcomes if o.kind == "saved"}
    assert len(saved) >= 200
    assert rows == saved, "every 201/303 is a row, and every row had its answer"
