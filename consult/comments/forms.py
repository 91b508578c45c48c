"""Forms of the comments domain: a citizen's comment and the receipt lookup."""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from consult.comments.models import Category
from consult.labels import CATEGORY_LABELS

WHOLE_DRAFT = ""
ARTICLE_LABEL_TEXT = 24  # characters of an article's text shown when it has no heading


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _newlines(value):
    """One character per line break, as browsers count them for maxlength."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def article_choices(articles) -> list[tuple[str, str]]:
    """The whole draft first, then every article as "第三条 heading" (or its first words)."""
    choices = [(WHOLE_DRAFT, str(_l("整体意见（不针对具体条款）")))]
    for article in articles:
        tail = article.heading or _shorten(article.text)
        choices.append((str(article.number), f"{article.label} {tail}".strip()))
    return choices


def _shorten(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= ARTICLE_LABEL_TEXT else text[:ARTICLE_LABEL_TEXT] + "…"


class _BodyLength:
    """At most COMMENT_MAX_LENGTH characters (configurable), after trimming."""

    def __call__(self, form, field):
        limit = current_app.config["COMMENT_MAX_LENGTH"]
        if field.data and len(field.data) > limit:
            message = _("意见内容不能超过 %(limit)d 字（现为 %(n)d 字）。",
                        limit=limit, n=len(field.data))
            raise ValidationError(message)


# The submitter's fields, validated alike on the citizen's form and the staff's register.
REGION_VALIDATORS = [Optional(), Length(max=100, message=_l("所在地区不能超过 100 字。"))]
NAME_VALIDATORS = [Optional(), Length(max=100, message=_l("署名不能超过 100 字。"))]
EMAIL_VALIDATORS = [
    Optional(),
    Length(max=254, message=_l("电子邮箱不能超过 254 个字符。")),
    Email(message=_l("请填写有效的电子邮箱地址。"), check_deliverability=False),
]
PHONE_VALIDATORS = [
    Optional(),
    Length(max=40, message=_l("联系电话不能超过 40 个字符。")),
    Regexp(r"^[0-9+\-()（） ]+$", message=_l("联系电话只能包含数字、空格和 + - ( )。")),
]


class CommentForm(FlaskForm):
    """A comment on a whole draft or one article (F6). Contact data stays private."""

    article = SelectField(
        _l("针对的条款"), validate_choice=False,
        description=_l("可以对征求意见稿整体提出意见，也可以选择具体条款。"),
    )
    body = TextAreaField(
        _l("意见内容"),
        filters=[_newlines, _strip],
        validators=[DataRequired(message=_l("请填写意见内容。")), _BodyLength()],
        render_kw={"rows": 10},
    )
    category = RadioField(
        _l("您的身份"),
        choices=[(c.value, CATEGORY_LABELS[c]) for c in Category],
        default=Category.INDIVIDUAL.value, validate_choice=False,
        validators=[InputRequired(message=_l("请选择您的身份。"))],
    )
    region = StringField(
        _l("所在地区"), filters=[_strip],
        validators=REGION_VALIDATORS,
        description=_l("例如：某某区、某某街道。用于统计意见来源。"),
        render_kw={"maxlength": 100, "autocomplete": "address-level2"},
    )
    display_name = StringField(
        _l("署名"), filters=[_strip],
        validators=NAME_VALIDATORS,
        description=_l("姓名或单位名称。只有勾选下面的“同意公开我的署名”时才会公开。"),
        render_kw={"maxlength": 100, "autocomplete": "name"},
    )
    publish_name = BooleanField(
        _l("同意公开我的署名"),
        description=_l("不勾选时，您的意见将以匿名方式公开。"),
    )
    email = EmailField(
        _l("电子邮箱"), filters=[_strip],
        validators=EMAIL_VALIDATORS,
        description=_l("不公开，仅用于发送回执和采纳情况通知。"),
        render_kw={"maxlength": 254, "autocomplete": "email", "inputmode": "email"},
    )
    phone = TelField(
        _l("联系电话"), filters=[_strip],
        validators=PHONE_VALIDATORS,
        description=_l("不公开，仅供起草单位必要时与您联系。"),
        render_kw={"maxlength": 40, "autocomplete": "tel", "inputmode": "tel"},
    )
    notify = BooleanField(
        _l("采纳情况公布时发邮件通知我"), default=True,
        description=_l("需要填写电子邮箱。"),
    )
    # One optional PDF/DOCX, checked by content in the service (uploads.py); private by default.
    attachment = FileField(
        _l("附件"),
        description=_l("可上传一个 PDF 或 Word（.docx）文件，例如详细的书面意见。附件不公开，"
                       "仅供起草单位研究意见使用。"),
        render_kw={"accept": ".pdf,.docx,application/pdf,application/vnd.openxmlformats-"
                             "officedocument.wordprocessingml.document"},
    )
    # A retried submission of the same form makes one comment (F11).
    nonce = HiddenField()
    # A honeypot (F11): hidden from people (CSS, aria-hidden, no tab stop, no autofill), so
    # only a bot fills it in. Its name is one no browser autofills.
    remark = StringField(
        _l("此项请留空"), filters=[_strip],
        render_kw={"tabindex": "-1", "autocomplete": "off", "maxlength": 200},
    )

    def __init__(self, *args, articles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.article.choices = article_choices(articles)
        limit = current_app.config["COMMENT_MAX_LENGTH"]
        self.body.description = _(
            "请写明您的意见、建议和理由，不超过 %(limit)d 字。请勿填写身份证号、电话等个人信息。",
            limit=limit,
        )
        self.body.render_kw = {**(self.body.render_kw or {}), "maxlength": limit}
        if not self.nonce.data:
            self.nonce.data = secrets.token_urlsafe(16)

    def validate_article(self, field):
        known = {value for value, _label in self.article.choices}
        if (field.data or WHOLE_DRAFT) not in known:
            raise ValidationError(_("所选条款不存在。"))

    def validate_category(self, field):
        if field.data not in {c.value for c in Category}:
            raise ValidationError(_("请选择您的身份。"))

    @property
    def article_number(self) -> int | None:
        return int(self.article.data) if self.article.data else None

    @property
    def filled_by_a_bot(self) -> bool:
        """The honeypot has something in it."""
        return bool(self.remark.data)

    @property
    def idempotency_key(self) -> str | None:
        """The form's nonce plus the text: a retry is one comment, a different text another."""
        nonce = (self.nonce.data or "")[:40]
        if not nonce:
            return None
        digest = hashlib.sha256(self.body.data.encode("utf-8")).hexdigest()[:32]
        return f"form:{nonce}:{digest}"


class LookupForm(FlaskForm):
    """Find a receipt by its tracking number (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    tracking_no = StringField(
        _l("意见编号"), filters=[_strip],
        validators=[InputRequired(message=_l("请输入意见编号。")),
                    Length(max=40, message=_l("意见编号格式不正确。"))],
        description=_l("提交意见后获得的回执编号，例如 ZX26-7K3M-9QXD，不区分大小写。"),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
