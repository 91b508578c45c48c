"""Yearly figures per unit (F23): the numbers a unit's open-government annual report needs
(政府信息公开工作年度报告, reference §五(三)), counted from the records, never typed in.

One row per unit with activity in the year (its own consultations, not those of the units below
it: each unit reports for itself), and a total:
- consultations opened in the year (public, the local year the window opened);
- comments those consultations received, in all and by channel;
- their answers published in a report, by disposition (adopted, partly, not adopted, already
  provided, out of scope);
- reports on time / late / overdue / not yet due, as on /stats;
- policies the unit published in the year, and their interpretations on time / late /
  missing / not yet due.
The same rules as `consult.oversight.stats` (one place for each decision: its scope clause and
timeliness functions).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _

from consult import clock
from consult.answers.exports import safe_cell
from consult.answers.models import Disposition, DispositionCode
from consult.auth.models import Unit
from consult.comments.models import Channel, Comment, CommentStatus
from consult.consultations.models import Consultation, State
from consult.extensions import db
from consult.labels import label
from consult.oversight.stats import (
    Filters,
    interpretation_timeliness,
    kept,
    report_timeliness,
    scope_clause,
    unit_scope,
    year_bounds,
)
from consult.policies.models import Interpretation, Policy

REPORT_STATES = ("on_time", "late", "overdue", "pending")
INTERPRETATION_STATES = ("on_time", "late", "missing", "pending")


@dataclass
class Row:
    unit_id: int | None
    unit: str
    consultations: int = 0
    comments: int = 0
    by_channel: Counter = field(default_factory=Counter)
    by_disposition: Counter = field(default_factory=Counter)
    reports: Counter = field(default_factory=Counter)
    policies: int = 0
    interpretations: Counter = field(default_factory=Counter)

    def add(self, other: Row) -> None:
        self.consultations += other.consultations
        self.comments += other.comments
        self.policies += other.policies
        for mine, theirs in ((self.by_channel, other.by_channel),
                             (self.by_disposition, other.by_disposition),
                             (self.reports, other.reports),
                             (self.interpretations, other.interpretations)):
            mine.update(theirs)

    def as_dict(self) -> dict:
        return {
            "unit_id": self.unit_id, "unit": self.unit,
            "consultations": self.consultations, "comments": self.comments,
            "comments_by_channel": {c.value: self.by_channel[c.value] for c in Channel},
            "answers_by_disposition": {d.value: self.by_disposition[d.value]
                                       for d in DispositionCode},
            "reports": {k: self.reports[k] for k in REPORT_STATES},
            "policies": self.policies,
            "interpretations": {k: self.interpretations[k] for k in INTERPRETATION_STATES},
        }


def figures(year: int, unit_id: int | None = None) -> dict:
    """Every unit's figures for `year` (the unit given and those below it, else all), kept
    like the statistics (`consult.oversight.stats.kept`)."""
    return kept(f"yearly:{year}:{unit_id or 'all'}", lambda: count(year, unit_id)).content


def count(year: int, unit_id: int | None = None) -> dict:
    """Every unit's figures for `year`, counted now."""
    now, today = clock.now(), clock.today()
    filters = Filters(year=year, unit_id=unit_id)
    scope = scope_clause(filters, now)
    C = Consultation
    names = dict(db.session.execute(db.select(Unit.id, Unit.name)).all())
    rows: dict[int, Row] = {}

    def row(unit: int) -> Row:
        if unit not in rows:
            rows[unit] = Row(unit, names.get(unit, ""))
        return rows[unit]

    consultations = db.session.execute(
        db.select(C.id, C.unit_id, C.state, C.closes_at, C.report_published_at).where(scope)
    ).all()
    unit_of = {c.id: c.unit_id for c in consultations}
    reported = {c.id for c in consultations if c.report_published_at is not None}
    for c in consultations:
        r = row(c.unit_id)
        r.consultations += 1
        if c.state != State.WITHDRAWN and c.closes_at < now:
            r.reports[report_timeliness(c.closes_at, c.report_published_at, today)] += 1
    ids = db.select(C.id).where(scope)
    for consultation_id, channel, count in db.session.execute(
        db.select(Comment.consultation_id, Comment.channel, db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(ids))
        .group_by(Comment.consultation_id, Comment.channel)
    ):
        r = row(unit_of[consultation_id])
        r.comments += count
        r.by_channel[channel.value] += count
    if reported:
        for consultation_id, code, count in db.session.execute(
            db.select(Comment.consultation_id, Disposition.code, db.func.count(Comment.id))
            .join(Disposition, Disposition.comment_id == Comment.id)
            .where(Comment.consultation_id.in_(ids), Comment.status == CommentStatus.PUBLISHED)
            .group_by(Comment.consultation_id, Disposition.code)
        ):
            if consultation_id in reported:
                row(unit_of[consultation_id]).by_disposition[code.value] += count

    first = (db.select(db.func.min(Interpretation.published_at))
             .where(Interpretation.policy_id == Policy.id,
                    Interpretation.published_at.is_not(None)).scalar_subquery())
    start, after = year_bounds(year)
    query = db.select(Policy.unit_id, Policy.published_at, first).where(
        Policy.published_at >= start, Policy.published_at < after)
    units = unit_scope(unit_id)
    if units is not None:
        query = query.where(Policy.unit_id.in_(units))
    for policy_unit, published_at, first_at in db.session.execute(query):
        r = row(policy_unit)
        r.policies += 1
        r.interpretations[interpretation_timeliness(published_at, first_at, today)] += 1

    ordered = sorted(rows.values(), key=lambda r: r.unit)
    total = Row(None, _("合计"))
    for r in ordered:
        total.add(r)
    return {
        "year": year, "unit_id": unit_id, "generated_at": clock.local(now).isoformat(
            timespec="seconds"),
        "units": [r.as_dict() for r in ordered], "total": total.as_dict(),
    }


def columns() -> list[str]:
    """The headings of the table, CSV and workbook, in order."""
    return (
        [_("单位"), _("开展意见征集（件）"), _("收到意见（条）")]
        + [_("其中：%(channel)s", channel=label(c, "channel")) for c in Channel]
        + [label(d, "disposition") for d in DispositionCode]
        + [_("按时反馈"), _("逾期后反馈"), _("逾期未反馈"), _("未到期限")]
        + [_("发布政策文件（件）"), _("按时解读"), _("逾期后解读"), _("逾期未解读"),
           _("解读未到期限")]
    )


def values(row: dict) -> list:
    return (
        [row["unit"], row["consultations"], row["comments"]]
        + [row["comments_by_channel"][c.value] for c in Channel]
        + [row["answers_by_disposition"][d.value] for d in DispositionCode]
        + [row["reports"][k] for k in REPORT_STATES]
        + [row["policies"]] + [row["interpretations"][k] for k in INTERPRETATION_STATES]
    )


def rows(content: dict) -> list[list]:
    return [values(r) for r in content["units"]] + [values(content["total"])]


def to_csv(content: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns())
    for line in rows(content):
        writer.writerow([safe_cell(v) for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(content: dict) -> bytes:
    """One sheet: the units' figures and their total, headings bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = _("%(year)d 年度", year=content["year"])
    sheet.append([safe_cell(c) for c in columns()])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in rows(content):
        sheet.append([safe_cell(v) for v in line])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 28
    for index in range(2, len(columns()) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 12
    book.properties.title = _("%(year)d 年度公众参与统计", year=content["year"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

