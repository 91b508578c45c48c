"""GET /api/v1/consultations and /api/v1/consultations/<id>: shapes, filters, pagination."""

from datetime import date, timedelta

import pytest

from consult import clock
from consult.answers.services import publish_report
from consult.comments.models import CommentStatus, HiddenReason
from consult.policies.models import InterpretationKind
from consult.policies.services import (
    PolicyInput,
    add_interpretation,
    create_policy,
    publish_policy,
)

API = "/api/v1/consultations"
ONE_ARTICLE = "第一条 本办法自发布之日起施行。"


def ids(response):
    return [item["id"] for item in response.json["items"]]


def reported(make, session, **kw):
    """A consultation whose adoption report is published (no comments, nothing to answer)."""
    c = make.consultation("closed", **kw)
    publish_report(c, summary="未收到意见。", actor=make.user("approver", c.unit))
    session.commit()
    return c


# ------------------------------------------------------------------ detail


def test_detail_has_every_spec_key_with_the_right_type(client, make):
    c = make.consultation("open", title="关于促进就业的若干措施（征求意见稿）",
                          closes_at=clock.end_of_day(clock.today() + timedelta(days=20)))
    response = client.get(f"{API}/{c.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.json
    assert data["id"] == c.id
    assert data["title"] == "关于促进就业的若干措施（征求意见稿）"
    assert data["type"] == "normative_document"
    assert data["unit"] == {"id": c.unit.id, "name": c.unit.name}
    assert data["status"] == "open"
    assert isinstance(data["summary"], str)
    assert data["version"] == 1
    assert data["comment_count"] == 0
    assert data["links"] == {"report": None, "policy": None, "interpretations": []}
    assert data["url"] == f"http://consult.test/consultations/{c.id}"
    assert data["explanation"] == "起草说明"
    assert data["short_window_reason"] is None
    assert data["withdrawn_reason"] is None
    assert len(data["articles"]) == 12
    third = data["articles"][2]
    assert set(third) == {"number", "label", "chapter", "section", "heading", "text"}
    assert third["number"] == 3 and third["label"] == "第三条"
    assert "第三条的内容" in third["text"]
    assert [a["number"] for a in data["articles"]] == list(range(1, 13))


def test_times_are_local_with_offset_and_the_window_closes_at_235959(client, make):
    last_day = date(2026, 12, 31)
    c = make.consultation("scheduled", opens_at=clock.start_of_day(date(2026, 12, 1)),
                          closes_at=clock.end_of_day(last_day))
    data = client.get(f"{API}/{c.id}").json
    assert data["closes_at"] == "2026-12-31T23:59:59+08:00"
    assert data["opens_at"] == "2026-12-01T00:00:00+08:00"


def test_comment_count_is_every_comment_received(client, make):
    c = make.consultation("open")
    make.comment(c, article=3)
    make.comment(c, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.ABUSIVE)
    make.comment(c, status=CommentStatus.UNVERIFIED)
    make.comment(c, status=CommentStatus.PENDING_MODERATION)
    assert client.get(f"{API}/{c.id}").json["comment_count"] == 4
    [item] = client.get(API).json["items"]
    assert item["comment_count"] == 4


def test_links_follow_the_report_policy_and_interpretation_once_published(client, make,
                                                                            session):
    c = reported(make, session)
    approver = make.user("approver", c.unit)
    data = client.get(f"{API}/{c.id}").json
    assert data["status"] == "report_published"
    assert data["links"]["report"] == f"http://consult.test/consultations/{c.id}/report"
    assert data["links"]["policy"] is None

    data = PolicyInput(title="关于促进就业的若干措施", document_number="某府规〔2026〕1号",
                       issued_on=clock.today(), effective_on=None, text="第一条 正文。")
    policy = create_policy(c, data, actor=approver)
    interpretation = add_interpretation(policy, title="解读", kind=InterpretationKind.TEXT,
                                        body="解读正文", actor=approver)
    session.commit()
    assert client.get(f"{API}/{c.id}").json["links"]["policy"] is None  # not yet published

    publish_policy(policy, actor=approver)
    session.commit()
    data = client.get(f"{API}/{c.id}").json
    assert data["status"] == "policy_issued"
    assert data["links"] == {
        "report": f"http://consult.test/consultations/{c.id}/report",
        "policy": f"http://consult.test/policies/{policy.id}",
        "interpretations": [f"http://consult.test/interpretations/{interpretation.id}"],
    }


def test_withdrawn_consultation_shows_its_reason(client, make):
    c = make.consultation("withdrawn", withdrawn_reason="上位法已修改，本次征求意见终止。")
    data = client.get(f"{API}/{c.id}").json
    assert data["status"] == "withdrawn"
    assert data["withdrawn_reason"] == "上位法已修改，本次征求意见终止。"


@pytest.mark.parametrize("state", ["draft", "pending_approval"])
def test_drafts_and_pending_drafts_are_not_public(client, make, state):
    c = make.consultation(state)
    response = client.get(f"{API}/{c.id}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert c.id not in ids(client.get(API, query_string={"status": "all"}))


@pytest.mark.parametrize("path", [f"{API}/999999", f"{API}/abc", "/api/v1/nowhere"])
def test_unknown_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"]


@pytest.mark.parametrize("method, path", [("patch", API), ("delete", f"{API}/1"),
                                          ("put", f"{API}/1/comments")])
def test_wrong_method_is_a_json_405(client, make, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_public_reads_can_be_cached_by_a_proxy(client, make):
    c = make.consultation("open")
    for url in (API, f"{API}/{c.id}"):
        response = client.get(url)
        assert response.cache_control.public
        assert response.cache_control.max_age == 60
        etag = response.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304


# ------------------------------------------------------------------ list


def test_list_item_shape(client, make):
    c = make.consultation("open")
    response = client.get(API)
    assert response.status_code == 200
    data = response.json
    assert set(data) == {"items", "page", "per_page", "total"}
    assert (data["page"], data["per_page"], data["total"]) == (1, 20, 1)
    [item] = data["items"]
    assert {"id", "title", "type", "unit", "status", "opens_at", "closes_at", "summary",
            "version", "comment_count", "links"} <= set(item)
    assert item["id"] == c.id and item["status"] == "open"
    assert item["unit"] == {"id": c.unit.id, "name": c.unit.name}
    assert item["opens_at"].endswith("+08:00")
    assert item["links"] == {"report": None, "policy": None, "interpretations": []}


def test_status_filters(client, make, session):
    unit = make.unit()
    found = {state: make.consultation(state, unit=unit, text=ONE_ARTICLE).id
             for state in ["open", "closed", "scheduled", "withdrawn", "draft",
                           "pending_approval"]}
    found["reported"] = reported(make, session, unit=unit, text=ONE_ARTICLE).id

    assert ids(client.get(API)) == [found["open"]]  # open is the default
    assert ids(client.get(API, query_string={"status": "open"})) == [found["open"]]
    assert ids(client.get(API, query_string={"status": "closed"})) == [found["closed"]]
    assert ids(client.get(API, query_string={"status": "reported"})) == [found["reported"]]
    every = ids(client.get(API, query_string={"status": "all"}))
    assert sorted(every) == sorted(found[s] for s in
                                   ["open", "closed", "scheduled", "withdrawn", "reported"])


def test_a_policy_linked_before_the_report_is_listed_as_closed(client, make, session):
    c = make.consultation("closed", text=ONE_ARTICLE)
    approver = make.user("approver", c.unit)
    policy = create_policy(c, PolicyInput(title="正式文件", document_number="某府发〔2026〕2号",
                                          issued_on=clock.today(), effective_on=None,
                                          text="第一条 正文。"), actor=approver)
    publish_policy(policy, actor=approver)
    session.commit()
    assert ids(client.get(API, query_string={"status": "closed"})) == [c.id]
    assert ids(client.get(API, query_string={"status": "reported"})) == []
    assert client.get(f"{API}/{c.id}").json["status"] == "policy_issued"


def test_unit_type_and_q_filters(client, make):
    mine, other = make.unit(), make.unit()
    jobs = make.consultation("open", unit=mine, type="rule", title="稳就业促发展若干规定",
                             text=ONE_ARTICLE)
    parks = make.consultation("open", unit=mine, title="City Parks Regulation",
                              text=ONE_ARTICLE)
    elsewhere = make.consultation("open", unit=other, title="另一单位的稳就业办法",
                                  text=ONE_ARTICLE)

    assert sorted(ids(client.get(API, query_string={"unit": mine.id}))) == sorted(
        [jobs.id, parks.id])
    assert ids(client.get(API, query_string={"unit": other.id})) == [elsewhere.id]
    assert ids(client.get(API, query_string={"unit": 999999})) == []
    assert ids(client.get(API, query_string={"type": "rule"})) == [jobs.id]
    assert sorted(ids(client.get(API, query_string={"q": "就业"}))) == sorted(
        [jobs.id, elsewhere.id])
    assert ids(client.get(API, query_string={"q": "就业", "unit": mine.id})) == [jobs.id]
    assert ids(client.get(API, query_string={"q": "parks"})) == [parks.id]  # any case
    assert ids(client.get(API, query_string={"q": "%"})) == []  # a literal, not a wildcard


def test_pagination(client, make):
    unit = make.unit()
    now = clock.now()
    made = [make.consultation("open", unit=unit, text=ONE_ARTICLE,
                              closes_at=now + timedelta(days=10 + i)).id for i in range(25)]
    first = client.get(API).json
    assert (first["page"], first["per_page"], first["total"]) == (1, 20, 25)
    assert [item["id"] for item in first["items"]] == made[:20]  # the soonest to close first
    second = client.get(API, query_string={"page": 2}).json
    assert [item["id"] for item in second["items"]] == made[20:]
    small = client.get(API, query_string={"page": 3, "per_page": 10}).json
    assert [item["id"] for item in small["items"]] == made[20:]
    assert (small["page"], small["per_page"], small["total"]) == (3, 10, 25)
    beyond = client.get(API, query_string={"page": 9}).json
    assert beyond["items"] == [] and beyond["total"] == 25
    assert client.get(API, query_string={"per_page": 100}).json["per_page"] == 100
    # SPEC §5: out of range is 400, not silently another size (tests/security/test_pages.py)
    assert client.get(API, query_string={"per_page": 250}).json["per_page"] == 250  # issue 12
    assert client.get(API, query_string={"per_page": 1000}).status_code == 400


@pytest.mark.parametrize("name, value", [
    ("status", "bogus"), ("status", "draft"), ("status", "pending_approval"),
    ("type", "law"), ("unit", "abc"), ("unit", "1.5"), ("unit", "0"),
    ("page", "0"), ("page", "-1"), ("page", "two"), ("per_page", "0"), ("per_page", "x"),
    ("page", "999999999999999999"), ("per_page", "251"), ("unit", "99999999999999999999"),
    ("q", "就" * 201),
    ("q", "就业\x00"),
])
def test_bad_filter_values_are_400(client, name, value):
    response = client.get(API, query_string={name: value})
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"]
    assert name in error["fields"]
