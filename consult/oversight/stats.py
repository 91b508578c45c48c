"""Public statistics (F22): what the platform's consultations, comments, answers, reports and
interpretations add up to, for one year and one unit (with the units below it) or for all.

Every figure is counted from the records (never typed in), in a few aggregate queries:
- *consultations*: public ones (`consultations.queries.public_clause`) whose window has opened,
  by the local month it opened, by unit and by type; the year filter is the year it opened;
- *comments*: every comment those consultations received (the report's "received": hidden and
  unverified ones too), by the local month it was received (letters: their received date), by
  category, channel and region (regions as the public sees them: masked, the ten most frequent,
  the rest together);
- *adoption*: answers published in a report (consultations whose report is out; comments
  still published), by the unit and the type of the consultation; the rate is adopted plus
  partly adopted over answered;
- *days to report*: local days from the window's last day to the first report, its median;
- *reports on time*: closed consultations (withdrawn ones aside) with a report by the due day
  (the window's last day + REPORT_DUE_DAYS), late, overdue (none and past due) or not yet due;
- *interpretations on time* (SPEC §6, 三同步): published policies of the units in scope (year:
  the year published) whose first interpretation was published by the third working day after
  the policy, later, missing (none and past that day) or not yet due.

`figures()` answers from a snapshot (`stats_snapshots`) while the records it was counted from
have not moved: the stamp is the last report, policy, interpretation and consultation change,
so a published report shows at once; comments arriving are counted again after STATS_MAX_AGE
seconds, by one reader while the others get the older snapshot (`kept` says who waits for
what). bench/stats.py measures why (1 000 000 comments). The page itself is in the page cache
(`consult/pagecache.py`, scope `stats`): a reader of a kept page costs no query at all.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import JSON, String
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from consult import clock, settings
from consult.answers.models import Disposition, DispositionCode
from consult.auth.models import Unit
from consult.comments.masking import mask
from consult.comments.models import Category, Channel, Comment, CommentStatus
from consult.consultations.models import Consultation, ConsultationType, State
from consult.consultations.queries import public_clause
from consult.consultations.windows import add_working_days, report_due_on
from consult.errors import NotFound, Unavailable
from consult.extensions import db
from consult.paging import int_param
from consult.policies.models import Interpretation, Policy
from consult.types import UTCDateTime

TOP_REGIONS = 10
OTHER_REGIONS = "other"  # the key of the regions after the TOP_REGIONS most frequent
UNSPECIFIED_REGION = "unspecified"
INTERPRETATION_WORKING_DAYS = 3  # SPEC §6: at most 3 working days after the policy
ADOPTED = (DispositionCode.ADOPTED.value, DispositionCode.PARTLY_ADOPTED.value)


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    unit_id: int | None = None

    @property
    def key(self) -> str:
        return f"stats:{self.year or 'all'}:{self.unit_id or 'all'}"


class StatsSnapshot(db.Model):
    """The figures of one filter, kept while the records they count have not moved."""

    __tablename__ = "stats_snapshots"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[dict] = mapped_column(JSON)


# ------------------------------------------------------------------------------ helpers


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return clock.start_of_day(date(year, 1, 1)), clock.start_of_day(date(year + 1, 1, 1))


def _month(moment: datetime) -> str:
    return clock.local(moment).strftime("%Y-%m")


def _local_month(column):
    """The local month (YYYY-MM) of a UTC column, in SQL. PostgreSQL converts with the time
    zone itself; SQLite adds the zone's offset now (exact for zones without summer time, such
    as the default Asia/Shanghai)."""
    zone = current_app.config["TIMEZONE"]
    if db.session.get_bind().dialect.name == "postgresql":
        return db.func.to_char(db.func.timezone(zone, column), "YYYY-MM")
    offset = clock.now().astimezone(clock.local_zone()).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return db.func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


def _months(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), both included."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _series(counts: dict[str, int], year: int | None) -> list[dict]:
    """Counts per month, months without any as 0: the filter's twelve months (and any month
    around them with a count: a December consultation's comments in January), else from the
    first month to the last."""
    bounds = set(counts)
    if year is not None:
        bounds |= {f"{year}-01", f"{year}-12"}
    months = _months(min(bounds), max(bounds)) if bounds else []
    return [{"month": month, "count": counts.get(month, 0)} for month in months]


def _rate(adopted: int, answered: int) -> float | None:
    return round(adopted / answered, 4) if answered else None


def unit_scope(unit_id: int | None) -> set[int] | None:
    """The unit and every unit below it (None: every unit)."""
    if unit_id is None:
        return None
    unit = db.session.get(Unit, unit_id)
    return unit.descendant_ids() if unit is not None else {unit_id}


def scope_clause(filters: Filters, now: datetime):
    """The consultations counted: public, opened by `now`, in the year and the units."""
    C = Consultation
    conditions = [public_clause(), C.opens_at <= now]
    if filters.year is not None:
        first, after = year_bounds(filters.year)
        conditions += [C.opens_at >= first, C.opens_at < after]
    units = unit_scope(filters.unit_id)
    if units is not None:
        conditions.append(C.unit_id.in_(units))
    return db.and_(*conditions)


def interpretation_due_on(policy_published_at: datetime) -> date:
    """The last day for a policy's interpretation: the third working day after the policy."""
    return add_working_days(clock.local_date(policy_published_at), INTERPRETATION_WORKING_DAYS)


