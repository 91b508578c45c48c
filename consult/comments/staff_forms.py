"""Staff forms of the comments domain: moderation (F9) and recording comments from other channels
(F11b). Types, lengths and choices only; the rules are the services'."""

from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from consult.comments.forms import (
    EMAIL_VALIDATORS,
    NAME_VALIDATORS,
    PHONE_VALIDATORS,
    REGION_VALIDATORS,
    WHOLE_DRAFT,
    _BodyLength,
    _newlines,
    _strip,
    article_choices,
)
from consult.comments.models import Category, Channel
from consult.comments.moderation import NOTE_MAX
from consult.labels import CATEGORY_LABELS, CHANNEL_LABELS, HIDDEN_REASON_LABELS

RECORDED_CHANNELS = [c for c in Channel if c != Channel.WEB]
NO_HEARING = ""


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
        _l("说明"), filters=[_strip],
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
        _l("恢复公开的说明"), filters=[_strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明不能超过 2000 字。"))],
    )


class RecordForm(FlaskForm):
    """A comment that reached the unit by letter, e-mail, hearing or symposium."""

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
    article = SelectField(_l("针对的条款"), validate_choice=False)
    category = SelectField(
        _l("提出人身份"),
        choices=[(c.value, CATEGORY_LABELS[c]) for c in Category],
        default=Category.INDIVIDUAL.value, validate_choice=False,
        validators=[InputRequired(_l("请选择提出人身份。"))],
    )
    region = StringField(
        _l("所在地区"), filters=[_strip],
        validators=REGION_VALIDATORS,
        render_kw={"maxlength": 100},
    )
    display_name = StringField(
        _l("署名"), filters=[_strip],
        validators=NAME_VALIDATORS,
        description=_l("姓名或单位名称。只有提出人同意公开署名时才勾选下一项。"),
        render_kw={"maxlength": 100},
    )
    publish_name = BooleanField(_l("提出人同意公开署名"))
    email = EmailField(
        _l("电子邮箱"), filters=[_strip],
        validators=EMAIL_VALIDATORS,
        description=_l("不公开。填写后系统会向提出人发送回执。"),
        render_kw={"maxlength": 254},
    )
    phone = TelField(
        _l("联系电话"), filters=[_strip],
        validators=PHONE_VALIDATORS,
        description=_l("不公开。"),
        render_kw={"maxlength": 40},
    )
    notify = BooleanField(_l("采纳情况公布时发邮件通知提出人"), default=True)
    body = TextAreaField(
        _l("意见内容"),
        filters=[_newlines, _strip],
        validators=[DataRequired(message=_l("请填写意见内容。")), _BodyLength()],
        description=_l("照录来信、来件或会议上提出的意见原文。"),
        render_kw={"rows": 10},
    )
    scan = FileField(
        _l("信函扫描件（PDF）"),
        description=_l("可不上传。仅供本单位工作人员查看，不公开。"),
    )
    nonce = HiddenField()

    def __init__(self, *args, articles=(), hearings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.article.choices = article_choices(articles)
        self.hearing.choices = [(NO_HEARING, str(_l("不是在会议上提出的")))] + [
            (str(h.id), f"{CHANNEL_LABELS[Channel(h.kind.value)]}：{h.title}") for h in hearings
        ]
        if not self.nonce.data:
            self.nonce.data = secrets.token_urlsafe(16)

    def validate_channel(self, field):
        if field.data not in {c.value for c in RECORDED_CHANNELS}:
            raise ValidationError(_("请选择收到渠道。"))

    def validate_hearing(self, field):
        if (field.data or NO_HEARING) not in {value for value, _label in self.hearing.choices}:
            raise ValidationError(_("所选听证会/座谈会不存在。"))

    def validate_article(self, field):
        if (field.data or WHOLE_DRAFT) not in {value for value, _label in self.article.choices}:
            raise ValidationError(_("所选条款不存在。"))

    def validate_category(self, field):
        if field.data not in {c.value for c in Category}:
            raise ValidationError(_("请选择提出人身份。"))

    @property
    def article_number(self) -> int | None:
        return int(self.article.data) if self.article.data else None

    @property
    def hearing_id(self) -> int | None:
        return int(self.hearing.data) if self.hearing.data else None

    @property
    def idempotency_key(self) -> str | None:
        """A double click on the same form records one comment."""
        nonce = (self.nonce.data or "")[:40]
        if not nonce:
            return None
        digest = hashlib.sha256(self.body.data.encode("utf-8")).hexdigest()[:32]
        return f"record:{nonce}:{digest}"
