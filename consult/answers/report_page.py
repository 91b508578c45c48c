"""What the public report page shows of a frozen report: charts, and the list of comments
searched, filtered, paginated and grouped by article (F14).

A published revision never changes, so what is derived from it (the items in article order,
where each article's items lie, the timeline, the search text) is kept per process for the
reports read last: a report of 100 000 comments is tens of MB of JSON, too much to parse on
every page view (bench/report_bench.py). The key is the revision's id and digest; nothing in the
cache depends on the reader's language (names and charts are made per request: a few dozen
rows).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination

from consult import paging
from consult.answers import charts
from consult.answers.models import DispositionCode, Report
from consult.comments.models import Category
from consult.labels import label

PER_PAGE = 50
QUERY_MAX = 100
CACHE_MAX_ITEMS = 200_000  # items of the reports kept parsed per process (at least one report)

_cache: OrderedDict[tuple, Prepared] = OrderedDict()
_lock = threading.Lock()


@dataclass
class Prepared:
    content: dict
    ordered: list[dict]  # items in the order of the per-article table
    groups: dict[tuple, dict]  # (version, article) → its row of `by_article`
    timeline: list[tuple[str, int]]  # (local day, comments), every day from first to last
    spans: dict  # article number → [start, end) ranges of its items in `ordered`, per version
    haystacks: list[str] | None = None  # casefolded text + reason, built on the first search

    def search_text(self) -> list[str]:
        if self.haystacks is None:
            self.haystacks = [
                f"{item.get('text') or ''}\n{item.get('reason') or ''}".casefold()
                for item in self.ordered
            ]
        return self.haystacks

    @property
    def multiple_versions(self) -> bool:
        return len({version for version, _article in self.groups}) > 1


_TEMPLATES = ("answers/report.html", "answers/_charts.html", "_macros.html", "base.html")
_templates_digest: str | None = None


def page_etag(report: Report, trace: dict) -> str:
    """An ETag for an anonymous reader's report page, known before rendering: everything the
    page shows comes from the frozen revision, the query, the language, the trace links and
    the templates."""
    global _templates_digest
    if _templates_digest is None:
        env = current_app.jinja_env
        sources = [env.loader.get_source(env, name)[0] for name in _TEMPLATES]
        _templates_digest = hashlib.sha256("\0".join(sources).encode()).hexdigest()
    consultation, policy = trace.get("consultation"), trace.get("policy")
    parts = (
        report.id, report.digest, str(get_locale()), request.query_string, _templates_digest,
        consultation and (consultation.title, consultation.unit.name, consultation.status),
        policy and (policy.id, policy.title, policy.published_at),
        [(i.id, i.title, i.published_at) for i in trace.get("interpretations", [])],
        sorted((trace.get("flags") or {}).items()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:40]


def article_name(row: dict) -> str:
    if row.get("article") is None:
        return _("整体意见")
    return row.get("label") or _("第 %(n)d 条", n=row["article"])


def prepared(report: Report) -> Prepared:
    """The derived view of `report`, from the per-process cache or built now."""
    key = (report.id, report.digest)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = _prepare(report.content or {})
    with _lock:
        _cache[key] = value
        while len(_cache) > 1 and sum(len(v.ordered) for v in _cache.values()) > CACHE_MAX_ITEMS:
            _cache.popitem(last=False)
    return value


def _prepare(content: dict) -> Prepared:
    groups: dict[tuple, dict] = {}
    for row in content.get("by_article", []):
        groups[row["version"], row["article"]] = row
    items = content.get("items", [])
    for item in items:  # an item outside by_article would be a broken report; show it anyway
        key = (item.get("version"), item.get("article"))
        if key not in groups:
            groups[key] = {"version": key[0], "article": key[1], "label": None, "received": 0,
                           "by_disposition": {}}
    position = {key: index for index, key in enumerate(groups)}
    ordered = sorted(items, key=lambda item: position[item.get("version"), item.get("article")])
    spans: dict = {}
    for index, item in enumerate(ordered):
        version, article = item.get("version"), item.get("article")
        ranges = spans.setdefault(article, {})
        start, _end = ranges.get(version, (index, index))
        ranges[version] = (start, index + 1)
    timeline = charts.daily_counts(
        pair for item in items
        for pair in ((item.get("by_submitted_on") or {}).items()  # a group: per member
                     or [(item.get("submitted_on"), item.get("count", 1))])
    )
    return Prepared(content=content, ordered=ordered, groups=groups, timeline=timeline,
                    spans={article: list(ranges.values()) for article, ranges in spans.items()})


def group_name(view: Prepared, key: tuple) -> str:
    """How the page names an article's group of items (with its version when there are two)."""
    name = article_name(view.groups[key])
    return _("%(name)s（第 %(n)d 稿）", name=name, n=key[0]) if view.multiple_versions else name