def report_timeliness(closes_at: datetime, published_at: datetime | None, today: date) -> str:
    """on_time, late, overdue or pending (not yet due), for a window that has closed."""
    due = report_due_on(closes_at)
    if published_at is not None:
        return "on_time" if clock.local_date(published_at) <= due else "late"
    return "overdue" if today > due else "pending"


def interpretation_timeliness(policy_published_at: datetime, first: datetime | None,
                              today: date) -> str:
    """on_time, late, missing (none, past due) or pending (none, not yet due)."""
    due = interpretation_due_on(policy_published_at)
    if first is not None:
        return "on_time" if clock.local_date(first) <= due else "late"
    return "missing" if today > due else "pending"


# ------------------------------------------------------------------------------ the figures


def compute(filters: Filters) -> dict:
    """Every figure of the statistics page and `GET /api/v1/stats`, counted now."""
    now = clock.now()
    today = clock.today()
    C = Consultation
    scope = scope_clause(filters, now)
    consultations = db.session.execute(
        db.select(C.id, C.unit_id, C.type, C.state, C.opens_at, C.closes_at,
                  C.report_published_at).where(scope)
    ).all()
    ids = db.select(C.id).where(scope)
    unit_names = dict(db.session.execute(db.select(Unit.id, Unit.name)).all())

    by_month = Counter(_month(c.opens_at) for c in consultations)
    by_unit = Counter(c.unit_id for c in consultations)
    by_type = Counter(c.type.value for c in consultations)

    # comments: category and channel per consultation in one pass, months and regions in two
    per_consultation: dict[int, int] = defaultdict(int)
    by_category = {member.value: 0 for member in Category}
    by_channel = {member.value: 0 for member in Channel}
    for consultation_id, category, channel, count in db.session.execute(
        db.select(Comment.consultation_id, Comment.category, Comment.channel,
                  db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(ids))
        .group_by(Comment.consultation_id, Comment.category, Comment.channel)
    ):
        per_consultation[consultation_id] += count
        by_category[category.value] += count
        by_channel[channel.value] += count
    month = _local_month(Comment.received_at)
    comment_months = {m: n for m, n in db.session.execute(
        db.select(month, db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(ids)).group_by(month))}
    regions: Counter = Counter()
    for region, count in db.session.execute(
        db.select(Comment.region, db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(ids)).group_by(Comment.region)
    ):
        shown = mask(region.strip()) if region and region.strip() else None
        regions[shown or UNSPECIFIED_REGION] += count

    # adoption: the answers of published reports, per consultation and code
    reported = {c.id: c for c in consultations if c.report_published_at is not None}
    answers: dict[int, Counter] = defaultdict(Counter)
    if reported:
        for consultation_id, code, count in db.session.execute(
            db.select(Comment.consultation_id, Disposition.code, db.func.count(Comment.id))
            .join(Disposition, Disposition.comment_id == Comment.id)
            .where(Comment.consultation_id.in_(ids), C.report_published_at.is_not(None),
                   Comment.status == CommentStatus.PUBLISHED)
            .join(C, C.id == Comment.consultation_id)
            .group_by(Comment.consultation_id, Disposition.code)
        ):
            answers[consultation_id][code.value] += count
    adoption_unit: dict[int, Counter] = defaultdict(Counter)
    adoption_type: dict[str, Counter] = defaultdict(Counter)
    by_disposition = {member.value: 0 for member in DispositionCode}
    for consultation_id, codes in answers.items():
        c = reported[consultation_id]
        for code, count in codes.items():
            by_disposition[code] += count
            for bucket in (adoption_unit[c.unit_id], adoption_type[c.type.value]):
                bucket[code] += count
                bucket["answered"] += count

    def adoption_row(counts: Counter) -> dict:
        adopted = counts[DispositionCode.ADOPTED.value]
        partly = counts[DispositionCode.PARTLY_ADOPTED.value]
        return {"answered": counts["answered"], "adopted": adopted, "partly_adopted": partly,
                "rate": _rate(adopted + partly, counts["answered"])}

    # reports: days from the window's last day, and whether they came by the due day
    days = sorted((clock.local_date(c.report_published_at) - clock.local_date(c.closes_at)).days
                  for c in reported.values())
    reports = {"on_time": 0, "late": 0, "overdue": 0, "pending": 0}
    for c in consultations:
        if c.state != State.WITHDRAWN and c.closes_at < now:
            reports[report_timeliness(c.closes_at, c.report_published_at, today)] += 1

    interpretations = interpretation_figures(filters, today)
    total_answered = sum(by_disposition.values())
    return {
        "filters": {"year": filters.year, "unit_id": filters.unit_id,
                    "unit": unit_names.get(filters.unit_id) if filters.unit_id else None},
        "generated_at": clock.local(now).isoformat(timespec="seconds"),
        "rules": {"report_due_days": int(settings.value("REPORT_DUE_DAYS")),
                  "interpretation_working_days": INTERPRETATION_WORKING_DAYS},
        "totals": {
            "consultations": len(consultations),
            "comments": sum(per_consultation.values()),
            "reports": len(reported),
            "answered": total_answered,
            "adoption_rate": _rate(by_disposition[DispositionCode.ADOPTED.value]
                                   + by_disposition[DispositionCode.PARTLY_ADOPTED.value],
                                   total_answered),
        },
        "consultations_by_month": _series(dict(by_month), filters.year),
        "consultations_by_unit": sorted(
            ({"unit_id": unit_id, "unit": unit_names.get(unit_id, ""), "count": n}
             for unit_id, n in by_unit.items()), key=lambda r: (-r["count"], r["unit"])),
        "consultations_by_type": {member.value: by_type.get(member.value, 0)
                                  for member in ConsultationType},
        "comments_by_month": _series(comment_months, filters.year),
        "comments_by_category": by_category,
        "comments_by_channel": by_channel,
        "comments_by_region": _top_regions(regions),
        "answers_by_disposition": by_disposition,
        "adoption_by_unit": sorted(
            ({"unit_id": unit_id, "unit": unit_names.get(unit_id, ""), **adoption_row(counts)}
             for unit_id, counts in adoption_unit.items()),
            key=lambda r: (-r["answered"], r["unit"])),
        "adoption_by_type": [
            {"type": member.value, **adoption_row(adoption_type[member.value])}
            for member in ConsultationType if adoption_type[member.value]["answered"]],
        "days_to_report": {"count": len(days),
                           "median": statistics.median(days) if days else None,
                           "shortest": days[0] if days else None,
                           "longest": days[-1] if days else None},
        "reports": reports,
        "interpretations": interpretations,
    }


