"""/stats, its CSVs and GET /api/v1/stats (F22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult import clock
from consult.extensions import db
from consult.oversight import stats
from consult.oversight.stats import Filters, StatsSnapshot


@pytest.fixture
def data(make, travel):
    travel(datetime(2026, 6, 15, 4, 0, tzinfo=UTC))
    top = make.unit("市市场监管局")
    below = make.unit("市知识产权保护中心", parent=top)
    other = make.unit("市人社局")
    reported = make.consultation("closed", top, opens_at=datetime(2026, 3, 1, tzinfo=UTC),
                                 closes_at=datetime(2026, 4, 1, tzinfo=UTC))
    for code in ("adopted", "partly_adopted", "not_adopted", "not_adopted"):
        make.answer(make.comment(reported, region="金水区"), code)
    reported.state = "report_published"
    reported.report_published_at = datetime(2026, 4, 10, tzinfo=UTC)
    open_one = make.consultation("open", below)
    make.comment(open_one, channel="letter")
    make.consultation("open", other, opens_at=datetime(2025, 12, 1, tzinfo=UTC))
    make.consultation("draft", other)
    db.session.flush()
    return {"top": top, "below": below, "other": other, "reported": reported}


def test_the_page_shows_charts_tables_and_figures(client, data):
    response = client.get("/stats")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html
    assert 'id="adoption_by_unit"' in html and "<caption>" in html
    assert "50.0%" in html  # 2 of 4 adopted or partly adopted
    assert "/stats/comments_by_month.csv" in html
    assert "<script" not in html
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers.get("ETag")


def test_the_year_and_unit_filters(client, data):
    figures = client.get("/api/v1/stats?year=2026").get_json()
    assert figures["totals"]["consultations"] == 2
    assert [r["month"] for r in figures["consultations_by_month"]][:1] == ["2026-01"]
    unit = client.get(f"/api/v1/stats?unit={data['top'].id}").get_json()
    assert unit["totals"]["consultations"] == 2  # the unit and the one below it
    assert unit["totals"]["comments"] == 5
    assert unit["comments_by_channel"]["letter"] == 1
    assert unit["adoption_by_unit"][0]["rate"] == 0.5
    only_below = client.get(f"/api/v1/stats?unit={data['below'].id}").get_json()
    assert only_below["totals"]["consultations"] == 1
    everything = client.get("/api/v1/stats").get_json()
    assert everything["totals"]["consultations"] == 3  # the draft is not public
    assert everything["reports"] == {"on_time": 1, "late": 0, "overdue": 0, "pending": 0}
    assert everything["days_to_report"]["median"] == 9


@pytest.mark.parametrize("query, status", [
    ("year=abc", 400), ("year=1800", 400), ("year=2026.5", 400), ("unit=-1", 400),
    ("unit=99999999", 404), ("unit=９", 400),
])
def test_bad_filters_are_refused(client, data, query, status):
    assert client.get(f"/stats?{query}").status_code == status
    response = client.get(f"/api/v1/stats?{query}")
    assert response.status_code == status
    assert "error" in response.get_json()


def test_each_chart_has_a_csv(client, data):
    response = client.get(f"/stats/adoption_by_unit.csv?year=2026&unit={data['top'].id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data().decode("utf-8-sig")
    assert "市市场监管局,4,1,1,50.0%" in text
    assert client.get("/stats/nothing.csv").status_code == 404
    for name in ("consultations_by_month", "comments_by_region", "reports", "interpretations",
                 "days_to_report"):
        assert client.get(f"/stats/{name}.csv").status_code == 200


def test_hostile_names_are_escaped_and_formulas_defused(client, make, data):
    hostile = make.unit('<script>alert(1)</script>')
    make.consultation("open", hostile)
    make.consultation("open", make.unit("=HYPERLINK(\"http://x\")"))
    html = client.get("/stats").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html
    csv = client.get("/stats/consultations_by_unit.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in csv  # a formula is defused
    assert "\n=" not in csv


def test_regions_are_masked_like_the_report(client, make, data):
    make.comment(data["reported"], region="金水区 13812345678")
    regions = client.get("/api/v1/stats").get_json()["comments_by_region"]
    assert not any("13812345678" in r["region"] for r in regions)


def test_a_published_report_shows_at_once_despite_the_snapshot(app, make, data, travel):
    filters = Filters()
    before = stats.figures(filters)
    assert db.session.get(StatsSnapshot, filters.key) is not None
    assert stats.figures(filters) == before  # served from the snapshot
    late = make.consultation("closed", data["other"])
    make.answer(make.comment(late), "adopted")
    late.state = "report_published"
    late.report_published_at = clock.now()
    db.session.flush()
    after = stats.figures(filters)
    assert after["totals"]["reports"] == before["totals"]["reports"] + 1


def test_new_comments_count_once_the_snapshot_is_old(app, make, data, travel):
    filters = Filters()
    before = stats.figures(filters)["totals"]["comments"]
    make.comment(data["reported"])
    assert stats.figures(filters)["totals"]["comments"] == before  # within STATS_MAX_AGE
    travel(clock.now() + timedelta(seconds=app.config.get("STATS_MAX_AGE", 300) + 1))
    assert stats.figures(filters)["totals"]["comments"] == before + 1
