"""Every statistic equals a count made independently from the rows (hypothesis, F22)."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult import clock
from consult.answers.models import DispositionCode
from consult.comments.models import Category, Channel, Comment, CommentStatus
from consult.consultations.models import Consultation, State
from consult.extensions import db
from consult.oversight.stats import Filters, compute
from consult.policies.models import Interpretation, Policy
from tests import factories

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
STATUSES = [CommentStatus.PUBLISHED, CommentStatus.HIDDEN, CommentStatus.UNVERIFIED,
            CommentStatus.PENDING_MODERATION]
REGIONS = [None, "", "金水区", "二七区", "中原区"]
KINDS = ["open", "closed", "reported", "withdrawn", "draft", "scheduled"]


@st.composite
def consultation_specs(draw):
    return {
        "unit": draw(st.integers(0, 2)),
        "kind": draw(st.sampled_from(KINDS)),
        "opened_days_ago": draw(st.integers(10, 700)),
        "length": draw(st.integers(7, 40)),
        "report_after": draw(st.integers(0, 60)),
        "type": draw(st.sampled_from(["rule", "normative_document", "major_decision"])),
        "policy": draw(st.sampled_from([None, "none", 0, 2, 9])),  # interpretation delay
        "comments": draw(st.lists(st.fixed_dictionaries({
            "status": st.sampled_from(STATUSES),
            "category": st.sampled_from(list(Category)),
            "channel": st.sampled_from(list(Channel)),
            "region": st.sampled_from(REGIONS),
            "code": st.one_of(st.none(), st.sampled_from(list(DispositionCode))),
            "day": st.integers(0, 40),
        }), max_size=6)),
    }


def build(spec, units):
    opens = NOW - timedelta(days=spec["opened_days_ago"])
    closes = opens + timedelta(days=spec["length"])
    kind = spec["kind"]
    if kind == "scheduled":
        opens, closes = NOW + timedelta(days=3), NOW + timedelta(days=40)
    state = {"draft": State.DRAFT, "withdrawn": State.WITHDRAWN}.get(kind, State.SCHEDULED)
    reported_at = None
    if kind == "reported" and closes < NOW:
        reported_at = min(closes + timedelta(days=spec["report_after"]), NOW)
        state = State.REPORT_PUBLISHED
    c = factories.consultation("draft", units[spec["unit"]], type=spec["type"],
                               opens_at=opens, closes_at=closes)
    c.state = state
    c.approved_at = None if kind == "draft" else opens - timedelta(days=1)
    c.report_published_at = reported_at
    for n, item in enumerate(spec["comments"]):
        received = opens + timedelta(days=item["day"], hours=n)
        comment = factories.comment(c, status=item["status"], category=item["category"],
                                    channel=item["channel"], region=item["region"],
                                    received_at=received, created_at=received)
        if item["code"] is not None and item["status"] == CommentStatus.PUBLISHED:
            factories.answer(comment, item["code"].value)
    if spec["policy"] is not None and closes < NOW:
        issued = min(closes + timedelta(days=3), NOW)
        policy = Policy(consultation=c, unit=c.unit, title="政策", document_number="1号",
                        issued_on=issued.date(), text="正文", published_at=issued)
        db.session.add(policy)
        if spec["policy"] != "none":
            db.session.add(Interpretation(policy=policy, title="解读", body="解读",
                                          published_at=issued + timedelta(days=spec["policy"])))
    db.session.flush()


def local(moment):
    return moment.astimezone(ZONE)


def working_days_after(day, n):
    from consult.consultations.windows import is_working_day
    while n:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


def expected(filters: Filters, units) -> dict:
    """The figures, counted one row at a time in Python."""
    today = local(NOW).date()
    scope_units = None
    if filters.unit_id:
        top = next(u for u in units if u.id == filters.unit_id)
        scope_units = {u.id for u in units if u is top or u.parent is top}
    consultations = [
        c for c in db.session.scalars(db.select(Consultation)).all()
        if (c.state != State.DRAFT and (c.state != State.WITHDRAWN or c.approved_at))
        and c.opens_at <= NOW
        and (filters.year is None or local(c.opens_at).year == filters.year)
        and (scope_units is None or c.unit_id in scope_units)
    ]
    ids = {c.id for c in consultations}
    comments = [m for m in db.session.scalars(db.select(Comment)).all()
                if m.consultation_id in ids]
    answered = [m for m in comments if m.status == CommentStatus.PUBLISHED
                and m.disposition is not None and m.consultation.report_published_at]
    reports = Counter()
    for c in consultations:
        if c.state == State.WITHDRAWN or c.closes_at >= NOW:
            continue
        due = local(c.closes_at).date() + timedelta(days=30)
        if c.report_published_at:
            reports["on_time" if local(c.report_published_at).date() <= due else "late"] += 1
        else:
            reports["overdue" if today > due else "pending"] += 1
    interpretations = Counter()
    for p in db.session.scalars(db.select(Policy)).all():
        if p.published_at is None or (filters.year and local(p.published_at).year
                                      != filters.year):
            continue
        if scope_units is not None and p.unit_id not in scope_units:
            continue
        due = working_days_after(local(p.published_at).date(), 3)
        firsts = [i.published_at for i in p.interpretations if i.published_at]
        if firsts:
            interpretations["on_time" if local(min(firsts)).date() <= due else "late"] += 1
        else:
            interpretations["missing" if today > due else "pending"] += 1
    days = [(local(c.report_published_at).date() - local(c.closes_at).date()).days
            for c in consultations if c.report_published_at]
    return {
        "consultations": len(consultations),
        "by_month": Counter(local(c.opens_at).strftime("%Y-%m") for c in consultations),
        "by_unit": Counter(c.unit_id for c in consultations),
        "comments": len(comments),
        "comment_months": Counter(local(m.received_at).strftime("%Y-%m") for m in comments),
        "by_category": Counter(m.category.value for m in comments),
        "by_channel": Counter(m.channel.value for m in comments),
        "by_region": Counter((m.region or "").strip() or "unspecified" for m in comments),
        "by_disposition": Counter(m.disposition.code.value for m in answered),
        "adopted_by_unit": Counter(m.consultation.unit_id for m in answered
                                   if m.disposition.code in ("adopted", "partly_adopted")),
        "answered_by_unit": Counter(m.consultation.unit_id for m in answered),
        "reports": reports,
        "interpretations": interpretations,
        "median": statistics.median(days) if days else None,
    }


def nonzero(counts):
    return {k: v for k, v in dict(counts).items() if v}


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(consultation_specs(), max_size=6),
       year=st.sampled_from([None, 2025, 2026]), unit=st.sampled_from([None, 0, 1]))
def test_every_figure_equals_an_independent_count(app, specs, year, unit):
    savepoint = db.session.begin_nested()
    clock.freeze(NOW)
    try:
        top = factories.unit()
        units = [top, factories.unit(parent=top), factories.unit()]
        for spec in specs:
            build(spec, units)
        filters = Filters(year=year, unit_id=units[unit].id if unit is not None else None)
        figures = compute(filters)
        want = expected(filters, units)

        assert figures["totals"]["consultations"] == want["consultations"]
        assert nonzero({r["month"]: r["count"] for r in figures["consultations_by_month"]}) \
            == nonzero(want["by_month"])
        assert {r["unit_id"]: r["count"] for r in figures["consultations_by_unit"]} \
            == nonzero(want["by_unit"])
        assert sum(figures["consultations_by_type"].values()) == want["consultations"]
        assert figures["totals"]["comments"] == want["comments"]
        assert nonzero({r["month"]: r["count"] for r in figures["comments_by_month"]}) \
            == nonzero(want["comment_months"])
        assert nonzero(figures["comments_by_category"]) == nonzero(want["by_category"])
        assert nonzero(figures["comments_by_channel"]) == nonzero(want["by_channel"])
        assert {r["region"]: r["count"] for r in figures["comments_by_region"]} \
            == nonzero(want["by_region"])
        assert nonzero(figures["answers_by_disposition"]) == nonzero(want["by_disposition"])
        for row in figures["adoption_by_unit"]:
            assert row["answered"] == want["answered_by_unit"][row["unit_id"]]
            assert row["adopted"] + row["partly_adopted"] == \
                want["adopted_by_unit"][row["unit_id"]]
        assert sum(r["answered"] for r in figures["adoption_by_unit"]) == \
            sum(want["answered_by_unit"].values())
        assert nonzero(figures["reports"]) == nonzero(want["reports"])
        assert nonzero(figures["interpretations"]) == nonzero(want["interpretations"])
        assert figures["days_to_report"]["median"] == want["median"]
        if year is not None:
            assert len(figures["consultations_by_month"]) == 12
            assert len(figures["comments_by_month"]) >= 12
    finally:
        clock.freeze(None)
        savepoint.rollback()