def _top_regions(regions: Counter) -> list[dict]:
    named = sorted(((r, n) for r, n in regions.items() if r != UNSPECIFIED_REGION),
                   key=lambda item: (-item[1], item[0]))
    rows = [{"region": r, "count": n} for r, n in named[:TOP_REGIONS]]
    rest = sum(n for _r, n in named[TOP_REGIONS:])
    if rest:
        rows.append({"region": OTHER_REGIONS, "count": rest})
    if regions.get(UNSPECIFIED_REGION):
        rows.append({"region": UNSPECIFIED_REGION, "count": regions[UNSPECIFIED_REGION]})
    return rows


def interpretation_figures(filters: Filters, today: date) -> dict:
    """Published policies of the units in scope (year: the year published), by whether their
    first published interpretation came in time."""
    first = (db.select(db.func.min(Interpretation.published_at))
             .where(Interpretation.policy_id == Policy.id,
                    Interpretation.published_at.is_not(None))
             .scalar_subquery())
    query = db.select(Policy.published_at, first).where(Policy.published_at.is_not(None))
    if filters.year is not None:
        start, after = year_bounds(filters.year)
        query = query.where(Policy.published_at >= start, Policy.published_at < after)
    units = unit_scope(filters.unit_id)
    if units is not None:
        query = query.where(Policy.unit_id.in_(units))
    figures = {"on_time": 0, "late": 0, "missing": 0, "pending": 0}
    for published_at, first_at in db.session.execute(query):
        figures[interpretation_timeliness(published_at, first_at, today)] += 1
    return figures


def years() -> list[int]:
    """Local years in which public consultations opened, the latest first (the year filter)."""
    now = clock.now()
    opened = db.session.scalars(
        db.select(Consultation.opens_at).where(public_clause(), Consultation.opens_at <= now))
    found = {clock.local_date(moment).year for moment in opened}
    return sorted(found | {clock.today().year}, reverse=True)