def page_charts(view: Prepared) -> dict[str, charts.Chart]:
    """The charts of the report, labelled in the reader's language."""
    totals = view.content.get("totals", {})
    by_disposition = totals.get("by_disposition", {})
    by_category = totals.get("by_category", {})
    built = {
        "by_article": charts.bar_chart("chart-by-article", [
            (group_name(view, (row["version"], row["article"])), row.get("received", 0))
            for row in view.content.get("by_article", [])
        ]),
        "by_category": charts.bar_chart("chart-by-category", [
            (label(code.value, "category"), by_category.get(code.value, 0)) for code in Category
        ]),
        "by_disposition": charts.bar_chart("chart-by-disposition", [
            (label(code.value, "disposition"), by_disposition.get(code.value, 0))
            for code in DispositionCode
        ]),
    }
    if view.timeline:
        built["timeline"] = charts.timeline_chart("chart-timeline", view.timeline)
    return built


@dataclass
class Filters:
    q: str = ""
    article: int | None = None  # 0: comments on the whole draft
    disposition: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read `?q=&article=&disposition=`; what cannot be understood is ignored."""
        q = " ".join((args.get("q") or "").split())[:QUERY_MAX]
        article = args.get("article", "")
        article = int(article) if article.isdigit() and len(article) < 6 else None
        disposition = args.get("disposition", "")
        if disposition not in {code.value for code in DispositionCode}:
            disposition = ""
        return cls(q=q, article=article, disposition=disposition)

    @property
    def active(self) -> bool:
        return bool(self.q or self.article is not None or self.disposition)

    def as_args(self) -> dict:
        args = {}
        if self.q:
            args["q"] = self.q
        if self.article is not None:
            args["article"] = self.article
        if self.disposition:
            args["disposition"] = self.disposition
        return args


def matching(view: Prepared, filters: Filters) -> list[dict]:
    """The items that pass the filters, in article order."""
    items = view.ordered
    if not filters.active:
        return items
    if filters.article is None:
        indexes = range(len(items))
    else:  # an article's items lie together: look at those only
        spans = view.spans.get(filters.article or None, [])
        indexes = [index for start, end in spans for index in range(start, end)]
    words = filters.q.casefold().split()
    haystacks = view.search_text() if words else None
    chosen = []
    for index in indexes:
        item = items[index]
        if filters.disposition and item.get("disposition") != filters.disposition:
            continue
        if words and not all(word in haystacks[index] for word in words):
            continue
        chosen.append(item)
    return chosen


class ListPagination(Pagination):
    """Flask-SQLAlchemy's pagination (for the shared macro) over a list in memory."""

    def __init__(self, items: list, page: int, per_page: int = PER_PAGE):
        self._all = items
        super().__init__(page=page, per_page=per_page, max_per_page=per_page, error_out=False)

    def _query_items(self) -> list:
        return self._all[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._all)


def page_number(args) -> int:
    """`?page=`: 1 to MAX_PAGE, else 400 like every list (SPEC §5)."""
    return paging.page_number(args)


def article_choices(view: Prepared) -> list[tuple[int, str]]:
    """(value of `?article=`, name) for each article commented on; 0 is the whole draft."""
    seen: dict[int, str] = {}
    for key in view.groups:
        if (key[1] or 0) not in seen:
            seen[key[1] or 0] = article_name(view.groups[key])
    return list(seen.items())


def grouped(view: Prepared, items: list[dict]) -> list[dict]:
    """The items of one page under their article, keeping the article order."""
    result: list[dict] = []
    for item in items:
        key = (item.get("version"), item.get("article"))
        if not result or result[-1]["key"] != key:
            result.append({**view.groups[key], "key": key, "name": group_name(view, key),
                           "items": []})
        result[-1]["items"].append(item)
    return result
