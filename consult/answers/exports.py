"""The published report as downloads (F14): PDF, CSV and XLSX, built from its frozen content.

Each builder takes the report's frozen JSON (SPEC §5) and returns bytes; nothing here reads the
live comments, so a download always says what the published revision says. Labels are the
glossary's words in the request's language (an app context is needed for them and the PDF's
template).
"""

from __future__ import annotations

import csv
import io
import mimetypes
import re
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import current_app, render_template
from flask_babel import gettext as _

from consult.answers.models import UNSPECIFIED_REGION, DispositionCode
from consult.comments.models import Category, Channel, HiddenReason
from consult.labels import label

# Cells a spreadsheet would read as a formula (OWASP "CSV injection"); tab and carriage return
# start formulas in some programs too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value):
    """A cell value no spreadsheet will run: text starting like a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def article_labels(content: dict) -> dict[tuple, str]:
    """(version, article number) → how the draft numbers it (第三条), from `by_article`."""
    return {(row.get("version"), row.get("article")): row.get("label")
            for row in content.get("by_article", [])}


def article_name(labels: dict, version, article) -> str:
    if article is None:
        return _("整体意见")
    return labels.get((version, article)) or _("第 %(n)d 条", n=article)


def _region_name(region) -> str:
    return _("未填写") if region in (None, "", UNSPECIFIED_REGION) else region


ITEM_COLUMNS = (
    ("tracking_no", "意见编号"), ("kind", "类型"), ("count", "条数"), ("version", "版本"),
    ("article", "条款"), ("category", "提出意见者身份"), ("channel", "意见来源渠道"),
    ("region", "所在地区"), ("name", "署名"), ("visibility", "公开情况"),
    ("submitted_on", "提出日期"), ("text", "意见内容"), ("disposition", "采纳情况"),
    ("reason", "理由"),
)


def _headers() -> list[str]:
    # The msgids are listed literally so that pybabel extracts them.
    names = {
        "意见编号": _("意见编号"), "类型": _("类型"), "条数": _("条数"), "版本": _("版本"),
        "条款": _("条款"), "提出意见者身份": _("提出意见者身份"),
        "意见来源渠道": _("意见来源渠道"), "所在地区": _("所在地区"), "署名": _("署名"),
        "公开情况": _("公开情况"), "提出日期": _("提出日期"), "意见内容": _("意见内容"),
        "采纳情况": _("采纳情况"), "理由": _("理由"),
    }
    return [names[title] for _key, title in ITEM_COLUMNS]


def item_rows(content: dict):
    """One row per item (comment or group): the published words only, never contact data."""
    labels = article_labels(content)
    names: dict[tuple, str] = {}  # gettext per cell would dominate for 100 000 rows

    def named(value, kind: str) -> str:
        if not value:
            return ""
        if (value, kind) not in names:
            names[value, kind] = label(value, kind)
        return names[value, kind]

    articles: dict[tuple, str] = {}
    hidden_text, unspecified = _("（该意见不予公开）"), _("未填写")
    unverified_text = _("（该意见未经验证，不公开内容）")
    kinds = {"group": _("相同意见合并"), "comment": _("意见")}
    for item in content.get("items", []):
        key = (item.get("version"), item.get("article"))
        if key not in articles:
            articles[key] = article_name(labels, *key)
        region = item.get("region")
        yield [
            item.get("tracking_no") or "",
            kinds.get(item.get("kind"), kinds["comment"]),
            item.get("count", 1),
            item.get("version"),
            articles[key],
            named(item.get("category"), "category"),
            named(item.get("channel"), "channel"),
            unspecified if region in (None, "", UNSPECIFIED_REGION) else region,
            item.get("name") or "",
            named(item.get("visibility"), "comment_status"),
            item.get("submitted_on") or "",
            item["text"] if item.get("text") is not None
            else unverified_text if item.get("visibility") == "unverified" else hidden_text,
            named(item.get("disposition"), "disposition"),
            item.get("reason") or "",
        ]


def total_rows(content: dict) -> list[list]:
    """The totals of SPEC §5 as (section, name, count) rows."""
    totals = content.get("totals", {})
    rows = [
        [_("合计"), _("收到意见"), totals.get("received", 0)],
        [_("合计"), _("已答复"), totals.get("answered", 0)],
        [_("合计"), _("不予公开"), totals.get("hidden", 0)],
        [_("合计"), _("未验证"), totals.get("unverified", 0)],
    ]
    sections = (
        (_("采纳情况"), "by_disposition", "disposition", [d.value for d in DispositionCode]),
        (_("不予公开的原因"), "hidden_by_reason", "hidden_reason", [r.value for r in HiddenReason]),
        (_("提出意见者身份"), "by_category", "category", [c.value for c in Category]),
        (_("意见来源渠道"), "by_channel", "channel", [c.value for c in Channel]),
    )
    for title, key, kind, order in sections:
        counts = totals.get(key, {})
        for code in order + sorted(set(counts) - set(order)):
            rows.append([title, label(code, kind), counts.get(code, 0)])
    regions = totals.get("by_region", {})
    for region in sorted(regions, key=lambda r: (r == UNSPECIFIED_REGION, -regions[r], r)):
        rows.append([_("所在地区"), _region_name(region), regions[region]])
    return rows


def article_rows(content: dict) -> tuple[list[str], list[list]]:
    """The per-article table: article, received, then one column per disposition."""
    codes = [d.value for d in DispositionCode]
    header = [_("版本"), _("条款"), _("收到意见")] + [label(code, "disposition") for code in codes]
    rows = []
    for row in content.get("by_article", []):
        name = (row.get("label") or _("第 %(n)d 条", n=row["article"])) if row.get("article") \
            else _("整体意见")
        by = row.get("by_disposition", {})
        rows.append([row.get("version"), name, row.get("received", 0)]
                    + [by.get(code, 0) for code in codes])
    return header, rows


def report_csv(content: dict) -> bytes:
    """Comments with their answers, one row each; UTF-8 with a BOM so Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_headers())
    for row in item_rows(content):
        writer.writerow([safe_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(content: dict) -> bytes:
    """A workbook: every item with its answer, the totals, and the per-article table. Written
    in openpyxl's streaming mode: 100 000 rows in flat memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def add_sheet(title, header, rows, widths, wrapped=()):
        sheet = book.create_sheet(title)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header_cells = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            values = [safe_cell(value) for value in row]
            for index in wrapped:
                cell = WriteOnlyCell(sheet, value=values[index])
                cell.alignment = wrap
                values[index] = cell
            sheet.append(values)

    add_sheet(_("意见及答复"), _headers(), item_rows(content),
              [16, 12, 6, 6, 12, 14, 12, 10, 10, 10, 12, 60, 14, 40], wrapped=(11, 13))
    meta = [
        [_("报告"), _("《%(title)s》意见采纳情况", title=content.get("title", "")), ""],
        [_("版本"), content.get("revision"), ""],
        [_("发布时间"), content.get("published_at"), ""],
        [_("数字摘要（SHA-256）"), content.get("digest", ""), ""],
    ]
    add_sheet(_("统计"), [_("项目"), _("分类"), _("条数")], meta + total_rows(content),
              [20, 30, 10])
    header, rows = article_rows(content)
    add_sheet(_("按条款"), header, rows, [6, 16] + [10] * (len(header) - 2))
    book.properties.title = safe_cell(content.get("title", ""))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def print_groups(content: dict) -> list[dict]:
    """Items under their article rows, in the order of `by_article` (for the print layout)."""
    labels = article_labels(content)
    groups: dict[tuple, dict] = {}
    for row in content.get("by_article", []):
        key = (row.get("version"), row.get("article"))
        groups[key] = {**row, "name": article_name(labels, *key), "items": []}
    for item in content.get("items", []):
        key = (item.get("version"), item.get("article"))
        if key not in groups:
            groups[key] = {"version": key[0], "article": key[1], "received": 0,
                           "by_disposition": {}, "name": article_name(labels, *key), "items": []}
        groups[key]["items"].append(item)
    return list(groups.values())


# WeasyPrint lays out a few pages a second: a PDF lists every item up to this many items (about
# 150 pages); a larger report's PDF gives the figures and points to the CSV/XLSX/web list.
PDF_MAX_ITEMS = 1000


def report_html(content: dict, *, unit_name: str = "", correction_note: str | None = None,
                links: dict | None = None) -> str:
    """The print layout of the report (templates/answers/report_print.html)."""
    limit = current_app.config.get("REPORT_PDF_MAX_ITEMS", PDF_MAX_ITEMS)
    items = len(content.get("items", []))
    return render_template(
        "answers/report_print.html", content=content, totals=content.get("totals", {}),
        totals_rows=total_rows(content),
        groups=print_groups(content) if items <= limit else [],
        omitted=items if items > limit else 0, links=links or {},
        article_table=article_rows(content), unit_name=unit_name,
        correction_note=correction_note,
    )


def report_pdf(content: dict, *, unit_name: str = "", correction_note: str | None = None,
               links: dict | None = None) -> bytes:
    """The report as PDF, laid out by WeasyPrint with Noto Sans CJK embedded (subset)."""
    html = report_html(content, unit_name=unit_name, correction_note=correction_note,
                       links=links)
    return html_to_pdf(html, stylesheet="css/report-print.css")


def html_to_pdf(html: str, *, stylesheet: str | None = None) -> bytes:
    """Lay `html` out as PDF. WeasyPrint fetches nothing but the app's static files, from disk
    (static_only_fetcher): text in the report cannot make the server open a URL or a file."""
    import logging

    from weasyprint import CSS, HTML

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # a line per page
    fetcher = static_only_fetcher(current_app.static_folder)
    sheets = [CSS(filename=str(_static_path(stylesheet)), url_fetcher=fetcher)] \
        if stylesheet else []
    document = HTML(string=html, base_url=_static_path("").resolve().as_uri() + "/",
                    url_fetcher=fetcher)
    return document.write_pdf(stylesheets=sheets)


def static_only_fetcher(static_folder: str):
    """A WeasyPrint URL fetcher that denies every URL but a file under `static_folder`."""
    return _fetcher_class()(static_folder)


@cache
def _fetcher_class():
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Deny-all: no HTTP, no data:, no file outside the static folder (finding 6)."""

        def __init__(self, static_folder: str) -> None:
            super().__init__()
            self.root = Path(static_folder).resolve()

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(url2pathname(parts.path)).resolve()
                if path.is_relative_to(self.root) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                              {"Content-Type": kind})
            raise ValueError(f"the PDF may not fetch {url[:100]!r}")

    return StaticOnlyFetcher


def _static_path(name: str) -> Path:
    return Path(current_app.static_folder) / name


_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|]+')


def content_disposition(content: dict, extension: str) -> str:
    """`attachment` with an ASCII fallback name and the Chinese name as RFC 5987 `filename*`."""
    consultation_id = content.get("consultation_id")
    revision = content.get("revision", 1)
    fallback = f"consultation-{consultation_id}-report-r{revision}.{extension}"
    title = _UNSAFE_IN_NAME.sub("", content.get("title") or "").strip()[:80]
    name = f"{title}-{_('意见采纳情况')}" if title else _("意见采纳情况")
    if revision and revision > 1:
        name += _("（第%(n)d版）", n=revision)
    utf8 = quote(f"{name}.{extension}", safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{utf8}"