def units() -> list[Unit]:
    """Units with public consultations, and the units above them (the unit filter)."""
    with_consultations = db.session.scalars(
        db.select(Unit).where(db.select(Consultation.id).where(
            Consultation.unit_id == Unit.id, public_clause()).exists())).all()
    found = {u.id: u for unit in with_consultations for u in unit.ancestors_and_self()}
    return sorted(found.values(), key=lambda u: u.name)


# ------------------------------------------------------------------------------ the snapshot


def stamp() -> str:
    """What the figures depend on, besides the flow of comments: changes to consultations,
    reports, answers' publication, policies and interpretations (cheap indexed reads)."""
    parts = db.session.execute(db.select(
        db.select(db.func.max(Consultation.updated_at)).scalar_subquery(),
        db.select(db.func.count(Consultation.id)).scalar_subquery(),
        db.select(db.func.max(Consultation.report_published_at)).scalar_subquery(),
        db.select(db.func.count(Consultation.report_published_at)).scalar_subquery(),
        db.select(db.func.max(Policy.published_at)).scalar_subquery(),
        db.select(db.func.count(Policy.published_at)).scalar_subquery(),
        db.select(db.func.max(Interpretation.published_at)).scalar_subquery(),
        db.select(db.func.count(Interpretation.published_at)).scalar_subquery(),
    )).one()
    values = [p.isoformat() if isinstance(p, datetime) else str(p) for p in parts]
    values += [str(settings.value("REPORT_DUE_DAYS")), clock.today().isoformat()]
    return "|".join(values)[:200]


# The contents of snapshots this process has read, by key: (version, content). A version names
# one snapshot (its stamp and when it was counted), so an entry is never stale: a newer snapshot
# has another version.
_contents: dict[str, tuple[str, dict]] = {}
KEPT_CONTENTS = 256
LEASE_PREFIX = "lease:"  # the row of `stats_snapshots` saying who is counting a key again
POLL_SECONDS = 0.1  # how often a reader waiting for a recount looks again


class Recounting(Unavailable):
    """The figures are being counted again after a publication and it takes too long: 503."""

    code = "stats_recounting"
    retry_after = 10


@dataclass(frozen=True)
class Kept:
    """Figures from a snapshot: `version` names the snapshot; `fresh_until` is when comments
    will be counted again (None: an older snapshot, served while another reader counts)."""

    content: dict
    version: str
    fresh_until: datetime | None


def snapshot(filters: Filters) -> Kept:
    """The figures of `filters` from their snapshot (see `kept`)."""
    return kept(filters.key, lambda: compute(filters))


def kept(key: str, count: Callable[[], dict]) -> Kept:
    """`count()`'s figures under `key`, from the snapshot `stats_snapshots` holds for it.

    - Same stamp, younger than STATS_MAX_AGE seconds: the snapshot.
    - Same stamp, older (only comments and answers can have come since): one reader — whoever
      takes the key's lease, in any process — counts again and waits for it; every other
      reader meanwhile gets the older snapshot at once (comments lag by at most STATS_MAX_AGE
      plus one count), and nobody counts twice.
    - No snapshot, or another stamp (a report, policy or interpretation published, a
      consultation changed): older figures are never shown. The reader who takes the lease
      counts; the others wait for that count (up to STATS_RECOUNT_WAIT seconds, then 503 with
      Retry-After) instead of each counting the same figures at once. A lease whose holder died
      expires after STATS_RECOUNT_LEASE seconds and the next reader counts.

    The yearly figures are kept the same way.
    """
    config = current_app.config
    max_age = int(config.get("STATS_MAX_AGE", 300))
    if max_age <= 0:
        return Kept(count(), f"{stamp()}@{clock.now().isoformat()}", None)
    give_up = time.monotonic() + float(config.get("STATS_RECOUNT_WAIT", 60))
    while True:
        current = stamp()
        row = db.session.execute(
            db.select(StatsSnapshot.stamp, StatsSnapshot.computed_at)
            .where(StatsSnapshot.key == key)).first()
        if row is not None and row.stamp == current:
            fresh_until = row.computed_at.astimezone(UTC) + timedelta(seconds=max_age)
            if clock.now() < fresh_until:
                return _read(key, row, fresh_until)
            token = _take_lease(key)
            if token is None:  # another reader is counting: the older figures meanwhile
                return _read(key, row, None)
            return _count_again(key, count, token)
        token = _take_lease(key)
        if token is not None:
            return _count_again(key, count, token)
        if time.monotonic() > give_up:
            raise Recounting(_("统计数据正在重新计算，请稍后再试。"))
        time.sleep(POLL_SECONDS)


