"""Input checks for the JSON API: types, lengths and choices only (rules live in the services).

Query parameters that cannot be understood are a malformed request (400, `invalid_parameter`);
a JSON body that is well-formed but wrong is a validation failure (422, with `fields`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

from consult.comments import checks
from consult.comments.models import Category
from consult.comments.services import CommentInput
from consult.consultations.models import ConsultationType
from consult.consultations.states import LIST_FILTERS
from consult.errors import ConsultError
from consult.paging import MAX_ID, page_number, per_page

MAX_QUERY_LENGTH = 200
MAX_IDEMPOTENCY_KEY = 128
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
# NUL and lone surrogates cannot be stored (PostgreSQL text, UTF-8): refuse them as input.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadRequestError(ConsultError):
    """A request the API cannot read at all (400): bad query parameter, malformed JSON."""

    status = 400
    code = "bad_request"


def _bad_parameter(name: str, message: str) -> BadRequestError:
    return BadRequestError(message, code="invalid_parameter", fields={name: message})


# ---------------------------------------------------------------- query parameters


@dataclass(frozen=True)
class Page:
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class ListParams:
    """The consultation list's filters (SPEC §5), already checked."""

    status: str = "open"
    unit_id: int | None = None
    type: ConsultationType | None = None
    q: str | None = None
    page: Page = Page()


def _int_parameter(args, name: str, *, minimum: int) -> int | None:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", raw):
        raise _bad_parameter(name, _("参数 %(name)s 必须是整数。", name=name))
    value = int(raw)
    if value < minimum:
        raise _bad_parameter(
            name, _("参数 %(name)s 不能小于 %(minimum)d。", name=name, minimum=minimum)
        )
    if value > MAX_ID:
        raise _bad_parameter(
            name, _("参数 %(name)s 不能大于 %(maximum)d。", name=name, maximum=MAX_ID)
        )
    return value


def parse_page(args) -> Page:
    """`page` (1 to MAX_PAGE) and `per_page` (default PER_PAGE, 1 to 100); else 400."""
    return Page(page=page_number(args),
                per_page=per_page(current_app.config.get("PER_PAGE", 20), args))


def parse_list_params(args) -> ListParams:
    """The query string of GET /consultations, or BadRequestError (400)."""
    status = (args.get("status") or "open").strip()
    if status not in LIST_FILTERS:
        raise _bad_parameter(
            "status", _("参数 status 只能是：%(choices)s。", choices=", ".join(LIST_FILTERS))
        )
    type_ = (args.get("type") or "").strip() or None
    if type_ is not None and type_ not in ConsultationType._value2member_map_:
        choices = ", ".join(member.value for member in ConsultationType)
        raise _bad_parameter("type", _("参数 type 只能是：%(choices)s。", choices=choices))
    q = (args.get("q") or "").strip() or None
    if q is not None and len(q) > MAX_QUERY_LENGTH:
        raise _bad_parameter(
            "q", _("搜索词不能超过 %(limit)d 个字符。", limit=MAX_QUERY_LENGTH)
        )
    if q is not None and _UNSTORABLE.search(q):
        raise _bad_parameter("q", _("搜索词含有无效字符。"))
    return ListParams(
        status=status,
        unit_id=_int_parameter(args, "unit", minimum=1),
        type=ConsultationType(type_) if type_ else None,
        q=q,
        page=parse_page(args),
    )


# ---------------------------------------------------------------- request body and headers


def json_object() -> dict:
    """The request's JSON object body, or BadRequestError (400) when it is not one."""
    if not request.is_json:
        raise BadRequestError(
            _("请求体须为 JSON（Content-Type: application/json）。"), code="invalid_content_type"
        )
    try:
        payload = request.get_json()
    except BadRequest:
        raise BadRequestError(_("请求体不是有效的 JSON。"), code="malformed_json")
    if not isinstance(payload, dict):
        raise BadRequestError(_("请求体须为 JSON 对象。"), code="malformed_json")
    return payload


def idempotency_key() -> str | None:
    """The `Idempotency-Key` header: at most 128 printable ASCII characters, or absent."""
    value = request.headers.get("Idempotency-Key")
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if len(value) > MAX_IDEMPOTENCY_KEY or not _PRINTABLE_ASCII.fullmatch(value):
        raise BadRequestError(
            _("Idempotency-Key 须为不超过 %(limit)d 个可见 ASCII 字符。",
              limit=MAX_IDEMPOTENCY_KEY),
            code="invalid_idempotency_key",
        )
    return value


def _text(payload: dict, name: str, problems: checks.Problems) -> str | None:
    """A JSON string or null (anything else: invalid_type)."""
    value = payload.get(name)
    if value is None or isinstance(value, str):
        return value
    problems.add(name, "invalid_type", _("%(name)s 须为字符串。", name=name))
    return None


def _flag(payload: dict, name: str, default: bool, problems: checks.Problems) -> bool:
    """A JSON boolean; absent or null: `default`."""
    value = payload.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(name, "invalid_type", _("%(name)s 须为 true 或 false。", name=name))
        return default
    return value


_CATEGORIES = _l("category 只能是：%(choices)s。", choices=", ".join(c.value for c in Category))


def comment_input(payload: dict) -> CommentInput:
    """A posted comment's JSON types checked here, its fields by the rules every channel shares
    (`consult.comments.checks`): the service's CommentInput, or 422 naming every field at fault."""
    problems = checks.Problems()
    body = _text(payload, "body", problems)
    categories = _CATEGORIES  # translated only when it is shown
    category = payload.get("category")
    if category is not None and not isinstance(category, str):
        problems.add("category", "invalid_choice", categories)
        category = None
    article = payload.get("article")
    if article is not None and (isinstance(article, bool) or not isinstance(article, int)):
        problems.add("article", "invalid_type", _("article 须为条款序号（整数）或 null。"))
        article = None
    texts = {name: _text(payload, name, problems)
             for name in ("display_name", "region", "phone", "email")}
    return checks.comment_input(
        body=body, category=category, article=article, **texts,
        publish_name=_flag(payload, "publish_name", False, problems),
        notify=_flag(payload, "notify", True, problems),
        problems=problems, category_required=categories,
    )
