"""Yearly figures per unit (F23): they match the unit's consultations; page, CSV, XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from consult.extensions import db
from consult.oversight import yearly
from consult.policies.models import Interpretation, Policy


@pytest.fixture
def year_of_work(make, travel):
    travel(datetime(2026, 12, 20, 4, 0, tzinfo=UTC))
    unit = make.unit("市市场监管局")
    below = make.unit("市知识产权保护中心", parent=unit)
    other = make.unit("市人社局")
    a = make.consultation("closed", unit, opens_at=datetime(2026, 2, 1, tzinfo=UTC),
                          closes_at=datetime(2026, 3, 10, tzinfo=UTC))
    for channel, code in (("web", "adopted"), ("web", "not_adopted"), ("letter", "adopted"),
                          ("hearing", "partly_adopted"), ("email", "out_of_scope")):
        make.answer(make.comment(a, channel=channel), code)
    make.comment(a, status="hidden")
    a.state, a.report_published_at = "report_published", datetime(2026, 3, 20, tzinfo=UTC)
    late = make.consultation("closed", unit, opens_at=datetime(2026, 5, 1, tzinfo=UTC),
                             closes_at=datetime(2026, 6, 1, tzinfo=UTC))
    make.comment(late, channel="symposium")
    make.consultation("closed", unit, opens_at=datetime(2025, 5, 1, tzinfo=UTC),
                      closes_at=datetime(2025, 6, 1, tzinfo=UTC))  # last year
    make.consultation("open", below)
    make.consultation("open", other)
    policy = Policy(consultation=a, unit=unit, title="政策", document_number="市监〔2026〕1号",
                    issued_on=datetime(2026, 4, 1).date(), text="正文",
                    published_at=datetime(2026, 4, 1, 2, tzinfo=UTC))
    db.session.add(policy)
    db.session.add(Interpretation(policy=policy, title="解读", body="解读",
                                  published_at=datetime(2026, 4, 2, 2, tzinfo=UTC)))
    db.session.flush()
    return {"unit": unit, "below": below, "other": other}


def test_a_units_figures_match_its_consultations(year_of_work):
    content = yearly.figures(2026)
    rows = {r["unit"]: r for r in content["units"]}
    mine = rows["市市场监管局"]
    assert mine["consultations"] == 2  # 2025's is not counted
    assert mine["comments"] == 7
    assert mine["comments_by_channel"] == {"web": 3, "letter": 1, "email": 1, "hearing": 1,
                                           "symposium": 1}
    assert mine["answers_by_disposition"] == {"adopted": 2, "partly_adopted": 1,
                                              "not_adopted": 1, "already_provided": 0,
                                              "out_of_scope": 1}
    assert mine["reports"] == {"on_time": 1, "late": 0, "overdue": 1, "pending": 0}
    assert mine["policies"] == 1
    assert mine["interpretations"]["on_time"] == 1
    assert rows["市知识产权保护中心"]["consultations"] == 1  # each unit for itself
    assert content["total"]["consultations"] == 4
    assert content["total"]["comments"] == 7
    assert yearly.figures(2025)["total"]["consultations"] == 1


def test_the_unit_filter_takes_the_units_below(year_of_work):
    content = yearly.figures(2026, year_of_work["unit"].id)
    assert [r["unit"] for r in content["units"]] == ["市市场监管局", "市知识产权保护中心"]


def test_page_csv_and_xlsx(client, year_of_work):
    page = client.get("/stats/yearly?year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "市市场监管局" in html and "<tfoot>" in html
    csv = client.get("/stats/yearly.csv?year=2026").get_data().decode("utf-8-sig")
    lines = csv.strip().splitlines()
    assert lines[0].startswith("单位,")
    assert lines[-1].startswith("合计,4,7")
    response = client.get(f"/stats/yearly.xlsx?year=2026&unit={year_of_work['unit'].id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:3] == ["市市场监管局", 2, 7]
    assert values[-1][0] == "合计"
    api = client.get("/api/v1/stats/yearly?year=2026").get_json()
    assert api["total"]["consultations"] == 4
    assert client.get("/stats/yearly.pdf").status_code == 404
    assert client.get("/stats/yearly?year=20x6").status_code == 400