def _read(key: str, row, fresh_until: datetime | None) -> Kept:
    version = f"{row.stamp}@{row.computed_at.isoformat()}"
    remembered = _contents.get(key)
    if remembered is not None and remembered[0] == version:
        return Kept(remembered[1], version, fresh_until)
    content = db.session.scalar(db.select(StatsSnapshot.content).where(StatsSnapshot.key == key))
    _remember(key, version, content)
    return Kept(content, version, fresh_until)


def _count_again(key: str, count: Callable[[], dict], token: str) -> Kept:
    """Count under the lease `token`, keep the snapshot, give the lease back."""
    try:
        now = clock.now()
        current = stamp()
        content = count()
        _keep(key, current, now, content)
    finally:
        _give_back(key, token)
    version = f"{current}@{now.isoformat()}"
    _remember(key, version, content)
    max_age = int(current_app.config.get("STATS_MAX_AGE", 300))
    return Kept(content, version, now + timedelta(seconds=max_age))


def _lease_key(key: str) -> str:
    return (LEASE_PREFIX + key)[:80]


def _take_lease(key: str) -> str | None:
    """The lease on counting `key` again (a token), or None while another reader holds it.

    The lease is a row of its own: read first (a waiting reader only reads), then, when absent
    or expired, written in a transaction of its own that begins with the write (so SQLite's
    busy timeout applies); of two readers taking it at once, one writes it, the other finds
    the key taken (insert) or the row changed (update)."""
    lease = _lease_key(key)
    held = db.session.execute(db.select(StatsSnapshot.stamp, StatsSnapshot.computed_at)
                              .where(StatsSnapshot.key == lease)).first()
    now = clock.now()
    expired = now - timedelta(seconds=int(current_app.config.get("STATS_RECOUNT_LEASE", 300)))
    db.session.commit()  # end this request's reading: a waiting reader then sees new rows
    if held is not None and held.computed_at.astimezone(UTC) >= expired:
        return None
    token = secrets.token_hex(8)
    try:
        if held is None:
            db.session.execute(db.insert(StatsSnapshot).values(
                key=lease, stamp=token, computed_at=now, content={}))
        elif not db.session.execute(
                db.update(StatsSnapshot)
                .where(StatsSnapshot.key == lease, StatsSnapshot.stamp == held.stamp)
                .values(stamp=token, computed_at=now)
                .execution_options(synchronize_session=False)).rowcount:
            db.session.rollback()
            return None
        db.session.commit()
    except (IntegrityError, OperationalError):  # another reader was first; SQLite busy
        db.session.rollback()
        return None
    return token


def _give_back(key: str, token: str) -> None:
    try:
        db.session.rollback()  # whatever the count left open
        db.session.execute(db.delete(StatsSnapshot).where(
            StatsSnapshot.key == _lease_key(key), StatsSnapshot.stamp == token))
        db.session.commit()
    except OperationalError:  # SQLite busy: the lease expires by itself
        db.session.rollback()


def _remember(key: str, version: str, content: dict) -> None:
    if len(_contents) >= KEPT_CONTENTS:
        _contents.clear()
    _contents[key] = (version, content)


def figures(filters: Filters) -> dict:
    """The figures of `filters` (see `kept`)."""
    return snapshot(filters).content


def _keep(key: str, current: str, now: datetime, content: dict) -> None:
    """Save the snapshot in a transaction of its own (a GET commits nothing else); a
    concurrent writer of the same key wins, which is as good."""
    try:  # IntegrityError: another writer of the key; OperationalError: SQLite busy
        db.session.commit()  # the count's reading ends: the write begins a transaction
        with db.session.begin_nested():
            snapshot = db.session.get(StatsSnapshot, key)
            if snapshot is None:
                db.session.add(StatsSnapshot(key=key, stamp=current, computed_at=now,
                                             content=content))
            else:
                snapshot.stamp, snapshot.computed_at, snapshot.content = current, now, content
        db.session.commit()
    except (IntegrityError, OperationalError):
        db.session.rollback()


# ------------------------------------------------------------------------------ the filters

FIRST_YEAR, LAST_YEAR = 2000, 2100


def filters_from(args) -> Filters:
    """`year` and `unit` from the query string: 400 when malformed, 404 for an unknown unit."""
    year = int_param("year", minimum=FIRST_YEAR, maximum=LAST_YEAR, args=args)
    unit_id = int_param("unit", minimum=1, args=args)
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise NotFound(_("找不到该单位。"))
    return Filters(year=year, unit_id=unit_id)
