"""Input checks for the JSON API: types, lengths and choices only (rules live in the services).

Query parameters that cannot be understood are a malformed request (400, `invalid_parameter`);
a JSON body that is well-formed but wrong is a validation failure (422, with `fields`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from consult.comments.models import Category
from consult.comments.services import CommentInput
from consult.consultations.models import ConsultationType
from consult.consultations.states import LIST_FILTERS
from consult.errors import ConsultError, ValidationFailed
from consult.paging import MAX_ID, page_number, per_page

MAX_QUERY_LENGTH = 200
MAX_IDEMPOTENCY_KEY = 128
# Field length limits: the columns' sizes (Comment.display_name, region, phone, email).
FIELD_LIMITS = {"display_name": 100, "region": 100, "phone": 40, "email": 254}
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


class _Errors:
    """Collects one message (and one code) per field, then raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.codes: list[str] = []

    def add(self, field: str, code: str, message: str) -> None:
        if field not in self.fields:
            self.fields[field] = message
            self.codes.append(code)

    def raise_any(self) -> None:
        if not self.fields:
            return
        code = self.codes[0] if len(set(self.codes)) == 1 else "validation_failed"
        message = next(iter(self.fields.values())) if len(self.fields) == 1 else _(
            "提交的内容有误，请检查后重试。"
        )
        raise ValidationFailed(message, code=code, fields=dict(self.fields))


def _optional_text(payload: dict, name: str, errors: _Errors) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(name, "invalid_type", _("%(name)s 须为字符串。", name=name))
        return None
    if _UNSTORABLE.search(value):
        errors.add(name, "invalid_characters", _("%(name)s 含有无法保存的字符。", name=name))
        return None
    value = value.strip()
    limit = FIELD_LIMITS[name]
    if len(value) > limit:
        errors.add(name, "too_long", _("%(name)s 不能超过 %(limit)d 个字符。",
                                       name=name, limit=limit))
        return None
    return value or None


def comment_input(payload: dict) -> CommentInput:
    """Check a posted comment (SPEC §5) and turn it into the service's CommentInput (or 422)."""
    errors = _Errors()

    body = payload.get("body")
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if body is None or (isinstance(body, str) and not body.strip()):
        errors.add("body", "required", _("请填写意见内容。"))
    elif not isinstance(body, str):
        errors.add("body", "invalid_type", _("body 须为字符串。"))
    elif _UNSTORABLE.search(body):
        errors.add("body", "invalid_characters", _("意见内容含有无法保存的字符。"))
    elif len(body.strip()) > limit:
        errors.add("body", "too_long", _("意见内容不能超过 %(limit)d 字。", limit=limit))

    category = payload.get("category")
    choices = [member.value for member in Category]
    if category is None:
        errors.add("category", "required", _("请选择提出意见者的类别。"))
    elif not isinstance(category, str) or category not in choices:
        errors.add("category", "invalid_choice",
                   _("category 只能是：%(choices)s。", choices=", ".join(choices)))

    article = payload.get("article")
    if article is not None and (isinstance(article, bool) or not isinstance(article, int)):
        errors.add("article", "invalid_type", _("article 须为条款序号（整数）或 null。"))
        article = None

    publish_name = payload.get("publish_name", False)
    if publish_name is None:
        publish_name = False
    if not isinstance(publish_name, bool):
        errors.add("publish_name", "invalid_type", _("publish_name 须为 true 或 false。"))
        publish_name = False

    notify = payload.get("notify", True)
    if notify is None:
        notify = True
    if not isinstance(notify, bool):
        errors.add("notify", "invalid_type", _("notify 须为 true 或 false。"))
        notify = True

    display_name = _optional_text(payload, "display_name", errors)
    region = _optional_text(payload, "region", errors)
    phone = _optional_text(payload, "phone", errors)
    email = _optional_text(payload, "email", errors)
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add("email", "invalid_email", _("电子邮箱地址格式不正确。"))

    errors.raise_any()
    return CommentInput(
        body=body,
        category=Category(category),
        article_number=article,
        display_name=display_name,
        publish_name=publish_name,
        email=email,
        phone=phone,
        region=region,
        notify=notify,
    )
