"""Numbers from the query string, bounded: page, per_page and id filters (SPEC §5).

A page out of range is a malformed request (400) on HTML pages and in the API alike, never a
500: `?page=999999999999999999` once made an OFFSET no database can hold. Integer filters that
name a row (`unit=`, `article=`) are bounded by the id columns (PostgreSQL `integer`).
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from consult.errors import ConsultError

MAX_PAGE = 100_000  # 100 000 pages of 100: ten million rows, more than any list holds
MAX_PER_PAGE = 100
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() also reads "１" and "1_0"


class BadParameter(ConsultError):
    """A query parameter that cannot be understood or is out of range (400)."""

    status = 400
    code = "invalid_parameter"


def bad_parameter(name: str, message: str) -> BadParameter:
    return BadParameter(message, fields={name: message})


def int_param(name: str, *, minimum: int = 0, maximum: int = MAX_ID, args=None) -> int | None:
    """The integer query parameter `name` (None when absent or empty), else 400."""
    raw = (args if args is not None else request.args).get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not _DIGITS.fullmatch(raw.lstrip("+")) or not minimum <= int(raw) <= maximum:
        raise bad_parameter(name, _("参数 %(name)s 须为 %(minimum)d 至 %(maximum)d 之间的整数。",
                                    name=name, minimum=minimum, maximum=maximum))
    return int(raw)


def page_number(args=None) -> int:
    """`page`: 1 (the default) to MAX_PAGE; a page past the end of a list is an empty page."""
    return int_param("page", minimum=1, maximum=MAX_PAGE, args=args) or 1


def per_page(default: int, args=None) -> int:
    """`per_page`: 1 to MAX_PER_PAGE, or `default`."""
    value = int_param("per_page", minimum=1, maximum=MAX_PER_PAGE, args=args)
    return default if value is None else value


def id_filter(value: str) -> int | None:
    """A free-form filter value that may name a row (`article=3`, `group=12`), or None."""
    return int(value) if value.isascii() and value.isdigit() and int(value) <= MAX_ID else None


class IdConverter(IntegerConverter):
    """`<int:...>` in every route, bounded by the id columns: a larger number is a 404 at once,
    not an integer the database refuses (a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
