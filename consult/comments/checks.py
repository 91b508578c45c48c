"""What a comment's fields may hold (SPEC §5), checked alike for every channel: the citizen's
form and the staff's register (consult/comments/forms.py), and the API (consult/api/schemas.py).

Each channel turns what it was sent into Python values — the form its strings, the API its JSON
types, refusing wrong types itself — and hands them to `comment_input`, which applies the rules
(required text, lengths, characters a database cannot store, the identity chosen, the e-mail
address's syntax, the telephone's characters) and words the refusals, once. A refusal names
every field at fault at once (`Problems`: ValidationFailed with `fields`; its code is the
fields' one code, or "validation_failed").

What depends on the draft (which article) or the consultation (window, verification) is the
services' (`consult.comments.services`).
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult.comments.models import Category
from consult.comments.services import CommentInput
from consult.errors import ValidationFailed

# The longest a contact or identity field may be (characters, after trimming).
LIMITS = {"display_name": 100, "region": 100, "phone": 40, "email": 254}
_TOO_LONG = {
    "display_name": _l("署名不能超过 100 字。"),
    "region": _l("所在地区不能超过 100 字。"),
    "phone": _l("联系电话不能超过 40 个字符。"),
    "email": _l("电子邮箱不能超过 254 个字符。"),
}
# NUL and lone surrogates: neither database stores them (PostgreSQL refuses, SQLite mangles).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
PHONE = re.compile(r"^[0-9+\-()（） ]+$")
CATEGORIES = frozenset(c.value for c in Category)
# The citizen's own wording; the staff's register words it for the person it records.
CATEGORY_REQUIRED = _l("请选择您的身份。")


class Problems:
    """One message (and one code) per field, raised together (`raise_any`)."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.codes: list[str] = []

    def add(self, field: str, code: str, message) -> None:
        if field not in self.fields:
            self.fields[field] = str(message)
            self.codes.append(code)

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def raise_any(self) -> None:
        if not self.fields:
            return
        code = self.codes[0] if len(set(self.codes)) == 1 else "validation_failed"
        message = next(iter(self.fields.values())) if len(self.fields) == 1 else _(
            "提交的内容有误，请检查后重试。"
        )
        raise ValidationFailed(message, code=code, fields=dict(self.fields))


def optional_text(name: str, value: str | None, problems: Problems) -> str | None:
    """A contact or identity field: trimmed, None when empty, refused when too long."""
    if value is None:
        return None
    if UNSTORABLE.search(value):
        problems.add(name, "invalid_characters", _("%(name)s 含有无法保存的字符。", name=name))
        return None
    value = value.strip()
    if len(value) > LIMITS[name]:
        problems.add(name, "too_long", _TOO_LONG[name])
        return None
    return value or None


def comment_input(*, body: str | None, category: str | None, article: int | None = None,
                  display_name: str | None = None, region: str | None = None,
                  email: str | None = None, phone: str | None = None,
                  publish_name: bool = False, notify: bool = True,
                  problems: Problems | None = None,
                  category_required=CATEGORY_REQUIRED) -> CommentInput:
    """The checked comment (the e-mail address normalised), or ValidationFailed naming every
    field at fault — with those the channel found already in `problems`."""
    problems = problems if problems is not None else Problems()
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if "body" not in problems:
        if body is None or not body.strip():
            problems.add("body", "required", _("请填写意见内容。"))
        elif UNSTORABLE.search(body):
            problems.add("body", "invalid_characters", _("意见内容含有无法保存的字符。"))
        elif len(body.strip()) > limit:
            problems.add("body", "too_long", _("意见内容不能超过 %(limit)d 字（现为 %(n)d 字）。",
                                               limit=limit, n=len(body.strip())))
    if "category" not in problems:
        if not category:
            problems.add("category", "required", category_required)
        elif category not in CATEGORIES:
            problems.add("category", "invalid_choice", category_required)
    display_name = optional_text("display_name", display_name, problems)
    region = optional_text("region", region, problems)
    phone = optional_text("phone", phone, problems)
    if phone is not None and not PHONE.match(phone):
        problems.add("phone", "invalid_phone", _("联系电话只能包含数字、空格和 + - ( )。"))
    email = optional_text("email", email, problems)
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            problems.add("email", "invalid_email", _("请填写有效的电子邮箱地址。"))
    problems.raise_any()
    return CommentInput(
        body=body, category=Category(category), article_number=article,
        display_name=display_name, publish_name=publish_name, email=email, phone=phone,
        region=region, notify=notify,
    )
