"""Staff forms for answering comments and publishing the adoption report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from consult.answers.bulk import REASON_MAX
from consult.answers.models import DISPOSITION_LABELS


def no_nul(value):
    """A WTForms filter: NUL characters out (PostgreSQL's text cannot hold them)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class AnswerForm(FlaskForm):
    """One comment's answer. The queue shows one per comment, under the page's one csrf_token;
    whether a reason is needed is the service's rule (all but "adopted")."""

    class Meta:
        csrf = False

    code = RadioField(
        _l("采纳情况"),
        choices=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        validators=[InputRequired(_l("请选择采纳情况。"))],
    )
    reason = TextAreaField(_l("理由"), validators=[Optional(), Length(max=REASON_MAX)],
                           filters=[no_nul],
                           description=_l("除“采纳”外须说明理由；理由随报告向社会公布。"))


class ReportForm(FlaskForm):
    summary = TextAreaField(
        _l("总体情况说明"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("概述意见征集的总体情况、主要意见和采纳情况，随报告向社会公布。"),
    )


def _dispositions():
    return [(code.value, text) for code, text in DISPOSITION_LABELS.items()]


class BulkForm(FlaskForm):
    """Many comments selected in the queue: one answer for all, or made into one group
    (fields prefixed `bulk-`; the checkboxes are `comment_ids`)."""

    class Meta:
        csrf = False  # the page's one csrf_token, checked by CSRFProtect

    action = RadioField(choices=[("answer", ""), ("group", ""), ("ungroup", "")],
                        validators=[InputRequired()])
    code = SelectField(_l("采纳情况"), choices=[("", "—")] + _dispositions(),
                       validators=[Optional()])
    template_id = SelectField(_l("理由模板"), choices=[], validate_choice=False,
                              validators=[Optional()])
    reason = TextAreaField(_l("理由"), validators=[Optional(), Length(max=REASON_MAX)])


class TemplateForm(FlaskForm):
    """A reusable reason (fields prefixed `template-`)."""

    class Meta:
        csrf = False

    title = StringField(_l("模板名称"), validators=[DataRequired(_l("请填写模板名称。")),
                                                 Length(max=100)])
    code = SelectField(_l("采纳情况"), choices=_dispositions(),
                       validators=[InputRequired(_l("请选择采纳情况。"))])
    text = TextAreaField(_l("理由"), validators=[DataRequired(_l("请填写理由。")),
                                               Length(max=REASON_MAX)])


class GroupAnswerForm(AnswerForm):
    """One answer for a whole confirmed group."""


class SheetUploadForm(FlaskForm):
    file = FileField(_l("填好的答复表（XLSX）"),
                     validators=[FileRequired(_l("请选择要上传的答复表。"))],
                     description=_l("上传从本页下载并填写好的答复表，先预览，确认后才导入。"))
