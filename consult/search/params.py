"""The search's query string (`/search` and `/api/v1/search` alike): checked, or 400."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from consult.consultations.models import ConsultationType
from consult.paging import bad_parameter, int_param, page_number, per_page
from consult.search.engine import MAX_QUERY_LENGTH, STATUSES, SearchParams
from consult.search.models import Kind

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MIN_YEAR, MAX_YEAR = 1949, 2200


def _choice(args, name: str, choices) -> str | None:
    value = (args.get(name) or "").strip() or None
    if value is not None and value not in choices:
        raise bad_parameter(name, _("参数 %(name)s 只能是：%(choices)s。",
                                    name=name, choices=", ".join(choices)))
    return value


def parse(args, *, default_per_page: int = 20, truncate: bool = False) -> SearchParams:
    """`q`, `kind`, `unit`, `type`, `status`, `year`, `page`, `per_page` (SPEC §5).

    `q` longer than MAX_QUERY_LENGTH is cut (`truncate`, the HTML page) or refused (the API)."""
    q = " ".join((args.get("q") or "").split())
    if len(q) > MAX_QUERY_LENGTH:
        if not truncate:
            raise bad_parameter("q", _("搜索词不能超过 %(limit)d 个字符。",
                                       limit=MAX_QUERY_LENGTH))
        q = q[:MAX_QUERY_LENGTH]
    if _UNSTORABLE.search(q):
        raise bad_parameter("q", _("搜索词含有无效字符。"))
    kind = _choice(args, "kind", [k.value for k in Kind])
    return SearchParams(
        q=q,
        kind=Kind(kind) if kind else None,
        unit_id=int_param("unit", minimum=1, args=args),
        type=_choice(args, "type", [t.value for t in ConsultationType]),
        status=_choice(args, "status", STATUSES),
        year=int_param("year", minimum=MIN_YEAR, maximum=MAX_YEAR, args=args),
        page=page_number(args),
        per_page=per_page(default_per_page, args),
    )
