"""Staff forms that take files: importing a draft (F3) and a consultation's attachments (F2)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from consult.consultations.attachments import TITLE_MAX
from consult.consultations.forms import ConsultationForm
from consult.consultations.models import TYPE_LABELS


class ImportForm(FlaskForm):
    """Step 1 of an import: which unit, which kind of document, which file."""

    unit_id = SelectField(_l("起草单位"), coerce=int, validate_choice=False,
                          validators=[InputRequired(_l("请选择起草单位。"))])
    type = SelectField(
        _l("文件类型"),
        choices=[(t.value, label) for t, label in TYPE_LABELS.items()],
        validators=[InputRequired(_l("请选择文件类型。"))],
    )
    file = FileField(_l("征求意见稿文件"), validators=[FileRequired(_l("请选择要上传的文件。"))],
                     render_kw={"accept": ".docx,.txt"})


class ImportSaveForm(ConsultationForm):
    """Step 2: the draft's fields with the extracted text, corrected by the editor."""

    source_name = HiddenField()


class AttachmentForm(FlaskForm):
    """One file for a consultation. The page carries the plain CSRF token (several forms)."""

    class Meta:
        csrf = False

    title = StringField(_l("附件名称"), validators=[Optional(), Length(max=TITLE_MAX)],
                        description=_l("选填，例如“附件1：收费标准表”；不填则显示文件名。"))
    file = FileField(_l("文件"), validators=[FileRequired(_l("请选择要上传的文件。"))],
                     render_kw={"accept": ".pdf,.docx,.xlsx"},
                     description=_l("PDF、Word（.docx）或 Excel（.xlsx）文件，按文件内容识别。"))
