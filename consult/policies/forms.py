"""Staff forms for the final policy and its interpretations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from consult.consultations.models import TYPE_LABELS, ConsultationType, LegalDecision
from consult.policies.models import (
    CHANGE_KIND_LABELS,
    INTERPRETATION_KIND_LABELS,
    ChangeKind,
    InterpretationKind,
)
from consult.policies.services import ChangeInput, PolicyInput

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
    valid_until = DateField(_l("有效期至"), validators=[Optional()],
                            description=_l("行政规范性文件一般为 5 年；届满后文件自动显示“已失效”，"
                                           "可在届满前延续。不设有效期时不填。"))
    affects_market = BooleanField(
        _l("涉及市场主体经济活动"),
        description=_l("勾选后，须经公平竞争审查通过才能发布。"))
    text = TextAreaField(_l("正式文件全文"),
                         validators=[DataRequired(_l("请填写正式文件全文。")),
                                     Length(max=TEXT_MAX)],
                         description=_l("按“第一章”“第一条”或“一、”“（一）”等编号分条，"
                                        "公开页面按条显示。"))

    def policy_input(self) -> PolicyInput:
        return PolicyInput(
            title=self.title.data, document_number=self.document_number.data,
            issued_on=self.issued_on.data, effective_on=self.effective_on.data,
            text=self.text.data, valid_until=self.valid_until.data,
            affects_market=bool(self.affects_market.data),
            type=ConsultationType(self.type.data) if hasattr(self, "type") else None,
        )


class StandalonePolicyForm(PolicyForm):
    """An older policy, with no consultation here: its unit and type, typed or from .docx."""

    unit_id = SelectField(_l("发文单位"), coerce=int, validate_choice=False,
                          validators=[InputRequired(_l("请选择发文单位。"))])
    type = SelectField(_l("文件类型"),
                       choices=[(t.value, label) for t, label in TYPE_LABELS.items()],
                       default=ConsultationType.NORMATIVE_DOCUMENT.value,
                       validators=[InputRequired(_l("请选择文件类型。"))])
    file = FileField(_l("从文件导入正文"), render_kw={"accept": ".docx,.txt"},
                     description=_l("Word（.docx）或纯文本（.txt）文件：正文按条拆分后填入下方，"
                                    "请核对后保存。"))
    source_name = HiddenField()


class ChangeForm(FlaskForm):
    """A change in a published policy's validity, by a later document."""

    kind = SelectField(_l("变化"), choices=[(k.value, text) for k, text in
                                           CHANGE_KIND_LABELS.items()],
                       validators=[InputRequired(_l("请选择变化。"))])
    effective_on = DateField(_l("生效日期"),
                             validators=[InputRequired(_l("请填写有效的日期（年-月-日）。"))])
    by_policy = StringField(_l("作出变化的文件的文号"), validators=[Optional(), Length(max=100)],
                            description=_l("文件库中已发布的文件，填其文号，如 ×府规〔2027〕1号。"))
    document = StringField(_l("或：作出变化的文件名称和文号"),
                           validators=[Optional(), Length(max=300)],
                           description=_l("不在文件库中的文件，如上级机关的决定。"))
    valid_until = DateField(_l("新的有效期至"), validators=[Optional()],
                            description=_l("仅“延续有效期”时填写。"))
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=5000)])

    def change_input(self, by_policy) -> ChangeInput:
        return ChangeInput(kind=ChangeKind(self.kind.data), effective_on=self.effective_on.data,
                           by_policy=by_policy, document=self.document.data,
                           valid_until=self.valid_until.data, note=self.note.data)


class FilingForm(FlaskForm):
    """The filing record (备案) of a published rule or normative document."""

    filed_with = StringField(_l("备案机关"), validators=[DataRequired(_l("请填写备案机关。")),
                                                      Length(max=200)],
                             description=_l("例如：市人大常委会、省人民政府、市人民政府"))
    filed_on = DateField(_l("报送备案日期"),
                         validators=[InputRequired(_l("请填写有效的日期（年-月-日）。"))])
    filing_number = StringField(_l("备案号"), validators=[Optional(), Length(max=100)])


class CompetitionReviewForm(FlaskForm):
    """The fair-competition review's sign-off or return."""

    decision = SelectField(_l("审查结论"), choices=[
        (LegalDecision.APPROVED.value, _l("通过：不排除、限制竞争")),
        (LegalDecision.RETURNED.value, _l("退回修改")),
    ], validators=[InputRequired(_l("请选择审查结论。"))])
    opinion = TextAreaField(_l("审查意见"), validators=[Optional(), Length(max=5000)])


class AnswerLinkForm(FlaskForm):
    """Link an adopted answer to the final article it changed (0: remove the link)."""

    disposition_id = HiddenField(validators=[InputRequired()])
    article_number = SelectField(_l("正式文件条款"), coerce=int, validate_choice=False,
                                 validators=[InputRequired(_l("请选择条款。"))])


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
