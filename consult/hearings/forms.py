"""Staff forms for hearings and symposiums. Types, lengths and choices only."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from consult import clock
from consult.comments.models import CATEGORY_LABELS, CHANNEL_LABELS, Category
from consult.hearings.models import HearingKind
from consult.hearings.services import HearingInput
from consult.web import strip

NOTICE_MAX = 20_000
RECORD_MAX = 200_000


class HearingForm(FlaskForm):
    kind = SelectField(
        _l("会议类型"),
        choices=[(k.value, CHANNEL_LABELS[k.value]) for k in HearingKind],
        validate_choice=False, validators=[InputRequired(_l("请选择会议类型。"))],
    )
    title = StringField(
        _l("会议名称"), filters=[strip],
        validators=[DataRequired(_l("请填写会议名称。")), Length(max=300)],
        description=_l("例如：《××管理办法（征求意见稿）》立法听证会"),
    )
    held_at = DateTimeLocalField(
        _l("举行时间"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(_l("请填写有效的举行时间（年-月-日 时:分）。"))],
        description=_l("当地时间，格式：2025-03-15 14:30。"),
    )
    place = StringField(
        _l("举行地点"), filters=[strip],
        validators=[DataRequired(_l("请填写举行地点。")), Length(max=300)],
    )
    notice = TextAreaField(
        _l("会议公告"), filters=[strip],
        validators=[Optional(), Length(max=NOTICE_MAX)],
        description=_l("会议事项、参加人产生方式、报名办法等，会前向社会公布。"),
    )

    def validate_kind(self, field):
        if field.data not in {k.value for k in HearingKind}:
            raise ValidationError(_("请选择会议类型。"))

    def hearing_input(self) -> HearingInput:
        held = self.held_at.data.replace(tzinfo=clock.local_zone()).astimezone(UTC)
        return HearingInput(kind=HearingKind(self.kind.data), title=self.title.data,
                            held_at=held, place=self.place.data, notice=self.notice.data or "")

    @staticmethod
    def local(moment: datetime) -> datetime:
        """An aware time as the naive local time the field shows."""
        return clock.local(moment).replace(tzinfo=None, second=0, microsecond=0)


class ParticipantForm(FlaskForm):
    """One of several forms on the hearing page, under the page's one csrf_token."""

    class Meta:
        csrf = False

    name = StringField(_l("姓名"), filters=[strip],
                       validators=[DataRequired(_l("请填写参加人姓名。")), Length(max=100)])
    affiliation = StringField(_l("单位或身份"), filters=[strip],
                              validators=[Optional(), Length(max=200)])
    category = SelectField(
        _l("类别"), choices=[(c.value, CATEGORY_LABELS[c]) for c in Category],
        default=Category.INDIVIDUAL.value, validate_choice=False,
    )

    def validate_category(self, field):
        if field.data not in {c.value for c in Category}:
            raise ValidationError(_("请选择类别。"))


class RecordTextForm(FlaskForm):
    class Meta:
        csrf = False

    record = TextAreaField(
        _l("会议记录"), filters=[strip],
        validators=[Optional(), Length(max=RECORD_MAX)],
        description=_l("发言要点、主要意见和会议结论。发布后向社会公开，不能再修改。"),
    )


class FileForm(FlaskForm):
    class Meta:
        csrf = False

    role = SelectField(
        _l("文件类别"),
        choices=[("notice", _l("会议公告")), ("record", _l("会议记录"))],
        validate_choice=False,
    )
    file = FileField(_l("PDF 文件"), description=_l("公告或记录发布后向社会公开。"))

    def validate_role(self, field):
        if field.data not in ("notice", "record"):
            raise ValidationError(_("请选择文件类别。"))

    def validate_file(self, field):
        if not field.data or not getattr(field.data, "filename", None):
            raise ValidationError(_("请选择要上传的文件。"))
