"""/stats from the page cache, and what readers get while the figures are counted again: the
older snapshot while comments are recounted, never older figures after a publication."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from consult import clock
from consult.extensions import db
from consult.oversight import stats
from consult.oversight.stats import Filters, Recounting, StatsSnapshot
from tests.jobs.conftest import _database_urls

MAX_AGE = 300
NOON = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)


@pytest.fixture
def data(make, travel):
    travel(NOON)
    unit = make.unit("市市场监管局")
    reported = make.consultation("closed", unit, opens_at=datetime(2026, 3, 1, tzinfo=UTC),
                                 closes_at=datetime(2026, 4, 1, tzinfo=UTC))
    make.answer(make.comment(reported), "adopted")
    reported.state = "report_published"
    reported.report_published_at = datetime(2026, 4, 10, tzinfo=UTC)
    make.consultation("open", make.unit("市人社局"))
    db.session.flush()
    return {"unit": unit, "reported": reported}


def _lease(key: str, at: datetime) -> None:
    """Someone else is counting `key` again since `at`."""
    db.session.add(StatsSnapshot(key=stats._lease_key(key), stamp="someone-else",
                                 computed_at=at, content={}))
    db.session.flush()


# ------------------------------------------------------------------ the page cache


def test_the_page_is_kept_until_a_report_is_published(client, make, data):
    first = client.get("/stats")
    assert first.headers["X-Page-Cache"] == "miss"
    again = client.get("/stats")
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.get_data() == first.get_data()
    assert client.get("/stats?year=2026").headers["X-Page-Cache"] == "miss"  # its own page

    late = make.consultation("closed", make.unit("市教育局"))
    make.answer(make.comment(late), "adopted")
    late.state = "report_published"
    late.report_published_at = clock.now()
    db.session.flush()
    after = client.get("/stats")
    assert after.headers["X-Page-Cache"] == "miss"
    assert "市教育局" in after.get_data(as_text=True)
    assert "市教育局" not in first.get_data(as_text=True)
    assert client.get("/stats").headers["X-Page-Cache"] == "hit"


def test_a_comment_keeps_the_page_until_the_snapshot_is_old(app, client, make, data, travel):
    before = client.get("/api/v1/stats").get_json()["totals"]["comments"]
    client.get("/stats")
    make.comment(data["reported"])
    db.session.flush()
    assert client.get("/stats").headers["X-Page-Cache"] == "hit"  # comments lag, by design
    assert client.get("/api/v1/stats").get_json()["totals"]["comments"] == before
    travel(clock.now() + timedelta(seconds=app.config["STATS_MAX_AGE"] + 1))
    assert client.get("/stats").headers["X-Page-Cache"] == "miss"
    assert client.get("/api/v1/stats").get_json()["totals"]["comments"] == before + 1


def test_older_figures_served_during_a_recount_are_not_kept(app, client, make, data, travel):
    old = client.get("/stats").get_data()
    make.comment(data["reported"])
    travel(clock.now() + timedelta(seconds=app.config["STATS_MAX_AGE"] + 1))
    _lease(Filters().key, clock.now())  # another reader is counting
    for _ in range(2):
        during = client.get("/stats")
        assert during.status_code == 200 and during.get_data() == old
        assert during.headers["X-Page-Cache"] == "miss"  # never stored: asked again next time
        assert "s-maxage" not in during.headers["Cache-Control"]


def test_readers_wait_no_longer_than_the_limit_after_a_publication(app, client, data,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "STATS_RECOUNT_WAIT", 0.3)
    _lease(Filters().key, clock.now())  # counting, and no snapshot to show meanwhile
    response = client.get("/stats")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    api = client.get("/api/v1/stats")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "stats_recounting"


def test_a_lease_whose_holder_died_is_taken_over(app, data, travel):
    _lease(Filters().key, clock.now() - timedelta(
        seconds=app.config["STATS_RECOUNT_LEASE"] + 1))
    figures = stats.figures(Filters())
    assert figures["totals"]["comments"] == 1
    assert db.session.get(StatsSnapshot, stats._lease_key(Filters().key)) is None  # given back


# ------------------------------------------------------------------ concurrent readers


@pytest.fixture
def own_app(tmp_path, real_session):
    """An app on a database of its own (threads see each other's commits), with a stamp the
    test sets: `own_app.stamp["now"] = "..."` stands for a publication."""
    from consult import create_app

    url, drop = _database_urls(tmp_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "STATS_MAX_AGE": MAX_AGE, "STATS_RECOUNT_WAIT": 30})
    with app.app_context():
        db.create_all()
    app.stamp = {"now": "first"}
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture
def stamped(own_app, monkeypatch):
    monkeypatch.setattr(stats, "stamp", lambda: own_app.stamp["now"])
    return own_app


class SlowCount:
    """A count that waits for the test's go, and notes that it ran."""

    def __init__(self, figures: dict):
        self.figures = figures
        self.started = threading.Event()
        self.go = threading.Event()
        self.calls = 0

    def __call__(self) -> dict:
        self.calls += 1
        self.started.set()
        assert self.go.wait(30)
        return self.figures


def _never() -> dict:
    raise AssertionError("this reader must not count")


def _reader(app, key: str, count, results: dict, name: str) -> threading.Thread:
    def read():
        with app.app_context():
            try:
                results[name] = stats.kept(key, count)
            except Exception as error:  # noqa: BLE001 - the test looks at it
                results[name] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_while_comments_are_counted_again_the_others_get_the_older_snapshot(stamped, travel):
    travel(NOON)
    with stamped.app_context():
        assert stats.kept("recount-age", lambda: {"comments": 1}).content == {"comments": 1}
        db.session.remove()
    travel(NOON + timedelta(seconds=MAX_AGE + 1))
    slow, results = SlowCount({"comments": 2}), {}
    first = _reader(stamped, "recount-age", slow, results, "first")
    assert slow.started.wait(30)  # the first reader holds the lease and counts
    second = _reader(stamped, "recount-age", _never, results, "second")
    third = _reader(stamped, "recount-age", _never, results, "third")
    second.join(30)
    third.join(30)
    for name in ("second", "third"):  # at once, while the count goes on
        assert results[name].content == {"comments": 1}
        assert results[name].fresh_until is None  # a page of them is not kept
    assert first.is_alive()
    slow.go.set()
    first.join(30)
    assert results["first"].content == {"comments": 2}
    assert slow.calls == 1
    with stamped.app_context():
        assert stats.kept("recount-age", _never).content == {"comments": 2}


def test_after_a_publication_nobody_gets_the_older_figures(stamped, travel):
    travel(NOON)
    with stamped.app_context():
        stats.kept("recount-stamp", lambda: {"reports": 1})
        db.session.remove()
    stamped.stamp["now"] = "a report published"  # within STATS_MAX_AGE: the stamp decides
    slow, results = SlowCount({"reports": 2}), {}
    first = _reader(stamped, "recount-stamp", slow, results, "first")
    assert slow.started.wait(30)
    second = _reader(stamped, "recount-stamp", _never, results, "second")
    second.join(0.5)
    assert second.is_alive() and "second" not in results  # waiting, not served the old one
    slow.go.set()
    first.join(30)
    second.join(30)
    assert results["first"].content == results["second"].content == {"reports": 2}
    assert slow.calls == 1  # counted once for both


def test_a_waiting_reader_gives_up_with_a_503_error(stamped, travel):
    travel(NOON)
    stamped.config["STATS_RECOUNT_WAIT"] = 0.3
    slow, results = SlowCount({"reports": 1}), {}
    first = _reader(stamped, "recount-wait", slow, results, "first")
    assert slow.started.wait(30)
    second = _reader(stamped, "recount-wait", _never, results, "second")
    second.join(30)
    assert isinstance(results["second"], Recounting)
    assert Recounting.status == 503 and Recounting.retry_after > 0
    slow.go.set()
    first.join(30)
    assert results["first"].content == {"reports": 1}


def test_a_failed_count_gives_the_lease_back(stamped, travel):
    travel(NOON)

    def broken() -> dict:
        raise RuntimeError("the database went away")

    with stamped.app_context():
        with pytest.raises(RuntimeError):
            stats.kept("recount-broken", broken)
        db.session.remove()
        assert stats.kept("recount-broken", lambda: {"n": 1}).content == {"n": 1}
