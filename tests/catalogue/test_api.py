"""GET /api/v1/catalogue: the published catalogue as open data (SPEC §5 list format)."""

from datetime import date

import pytest

from consult import clock
from consult.catalogue import services


@pytest.fixture
def unit(make):
    return make.unit("市住房保障局")


@pytest.fixture
def renewal(make, unit):
    year = clock.today().year
    item = make.catalogue_item(
        unit, title="郑州市城市更新条例（草案）", published=True,
        legal_basis="《中华人民共和国城乡规划法》", methods=["online_comment", "hearing"],
        planned_start=date(year, 3, 1), planned_end=date(year, 10, 31),
    )
    make.consultation("open", unit=unit, title="城市更新条例（征求意见稿）", catalogue_item=item)
    make.consultation("draft", unit=unit, title="尚未公开的草稿", catalogue_item=item)
    return item


def test_the_list_has_the_documented_shape(client, make, unit, renewal):
    approver = make.user("approver", unit)
    services.set_status(renewal, "consulting", actor=approver, reason="已公开征求意见。")
    make.catalogue_item(unit, title="尚未公布的事项")
    response = client.get("/api/v1/catalogue")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.get_json()
    assert set(body) == {"items", "page", "per_page", "total"}
    assert (body["page"], body["total"]) == (1, 1)
    [item] = body["items"]
    year = clock.today().year
    consultation = next(c for c in renewal.consultations if c.title.startswith("城市更新"))
    assert item == {
        "id": renewal.id,
        "code": f"{year}-001",
        "year": year,
        "title": "郑州市城市更新条例（草案）",
        "unit": {"id": unit.id, "name": "市住房保障局"},
        "legal_basis": "《中华人民共和国城乡规划法》",
        "methods": ["online_comment", "hearing"],
        "planned_start": f"{year}-03-01",
        "planned_end": f"{year}-10-31",
        "status": "consulting",
        "published_at": clock.local(renewal.published_at).isoformat(),
        "consultations": [{
            "id": consultation.id, "title": "城市更新条例（征求意见稿）",
            "url": f"http://consult.test/consultations/{consultation.id}",
        }],
        "changes": [{
            "at": clock.local(renewal.changes[0].at).isoformat(),
            "changes": {"status": ["planned", "consulting"]},
            "reason": "已公开征求意见。",
        }],
        "url": f"http://consult.test/catalogue/{renewal.id}",
    }
    assert item["published_at"].endswith("+08:00")


def test_filters_match_the_html_page(client, make, unit, renewal):
    other = make.unit("市人社局")
    make.catalogue_item(other, title="郑州市就业创业补贴实施办法", published=True,
                        methods=["symposium"], status="decided")
    make.catalogue_item(other, title="明年的事项", published=True, year=clock.today().year + 1)

    def titles(query):
        return [i["title"] for i in client.get(f"/api/v1/catalogue?{query}").get_json()["items"]]

    assert titles("") == ["郑州市城市更新条例（草案）", "郑州市就业创业补贴实施办法"]
    assert titles(f"unit={other.id}") == ["郑州市就业创业补贴实施办法"]
    assert titles("status=decided") == ["郑州市就业创业补贴实施办法"]
    assert titles("method=hearing") == ["郑州市城市更新条例（草案）"]
    assert titles(f"year={clock.today().year + 1}") == ["明年的事项"]
    assert titles("year=2001") == []
    body = client.get("/api/v1/catalogue?per_page=1&page=2").get_json()
    assert (body["page"], body["per_page"], body["total"]) == (2, 1, 2)
    assert [i["title"] for i in body["items"]] == ["郑州市就业创业补贴实施办法"]


@pytest.mark.parametrize("query, name", [
    ("status=cancelled", "status"), ("method=fax", "method"), ("year=twenty", "year"),
    ("year=3000", "year"), ("unit=x", "unit"), ("unit=987654", "unit"), ("page=0", "page"),
])
def test_a_bad_filter_is_400_json(client, renewal, query, name):
    response = client.get(f"/api/v1/catalogue?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert name in error["fields"]


def test_the_list_is_cacheable(client, renewal):
    response = client.get("/api/v1/catalogue")
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    again = client.get("/api/v1/catalogue", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
