"""API v1 reads added for issue 12: policies, interpretations, versions; incremental sync with
`modified_since`; CORS for reading; ETag revalidation; pages of up to 250."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

import pytest

from consult import clock
from consult.consultations.models import Article, DraftVersion, State
from consult.extensions import db
from consult.policies.models import Interpretation, InterpretationKind, Policy

BASE = "http://consult.test"


@pytest.fixture
def policy(make, unit):
    c = make.consultation(State.CLOSED, unit, title="就业补贴办法")
    p = Policy(unit=unit, consultation=c, title="郑州市就业补贴办法",
               document_number="郑政〔2026〕3号", issued_on=date(2026, 2, 1),
               text="第一条 正文。", published_at=clock.now())
    db.session.add(p)
    db.session.add(Interpretation(policy=p, title="解读", kind=InterpretationKind.TEXT,
                                  body="解读正文", published_at=clock.now()))
    db.session.add(Interpretation(policy=p, title="未发布的解读", kind=InterpretationKind.TEXT,
                                  body="草稿"))
    hidden = Policy(unit=unit, title="未发布的办法", document_number="郑政〔2026〕4号",
                    issued_on=date(2026, 2, 2), text="正文")
    db.session.add(hidden)
    db.session.flush()
    return p


def since(moment) -> str:
    return quote(clock.local(moment).isoformat())


def test_policies_list_and_detail(client, policy):
    body = client.get("/api/v1/policies").get_json()
    assert [p["title"] for p in body["items"]] == ["郑州市就业补贴办法"]
    item = body["items"][0]
    assert item["document_number"] == "郑政〔2026〕3号"
    assert item["url"] == f"{BASE}/policies/{policy.id}"
    assert [i["title"] for i in item["interpretations"]] == ["解读"]
    detail = client.get(f"/api/v1/policies/{policy.id}").get_json()
    assert detail["text"] == "第一条 正文。"
    hidden = db.session.scalar(db.select(Policy).where(Policy.published_at.is_(None)))
    assert client.get(f"/api/v1/policies/{hidden.id}").status_code == 404
    assert client.get("/api/v1/policies?year=2026").get_json()["total"] == 1
    assert client.get("/api/v1/policies?year=2020").get_json()["total"] == 0


def test_interpretations(client, policy):
    shown, draft = sorted(policy.interpretations, key=lambda i: i.published_at is None)
    body = client.get(f"/api/v1/interpretations/{shown.id}").get_json()
    assert body["body"] == "解读正文" and body["policy_url"] == f"{BASE}/policies/{policy.id}"
    assert client.get(f"/api/v1/interpretations/{draft.id}").status_code == 404


def test_versions(client, make, unit):
    c = make.consultation(State.OPEN, unit)
    version = DraftVersion(number=2, changelog="修改了第一条")
    c.versions.append(version)
    version.articles.append(Article(number=1, label="第一条", text="新的第一条。"))
    db.session.flush()
    body = client.get(f"/api/v1/consultations/{c.id}/versions").get_json()
    assert [v["number"] for v in body["items"]] == [1, 2]
    second = client.get(f"/api/v1/consultations/{c.id}/versions/2").get_json()
    assert second["changelog"] == "修改了第一条"
    assert second["articles"][0]["text"] == "新的第一条。"
    assert client.get(f"/api/v1/consultations/{c.id}/versions/3").status_code == 404
    draft = make.consultation(State.DRAFT, unit)
    assert client.get(f"/api/v1/consultations/{draft.id}/versions").status_code == 404


def test_modified_since_on_every_list(client, make, unit, policy, travel):
    before = clock.now()
    travel(before + timedelta(hours=1))
    later = make.consultation(State.OPEN, unit, title="后来的办法")
    comment = make.comment(later, body="后来的意见。")
    assert client.get(f"/api/v1/consultations?status=all&modified_since={since(before)}"
                      ).get_json()["items"][0]["title"] == "后来的办法"
    assert client.get(f"/api/v1/consultations?status=all&modified_since="
                      f"{since(clock.now())}").get_json()["items"] == []
    comments = client.get(f"/api/v1/consultations/{later.id}/comments?modified_since="
                          f"{since(before)}").get_json()
    assert [c["tracking_no"] for c in comments["items"]] == [comment.tracking_no]
    assert client.get(f"/api/v1/consultations/{later.id}/comments?modified_since="
                      f"{since(clock.now())}").get_json()["items"] == []
    assert client.get(f"/api/v1/policies?modified_since={since(before)}"
                      ).get_json()["items"] == []
    assert client.get(f"/api/v1/policies?modified_since={since(before - timedelta(days=1))}"
                      ).get_json()["total"] == 1


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-01-01T00:00:00"])
def test_a_bad_modified_since_is_400(client, value):
    response = client.get("/api/v1/consultations", query_string={"modified_since": value})
    assert response.status_code == 400
    assert "modified_since" in response.get_json()["error"]["fields"]


def test_reads_are_open_to_other_sites_writes_are_not(client, make, unit):
    c = make.consultation(State.OPEN, unit)
    read = client.get("/api/v1/consultations", headers={"Origin": "https://other.example"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/api/v1/consultations",
                               headers={"Origin": "https://other.example",
                                        "Access-Control-Request-Method": "GET"})
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    write = client.post(f"/api/v1/consultations/{c.id}/comments",
                        json={"body": "意见", "category": "individual"},
                        headers={"Origin": "https://other.example"})
    assert write.status_code == 201
    assert "Access-Control-Allow-Origin" not in write.headers


def test_etag_revalidation(client, policy):
    first = client.get("/api/v1/policies")
    again = client.get("/api/v1/policies", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    policy.title = "改过的标题"
    db.session.flush()
    changed = client.get("/api/v1/policies", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200


def test_pages_of_up_to_250(client, make, unit):
    c = make.consultation(State.OPEN, unit)
    for i in range(3):
        make.comment(c, body=f"意见{i}")
    assert client.get(f"/api/v1/consultations/{c.id}/comments?per_page=250"
                      ).get_json()["per_page"] == 250
    assert client.get(f"/api/v1/consultations/{c.id}/comments?per_page=251").status_code == 400
    assert client.get("/api/v1/search?q=意见&per_page=250").status_code == 200
    assert client.get("/api/v1/policies?per_page=251").status_code == 400
