"""The published report adds up, whatever comments it is made of (hypothesis, SPEC §5)."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.answers.models import DispositionCode
from consult.answers.services import UNSPECIFIED_REGION, digest_of, publish_report
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.extensions import db
from tests import factories

STATUSES = [CommentStatus.PUBLISHED, CommentStatus.HIDDEN, CommentStatus.UNVERIFIED]
REGIONS = [None, "", "金水区", "二七区", "中原区"]


@st.composite
def comment_specs(draw):
    status = draw(st.sampled_from(STATUSES))
    code = draw(st.sampled_from(list(DispositionCode)))
    # no NUL: PostgreSQL's text cannot hold one (the forms drop it: consult/answers/forms.py)
    reason = draw(st.one_of(st.none(), st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        min_size=1, max_size=20).filter(str.strip)))
    if code != DispositionCode.ADOPTED and reason is None:
        reason = "已有相关规定。"
    return {
        "status": status,
        "hidden_reason": draw(st.one_of(st.none(), st.sampled_from(list(HiddenReason)))),
        "category": draw(st.sampled_from(list(Category))),
        "channel": draw(st.sampled_from(list(Channel))),
        "region": draw(st.sampled_from(REGIONS)),
        "article": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=12))),
        "code": code,
        "reason": reason,
        "grouped": draw(st.booleans()),  # a published one joins the example's campaign
    }


def _sum(counts: dict) -> int:
    return sum(counts.values())


def recompute(items: list[dict]) -> dict:
    """What a reader of the JSON would compute from `items` alone."""
    received = unverified = hidden = answered = 0
    hidden_by_reason, by_disposition = Counter(), Counter()
    by_category, by_channel, by_region = Counter(), Counter(), Counter()
    for item in items:
        n = item["count"]
        received += n
        for counter, key, single in ((by_category, "by_category", item.get("category")),
                                     (by_channel, "by_channel", item.get("channel"))):
            counter.update(item.get(key) or {single: n})
        by_region.update(item.get("by_region") or {item["region"] or UNSPECIFIED_REGION: n})
        if item["visibility"] == "hidden":
            hidden += n
            hidden_by_reason[item["hidden_reason"]] += n
        elif item["visibility"] == "unverified":
            unverified += n
        else:
            answered += n
            by_disposition[item["disposition"]] += n
    return {"received": received, "unverified": unverified, "hidden": hidden,
            "answered": answered, "hidden_by_reason": hidden_by_reason,
            "by_disposition": by_disposition, "by_category": by_category,
            "by_channel": by_channel, "by_region": by_region}


def nonzero(counts: dict) -> dict:
    return {key: value for key, value in counts.items() if value}


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(comment_specs(), max_size=25),
       campaign_answer=st.sampled_from([("adopted", None), ("not_adopted", "已有相关规定。")]))
def test_the_report_totals_equal_the_sums_of_their_parts(app, specs, campaign_answer):
    from consult.answers.models import CommentGroup, GroupStatus

    savepoint = db.session.begin_nested()  # each example leaves nothing behind
    try:
        c = factories.consultation("closed")
        approver = factories.user("approver", c.unit)
        campaign = CommentGroup(consultation=c, status=GroupStatus.CONFIRMED)
        expected_codes = Counter()
        for spec in specs:
            comment = factories.comment(
                c, article=spec["article"], status=spec["status"], category=spec["category"],
                channel=spec["channel"], region=spec["region"],
                hidden_reason=spec["hidden_reason"] if spec["status"] == "hidden" else None,
            )
            if spec["status"] != CommentStatus.PUBLISHED:
                continue
            code, reason = spec["code"], spec["reason"]
            if spec["grouped"]:  # one answer for the whole campaign, shown once
                comment.group = campaign
                campaign.representative = campaign.representative or comment
                code, reason = campaign_answer
            factories.answer(comment, code, reason)
            expected_codes[DispositionCode(code).value] += 1
        db.session.flush()
        report = publish_report(c, summary="总结", actor=approver)
        content = report.content
        totals = content["totals"]

        # the generated comments themselves
        statuses = Counter(spec["status"].value for spec in specs)
        assert totals["received"] == len(specs)
        assert totals["hidden"] == statuses["hidden"]
        assert totals["unverified"] == statuses["unverified"]
        assert totals["answered"] == statuses["published"]
        assert nonzero(totals["by_disposition"]) == dict(expected_codes)
        grouped = sum(1 for spec in specs if spec["grouped"] and spec["status"] == "published")
        groups = [item for item in content["items"] if item["kind"] == "group"]
        assert len(groups) == (1 if grouped >= 2 else 0)
        assert len(content["items"]) == len(specs) - (grouped - 1 if grouped >= 2 else 0)

        # SPEC §5: received = unverified + hidden + answered, and every breakdown sums up
        assert totals["received"] == totals["unverified"] + totals["hidden"] + totals["answered"]
        assert totals["answered"] == _sum(totals["by_disposition"])
        assert totals["answered"] == sum(_sum(row["by_disposition"])
                                         for row in content["by_article"])
        assert totals["received"] == sum(row["received"] for row in content["by_article"])
        assert totals["hidden"] == _sum(totals["hidden_by_reason"])
        for key in ("by_category", "by_channel", "by_region"):
            assert _sum(totals[key]) == totals["received"], key
        assert set(totals["by_disposition"]) == {d.value for d in DispositionCode}

        # anyone can re-compute the totals from the items
        again = recompute(content["items"])
        for key in ("received", "unverified", "hidden", "answered"):
            assert again[key] == totals[key], key
        for key in ("hidden_by_reason", "by_disposition", "by_category", "by_channel",
                    "by_region"):
            assert dict(again[key]) == nonzero(totals[key]), key

        # and the digest of what is published re-computes, also after a JSON round trip
        assert report.digest == content["digest"] == digest_of(content)
        assert digest_of(json.loads(json.dumps(content, ensure_ascii=False))) == report.digest
        db.session.flush()
        db.session.expire(report)
        assert digest_of(report.content) == report.digest
    finally:
        savepoint.rollback()
