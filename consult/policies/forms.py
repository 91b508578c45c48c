"""Staff forms for the final policy and its interpretations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from consult.policies.models import INTERPRETATION_KIND_LABELS, InterpretationKind
from consult.policies.services import PolicyInput

TEXT_MAX = 200_000


class PolicyForm(FlaskForm):
    title = StringField(_l("文件标题"),
                        validators=[DataRequired(_l("请填写文件标题。")), Length(max=300)])
    document_number = StringField(
        _l("文号"), validators=[DataRequired(_l("请填写文号。")), Length(max=100)],
        description=_l("例如：×府规〔2025〕3号"),
    )
    issued_on = DateField(_l("印发日期"),
                          validators=[InputRequired(_l("请填写有效的印发日期（年-月-日）。"))],
                          description=_l("格式：年-月-日，如 2025-06-30。"))
    effective_on = DateField(_l("施行日期"), validators=[Optional()],
                             description=_l("格式：年-月-日；不晚于印发日期时可不填。"))
    text = TextAreaField(_l("正式文件全文"),
                         validators=[DataRequired(_l("请填写正式文件全文。")),
                                     Length(max=TEXT_MAX)])

    def policy_input(self) -> PolicyInput:
        return PolicyInput(
            title=self.title.data, document_number=self.document_number.data,
            issued_on=self.issued_on.data, effective_on=self.effective_on.data,
            text=self.text.data,
        )


class InterpretationForm(FlaskForm):
    title = StringField(_l("解读标题"),
                        validators=[DataRequired(_l("请填写解读标题。")), Length(max=300)])
    kind = SelectField(
        _l("解读形式"),
        choices=[(k.value, text) for k, text in INTERPRETATION_KIND_LABELS.items()],
        default=InterpretationKind.TEXT.value,
        validators=[InputRequired(_l("请选择解读形式。"))],
    )
    body = TextAreaField(_l("解读内容"),
                         validators=[DataRequired(_l("请填写解读内容。")), Length(max=TEXT_MAX)],
                         description=_l("说明出台背景、主要内容、与征求意见稿相比的变化等；"
                                        "问答形式可按“问：……答：……”分段填写。"))
