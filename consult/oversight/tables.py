"""The statistics as named tables with translated headings: what the page shows under each
chart (for screen readers and anyone who would rather read), what each chart's CSV holds, and
the charts' geometry (`consult.answers.charts`, drawn as SVG by the template)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _

from consult.answers import charts
from consult.answers.exports import safe_cell
from consult.labels import label
from consult.oversight.stats import OTHER_REGIONS, UNSPECIFIED_REGION


@dataclass
class Table:
    name: str  # also the CSV's name: /stats/<name>.csv
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: charts.Chart | None = None
    desc: str | None = None  # the chart's description for screen readers, when not its rows


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _region(name: str) -> str:
    if name == UNSPECIFIED_REGION:
        return _("未填写")
    if name == OTHER_REGIONS:
        return _("其他地区")
    return name


def _timeline(name: str, title: str, series: list[dict], noun: str) -> Table:
    rows = [[row["month"], row["count"]] for row in series]
    table = Table(name, title, [_("月份"), noun], rows)
    table.chart = charts.timeline_chart(f"chart-{name}", [(m, n) for m, n in rows],
                                        tick=lambda month: month if len(rows) > 12 else
                                        month[5:])
    if rows:
        table.desc = _("%(first)s 至 %(last)s 共 %(total)d，单月最多 %(max)d。",
                       first=rows[0][0], last=rows[-1][0], total=table.chart.total,
                       max=table.chart.maximum)
    return table


def _bars(name: str, title: str, heading: str, rows: list[tuple[str, int]]) -> Table:
    table = Table(name, title, [heading, _("数量")], [[k, v] for k, v in rows])
    table.chart = charts.bar_chart(f"chart-{name}", rows)
    return table


def _adoption(name: str, title: str, heading: str, rows: list[tuple[str, dict]]) -> Table:
    table = Table(name, title, [heading, _("已答复"), _("采纳"), _("部分采纳"), _("采纳率")],
                  [[k, r["answered"], r["adopted"], r["partly_adopted"], percent(r["rate"])]
                   for k, r in rows])
    table.chart = charts.bar_chart(
        f"chart-{name}", [(k, round((r["rate"] or 0) * 1000)) for k, r in rows],
        display=lambda permille: f"{permille / 10:.1f}%")
    return table


def tables(figures: dict) -> list[Table]:
    """Every table of the statistics, in the page's order."""
    reports = figures["reports"]
    interpretations = figures["interpretations"]
    days = figures["days_to_report"]
    return [
        _timeline("consultations_by_month", _("每月开始征集的意见征集数"),
                  figures["consultations_by_month"], _("意见征集数")),
        _bars("consultations_by_unit", _("各单位的意见征集数"), _("单位"),
              [(r["unit"], r["count"]) for r in figures["consultations_by_unit"]]),
        _bars("consultations_by_type", _("各类文件的意见征集数"), _("文件类型"),
              [(label(k, "type"), v) for k, v in figures["consultations_by_type"].items()]),
        _timeline("comments_by_month", _("每月收到的意见数"), figures["comments_by_month"],
                  _("意见数")),
        _bars("comments_by_category", _("提出意见者身份"), _("身份"),
              [(label(k, "category"), v) for k, v in figures["comments_by_category"].items()]),
        _bars("comments_by_channel", _("意见来源渠道"), _("渠道"),
              [(label(k, "channel"), v) for k, v in figures["comments_by_channel"].items()]),
        _bars("comments_by_region", _("提出意见者所在地区"), _("地区"),
              [(_region(r["region"]), r["count"]) for r in figures["comments_by_region"]]),
        _bars("answers_by_disposition", _("已公布答复的采纳情况"), _("答复"),
              [(label(k, "disposition"), v)
               for k, v in figures["answers_by_disposition"].items()]),
        _adoption("adoption_by_unit", _("各单位的采纳率"), _("单位"),
                  [(r["unit"], r) for r in figures["adoption_by_unit"]]),
        _adoption("adoption_by_type", _("各类文件的采纳率"), _("文件类型"),
                  [(label(r["type"], "type"), r) for r in figures["adoption_by_type"]]),
        _bars("reports", _("采纳情况反馈是否按时"), _("情况"), [
            (_("按时反馈"), reports["on_time"]), (_("逾期后反馈"), reports["late"]),
            (_("逾期未反馈"), reports["overdue"]), (_("未到期限"), reports["pending"])]),
        Table("days_to_report", _("征集截止至反馈的天数"), [_("指标"), _("天数")], [
            [_("已反馈的意见征集"), days["count"]], [_("中位数"), days["median"]],
            [_("最短"), days["shortest"]], [_("最长"), days["longest"]]]),
        _bars("interpretations", _("政策解读是否同步发布"), _("情况"), [
            (_("按时解读"), interpretations["on_time"]),
            (_("逾期后解读"), interpretations["late"]),
            (_("逾期未解读"), interpretations["missing"]),
            (_("未到期限"), interpretations["pending"])]),
    ]


NAMES = ("consultations_by_month", "consultations_by_unit", "consultations_by_type",
         "comments_by_month", "comments_by_category", "comments_by_channel",
         "comments_by_region", "answers_by_disposition", "adoption_by_unit", "adoption_by_type",
         "reports", "days_to_report", "interpretations")


def to_csv(table: Table) -> bytes:
    """One table as CSV, UTF-8 with a BOM (Excel reads the Chinese), formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([safe_cell("" if value is None else value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
