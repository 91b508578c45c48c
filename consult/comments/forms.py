"""Forms of the comments domain: a citizen's comment, the staff's register of comments from other
channels, moderation, and the receipt lookup. Types, lengths and choices only; the rules are the
services'.

The submitter's fields (article, text, identity, region, name, contact data, notification) are
declared once, in `SubmitterForm`, for the citizen's form (`CommentForm`) and the staff's register
(`RecordForm`), and checked by the rules every channel shares, the API's too
(`consult.comments.checks`); each form only words them for its reader. A citizen's POST is
checked without building the form at all (`CommentForm.posted`): the form is built to be shown.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from consult.comments import checks
from consult.comments.models import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    HIDDEN_REASON_LABELS,
    Category,
    Channel,
)
from consult.comments.moderation import NOTE_MAX
from consult.comments.services import CommentInput
from consult.errors import ValidationFailed
from consult.web import attach_errors, one_newline, strip

WHOLE_DRAFT = ""
ARTICLE_LABEL_TEXT = 24  # characters of an article's text shown when it has no heading
RECORDED_CHANNELS = [c for c in Channel if c != Channel.WEB]
NO_HEARING = ""


def article_choices(articles) -> list[tuple[str, str]]:
    """The whole draft first, then every article as "第三条 heading" (or its first words)."""
    choices = [(WHOLE_DRAFT, _l("整体意见（不针对具体条款）"))]  # translated when shown
    for article in articles:
        tail = article.heading or _shorten(article.text)
        choices.append((str(article.number), f"{article.label} {tail}".strip()))
    return choices


def _shorten(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= ARTICLE_LABEL_TEXT else text[:ARTICLE_LABEL_TEXT] + "…"


# What the submitter's text fields hold once WTForms' filters ran on them: `posted` reads a POST
# the same way without the form.
_TEXT_FILTERS = {"body": (one_newline, strip), "region": (strip,), "display_name": (strip,),
                 "email": (strip,), "phone": (strip,)}
_FALSE = ("false", "")  # what a BooleanField reads as unchecked (WTForms' false_values)


def _key(prefix: str, nonce: str | None, body: str | None) -> str | None:
    """A form's nonce plus its text: a retry (or a double click) is one comment, a different
    text another."""
    nonce = (nonce or "")[:40]
    if not nonce:
        return None
    digest = hashlib.sha256((body or "").encode("utf-8")).hexdigest()[:32]
    return f"{prefix}:{nonce}:{digest}"


class SubmitterForm(FlaskForm):
    """The comment and its submitter's fields, with the checks both channels share.

    Subclasses set `DESCRIPTIONS` (field → hint), `CATEGORY_REQUIRED` (the message when no
    identity is chosen) and `KEY_PREFIX` (idempotency keys of one form never match another's).
    """

    DESCRIPTIONS: dict = {}
    CATEGORY_REQUIRED = checks.CATEGORY_REQUIRED
    KEY_PREFIX = "form"

    article = SelectField(_l("针对的条款"), validate_choice=False)
    # Their rules, and the messages of those, are `consult.comments.checks`'.
    body = TextAreaField(_l("意见内容"), filters=_TEXT_FILTERS["body"], render_kw={"rows": 10})
    region = StringField(_l("所在地区"), filters=_TEXT_FILTERS["region"],
                         render_kw={"maxlength": checks.LIMITS["region"]})
    display_name = StringField(_l("署名"), filters=_TEXT_FILTERS["display_name"],
                               render_kw={"maxlength": checks.LIMITS["display_name"]})
    email = EmailField(
        _l("电子邮箱"), filters=_TEXT_FILTERS["email"],
        # the blank placeholder lets the stylesheet offer "notify me" only once an address is
        # typed (`:placeholder-shown`, no JavaScript)
        render_kw={"maxlength": checks.LIMITS["email"], "placeholder": " ",
                   "autocomplete": "email"},
    )
    phone = TelField(_l("联系电话"), filters=_TEXT_FILTERS["phone"],
                     render_kw={"maxlength": checks.LIMITS["phone"]})
    # A retried submission of the same form makes one comment (F11).
    nonce = HiddenField("")  # no label: never shown, and none to translate

    def __init__(self, *args, articles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.article.choices = article_choices(articles)
        for name, text in self.DESCRIPTIONS.items():
            self[name].description = text
        if not self.nonce.data:
            self.nonce.data = secrets.token_urlsafe(16)

    def validate_article(self, field):
        if (field.data or WHOLE_DRAFT) not in {value for value, _label in self.article.choices}:
            raise ValidationError(_("所选条款不存在。"))

    def validate(self, extra_validators=None) -> bool:
        """The form's own fields (WTForms), then the submitter's by the rules every channel
        shares (`consult.comments.checks`), their messages beside the fields."""
        valid = super().validate(extra_validators)
        try:
            self._checked = checks.comment_input(
                body=self.body.data, category=self.category.data,
                article=None if self.article.errors else self.article_number,
                display_name=self.display_name.data, region=self.region.data,
                email=self.email.data, phone=self.phone.data,
                publish_name=self.publish_name.data, notify=self.notify.data,
                category_required=self.CATEGORY_REQUIRED,
            )
        except ValidationFailed as error:
            attach_errors(self, error)
            return False
        return valid

    @property
    def article_number(self) -> int | None:
        return int(self.article.data) if self.article.data else None

    @property
    def idempotency_key(self) -> str | None:
        """The form's nonce plus the text: a retry (or a double click) is one comment, a
        different text another."""
        return _key(self.KEY_PREFIX, self.nonce.data, self.body.data)

    def comment_input(self) -> CommentInput:
        """What the services take: the fields as `validate` checked them."""
        return self._checked

    @classmethod
    def posted(cls, formdata: Mapping[str, str], *,
               article: int | None = None) -> tuple[CommentInput, str | None]:
        """A POST of this form checked without building it (the form's dozen fields cost a
        sixth of a comment POST; bench/README.md): the comment and its idempotency key, or
        ValidationFailed naming every field at fault. `article`: the one article number the
        form may name besides the whole draft (the one the consultation has, if any). The
        fields are read as WTForms reads them (their filters; a box checked unless empty or
        "false")."""
        texts = {}
        for name, filters in _TEXT_FILTERS.items():
            value = formdata.get(name)
            for apply in filters:
                value = apply(value)
            texts[name] = value
        problems = checks.Problems()
        named = formdata.get("article") or WHOLE_DRAFT
        if named != WHOLE_DRAFT and named != str(article):
            problems.add("article", "unknown_article", _("所选条款不存在。"))
        data = checks.comment_input(
            **texts, category=formdata.get("category"),
            article=int(named) if named != WHOLE_DRAFT and "article" not in problems else None,
            publish_name=formdata.get("publish_name", "") not in _FALSE,
            notify=formdata.get("notify", "") not in _FALSE,
            problems=problems, category_required=cls.CATEGORY_REQUIRED,
        )
        return data, _key(cls.KEY_PREFIX, formdata.get("nonce"), texts["body"])


class CommentForm(SubmitterForm):
    """A comment on a whole draft or one article (F6). Contact data stays private."""

    class Meta:
        # The app's CSRFProtect checks every POST before the view (a missing, forged or
        # another session's token is a 400); the page carries its token (`csrf_token()`). A
        # field of the form's own would sign a second token on every POST and check nothing
        # more (bench/README.md, comment submission).
        csrf = False

    DESCRIPTIONS = {
        "article": _l("可以对征求意见稿整体提出意见，也可以选择具体条款。"),
        "region": _l("例如：某某区、某某街道。用于统计意见来源。"),
        "display_name": _l("姓名或单位名称。只有勾选下面的“同意公开我的署名”时才会公开。"),
        "email": _l("不公开，仅用于发送回执和采纳情况通知。"),
        "phone": _l("不公开，仅供起草单位必要时与您联系。"),
    }

    category = RadioField(
        _l("您的身份"),
        choices=[(c.value, CATEGORY_LABELS[c]) for c in Category],
        default=Category.INDIVIDUAL.value, validate_choice=False,
        validators=[InputRequired(message=_l("请选择您的身份。"))],
    )
    publish_name = BooleanField(
        _l("同意公开我的署名"),
        description=_l("不勾选时，您的意见将以匿名方式公开。"),
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
    # A honeypot (F11): hidden from people (CSS, aria-hidden, no tab stop, no autofill), so
    # only a bot fills it in. Its name is one no browser autofills.
    remark = StringField(
        _l("此项请留空"), filters=[strip],
        render_kw={"tabindex": "-1", "autocomplete": "off", "maxlength": 200},
    )

    def for_page(self) -> CommentForm:
        """What only the page shows (hints, input limits, autofill): set when the form is
        shown, not for a POST that is answered with a redirect."""
        limit = current_app.config["COMMENT_MAX_LENGTH"]
        self.body.description = _(
            "请写明您的意见、建议和理由，不超过 %(limit)d 字。请勿填写身份证号、电话等个人信息。",
            limit=limit,
        )
        self.body.render_kw = {**(self.body.render_kw or {}), "maxlength": limit}
        # What a browser may fill in for the citizen (never for the staff's register).
        for name, value in (("region", "address-level2"), ("display_name", "name"),
                            ("email", "email"), ("phone", "tel")):
            self[name].render_kw = {**(self[name].render_kw or {}), "autocomplete": value}
        self.email.render_kw["inputmode"] = "email"
        self.phone.render_kw["inputmode"] = "tel"
        return self

    @staticmethod
    def filled_by_a_bot(formdata: Mapping[str, str]) -> bool:
        """The honeypot of a POST has something in it."""
        return bool(strip(formdata.get("remark") or ""))


class RecordForm(SubmitterForm):
    """A comment that reached the unit by letter, e-mail, hearing or symposium (F11b)."""

    DESCRIPTIONS = {
        "display_name": _l("姓名或单位名称。只有提出人同意公开署名时才勾选下一项。"),
        "email": _l("不公开。填写后系统会向提出人发送回执。"),
        "phone": _l("不公开。"),
        "body": _l("照录来信、来件或会议上提出的意见原文。"),
    }
    CATEGORY_REQUIRED = _l("请选择提出人身份。")
    KEY_PREFIX = "record"

    channel = SelectField(
        _l("收到渠道"),
        choices=[(c.value, CHANNEL_LABELS[c]) for c in RECORDED_CHANNELS],
        validate_choice=False,
        validators=[InputRequired(_l("请选择收到渠道。"))],
    )
    hearing = SelectField(
        _l("听证会/座谈会"), validate_choice=False,
        description=_l("在听证会或座谈会上提出的意见，请选择对应的会议。"),
    )
    received_on = DateField(
        _l("收到日期"),
        validators=[InputRequired(_l("请填写有效的收到日期（年-月-日）。"))],
        description=_l("信函以邮戳日期为准。须在征求意见期限内，且不能晚于今天。"),
    )
    category = SelectField(
        _l("提出人身份"),
        choices=[(c.value, CATEGORY_LABELS[c]) for c in Category],
        default=Category.INDIVIDUAL.value, validate_choice=False,
        validators=[InputRequired(_l("请选择提出人身份。"))],
    )
    publish_name = BooleanField(_l("提出人同意公开署名"))
    notify = BooleanField(_l("采纳情况公布时发邮件通知提出人"), default=True)
    scan = FileField(
        _l("信函扫描件（PDF）"),
        description=_l("可不上传。仅供本单位工作人员查看，不公开。"),
    )

    def __init__(self, *args, hearings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.hearing.choices = [(NO_HEARING, str(_l("不是在会议上提出的")))] + [
            (str(h.id), f"{CHANNEL_LABELS[Channel(h.kind.value)]}：{h.title}") for h in hearings
        ]

    def validate_channel(self, field):
        if field.data not in {c.value for c in RECORDED_CHANNELS}:
            raise ValidationError(_("请选择收到渠道。"))

    def validate_hearing(self, field):
        if (field.data or NO_HEARING) not in {value for value, _label in self.hearing.choices}:
            raise ValidationError(_("所选听证会/座谈会不存在。"))

    @property
    def hearing_id(self) -> int | None:
        return int(self.hearing.data) if self.hearing.data else None


class HideForm(FlaskForm):
    """Hide one comment: a reason code is required (the glossary's five; no "duplicate").

    The moderation pages show one per comment under the page's one csrf_token.
    """

    class Meta:
        csrf = False

    reason = SelectField(
        _l("不予公开的原因"),
        choices=[("", _l("请选择原因"))]
        + [(code.value, text) for code, text in HIDDEN_REASON_LABELS.items()],
        validate_choice=False,
        validators=[InputRequired(_l("请选择不予公开的原因。"))],
    )
    note = TextAreaField(
        _l("说明"), filters=[strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明不能超过 2000 字。"))],
        description=_l("可不填。说明会写入通知邮件，并（隐去个人信息后）显示在意见回执上。"),
    )

    def validate_reason(self, field):
        if field.data not in {code.value for code in HIDDEN_REASON_LABELS}:
            raise ValidationError(_("请选择不予公开的原因。"))


class UnhideForm(FlaskForm):
    class Meta:
        csrf = False

    note = TextAreaField(
        _l("恢复公开的说明"), filters=[strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明不能超过 2000 字。"))],
    )


class LookupForm(FlaskForm):
    """Find a receipt by its tracking number (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    tracking_no = StringField(
        _l("意见编号"), filters=[strip],
        validators=[InputRequired(message=_l("请输入意见编号。")),
                    Length(max=40, message=_l("意见编号格式不正确。"))],
        description=_l("提交意见后获得的回执编号，例如 ZX26-7K3M-9QXD，不区分大小写。"),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
