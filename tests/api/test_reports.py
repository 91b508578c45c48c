"""GET /api/v1/consultations/<id>/report: the frozen adoption report anyone can re-compute."""

import hashlib
import json
from collections import Counter

import pytest

from consult.answers.services import publish_report
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.errors import ValidationFailed

EMAIL = "wang.private@example.org"
DISPOSITIONS = {"adopted", "partly_adopted", "not_adopted", "already_provided", "out_of_scope"}


def url(consultation):
    return f"/api/v1/consultations/{consultation.id}/report"


@pytest.fixture
def answered(make, session):
    """A closed consultation whose comments are all answered, moderated or unverified."""
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    adopted = make.comment(c, article=3, body="第三条期限延长。", email=EMAIL, phone="13700001111")
    make.answer(adopted, "adopted", None)
    make.answer(make.comment(c, article=3, category=Category.ENTERPRISE), "not_adopted",
                "与上位法不一致。")
    make.answer(make.comment(c, category=Category.EXPERT), "already_provided", "第五条已有规定。")
    make.answer(make.comment(c, article=7, channel=Channel.LETTER, region="西城区"),
                "out_of_scope", "不属于本次征求意见范围。")
    make.comment(c, article=3, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.ABUSIVE,
                 body="<b>辱骂</b>")
    make.comment(c, status=CommentStatus.UNVERIFIED, category=Category.ORGANISATION)
    session.commit()
    return c, approver


def test_404_until_the_report_is_published(client, make, session, answered):
    c, approver = answered
    response = client.get(url(c))
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "not_found"
    publish_report(c, summary="共收到意见 6 条。", actor=approver)
    session.commit()
    assert client.get(url(c)).status_code == 200


@pytest.mark.parametrize("state", ["draft", "pending_approval"])
def test_no_report_for_an_unpublished_consultation(client, make, state):
    c = make.consultation(state)
    assert client.get(url(c)).status_code == 404
    assert client.get("/api/v1/consultations/999999/report").status_code == 404


def test_report_shape_and_totals(client, session, answered):
    c, approver = answered
    publish_report(c, summary="共收到意见 6 条，采纳 1 条。", actor=approver)
    session.commit()
    response = client.get(url(c))
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 60
    report = response.json
    assert {"consultation_id", "revision", "published_at", "digest", "totals", "by_article",
            "items"} <= set(report)
    assert report["consultation_id"] == c.id
    assert report["revision"] == 1
    assert isinstance(report["published_at"], str)
    totals = report["totals"]
    assert {"received", "unverified", "hidden", "hidden_by_reason", "answered", "by_disposition",
            "by_category", "by_channel", "by_region"} <= set(totals)
    assert set(totals["by_disposition"]) == DISPOSITIONS

    assert totals["received"] == 6
    assert totals["received"] == totals["unverified"] + totals["hidden"] + totals["answered"]
    assert totals["answered"] == sum(totals["by_disposition"].values()) == 4
    assert (totals["unverified"], totals["hidden"]) == (1, 1)
    assert totals["hidden_by_reason"]["abusive"] == 1
    assert totals["by_disposition"] == {"adopted": 1, "partly_adopted": 0, "not_adopted": 1,
                                        "already_provided": 1, "out_of_scope": 1}
    assert totals["by_category"]["individual"] == 3
    assert totals["by_channel"]["letter"] == 1

    article_3 = next(row for row in report["by_article"] if row["article"] == 3)
    assert article_3["version"] == 1
    assert article_3["received"] == 3  # adopted, not adopted, hidden
    assert article_3["by_disposition"]["adopted"] == 1
    whole = next(row for row in report["by_article"] if row["article"] is None)
    assert whole["received"] == 2

    # Anyone can re-compute the totals from the items.
    items = report["items"]
    assert sum(item["count"] for item in items) == totals["received"]
    assert Counter(item["category"] for item in items) == {
        k: v for k, v in totals["by_category"].items() if v}
    assert Counter(item["disposition"] for item in items if item["disposition"]) == {
        k: v for k, v in totals["by_disposition"].items() if v}
    hidden = next(item for item in items if item["visibility"] == "hidden")
    assert hidden["text"] is None and hidden["disposition"] is None
    item_keys = {"kind", "tracking_no", "count", "version", "article", "category", "channel",
                 "region", "visibility", "text", "disposition", "reason"}
    assert all(item_keys <= set(item) for item in items)

    raw = response.get_data(as_text=True)
    assert EMAIL not in raw and "13700001111" not in raw


def test_digest_is_the_sha256_of_the_canonical_json(client, session, answered):
    c, approver = answered
    publish_report(c, summary="报告", actor=approver)
    session.commit()
    report = client.get(url(c)).json
    body = {key: value for key, value in report.items() if key != "digest"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert report["digest"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    report["totals"]["received"] += 1  # a tampered copy no longer matches
    tampered = {key: value for key, value in report.items() if key != "digest"}
    canonical = json.dumps(tampered, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert report["digest"] != hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_the_newest_revision_is_served_and_a_correction_needs_a_note(client, make, session,
                                                                     answered):
    c, approver = answered
    publish_report(c, summary="第一版", actor=approver)
    session.commit()
    first = client.get(url(c)).json
    with pytest.raises(ValidationFailed):
        publish_report(c, summary="第二版", actor=approver)
    publish_report(c, summary="第二版", actor=approver, correction_note="更正统计口径。")
    session.commit()
    second = client.get(url(c)).json
    assert (first["revision"], second["revision"]) == (1, 2)
    assert second["digest"] != first["digest"]


def test_the_report_links_from_the_consultation(client, session, answered):
    c, approver = answered
    assert client.get(f"/api/v1/consultations/{c.id}").json["links"]["report"] is None
    publish_report(c, summary="报告", actor=approver)
    session.commit()
    data = client.get(f"/api/v1/consultations/{c.id}").json
    assert data["links"]["report"] == f"http://consult.test/consultations/{c.id}/report"
    assert data["status"] == "report_published"
    listed = client.get("/api/v1/consultations", query_string={"status": "reported"}).json
    assert [item["id"] for item in listed["items"]] == [c.id]
