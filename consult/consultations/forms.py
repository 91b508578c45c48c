"""Staff forms for drafts and their workflow."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from consult.consultations.models import TYPE_LABELS, ConsultationType, Moderation, Verification
from consult.consultations.services import DraftInput
from consult.consultations.settings import MODERATION_LABELS, VERIFICATION_LABELS

TEXT_MAX = 200_000  # a long rule pasted whole
REASON_MAX = 2_000


def _optional_int(value):
    """A select's value as an id, or None for the empty choice."""
    if value in (None, "", "None"):
        return None
    return int(value)


class ConsultationForm(FlaskForm):
    unit_id = SelectField(_l("起草单位"), coerce=int, validate_choice=False,
                          validators=[InputRequired(_l("请选择起草单位。"))])
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=300)],
                        description=_l("例如：《××市××管理办法（征求意见稿）》"))
    type = SelectField(
        _l("文件类型"),
        choices=[(t.value, label) for t, label in TYPE_LABELS.items()],
        validators=[InputRequired(_l("请选择文件类型。"))],
    )
    summary = TextAreaField(_l("内容摘要"),
                            validators=[DataRequired(_l("请填写内容摘要。")), Length(max=5_000)],
                            description=_l("用几句话说明文件要解决什么问题、主要内容有哪些。"))
    explanation = TextAreaField(_l("起草说明"),
                                validators=[Optional(), Length(max=50_000)],
                                description=_l("起草背景、依据、过程和主要内容的说明。"))
    opens_on = DateField(_l("开始日期"),
                         validators=[InputRequired(_l("请填写有效的开始日期（年-月-日）。"))],
                         description=_l("格式：年-月-日，如 2025-03-01；当天 0 时开始征集。"))
    closes_on = DateField(_l("截止日期"),
                          validators=[InputRequired(_l("请填写有效的截止日期（年-月-日）。"))],
                          description=_l("截止日期当天 23:59:59 截止。"))
    short_window_reason = TextAreaField(_l("征求意见期限较短的理由"),
                                        validators=[Optional(), Length(max=REASON_MAX)])
    concerns_business = BooleanField(
        _l("涉及市场主体经营活动"),
        description=_l("行政规范性文件涉及市场主体经营活动的，征求意见期限一般不少于 30 日"
                       "（《优化营商环境条例》第六十二条）。"),
    )
    # Choices are set by the view (consult.catalogue.queries.drafting_choices).
    catalogue_item_id = SelectField(
        _l("所属决策事项"), coerce=_optional_int, validate_choice=False,
        choices=[("", _l("（不属于决策事项目录）"))], validators=[Optional()],
        description=_l("本单位或上下级单位本年度、下一年度决策事项目录中的事项。"),
    )
    text = TextAreaField(
        _l("征求意见稿全文"),
        validators=[DataRequired(_l("请粘贴征求意见稿全文。")), Length(max=TEXT_MAX)],
        description=_l("直接粘贴全文即可。以“第一章”“第一节”“第一条”开头的行，或以“一、”"
                       "“（一）”“(一)”开头的行，会自动识别为章、节、条；没有编号时每段作为一条。"),
    )

    def draft_input(self) -> DraftInput:
        return DraftInput(
            title=self.title.data, type=ConsultationType(self.type.data),
            summary=self.summary.data or "", explanation=self.explanation.data or "",
            opens_on=self.opens_on.data, closes_on=self.closes_on.data, text=self.text.data,
            short_window_reason=self.short_window_reason.data,
            catalogue_item_id=self.catalogue_item_id.data if "catalogue_item_id" in self else None,
            concerns_business=bool(self.concerns_business.data)
            if "concerns_business" in self else False,
        )


class ReasonForm(FlaskForm):
    """Return or withdraw: the reason is recorded, and for a withdrawal published.

    Two of these share a page (with prefixes), so the page carries one plain `csrf_token`
    checked by CSRFProtect for every POST rather than a prefixed token per form.
    """

    class Meta:
        csrf = False

    reason = TextAreaField(_l("理由"), validators=[DataRequired(_l("请填写理由。")),
                                                  Length(max=REASON_MAX)])


class ExtendForm(FlaskForm):
    """A later closing date and its reason, both published (on the staff page: one csrf_token)."""

    class Meta:
        csrf = False

    closes_on = DateField(_l("新的截止日期"),
                          validators=[InputRequired(_l("请填写有效的截止日期（年-月-日）。"))],
                          description=_l("只能延长，不能提前截止。新截止日期当天 23:59:59 截止。"))
    reason = TextAreaField(_l("延长理由"), validators=[DataRequired(_l("请填写延长理由。")),
                                                   Length(max=REASON_MAX)],
                           description=_l("理由将在延长征求意见期限公告中向社会公布。"))


class LegalReviewForm(FlaskForm):
    """The legal reviewer's decision and opinion (on the staff page: one csrf_token)."""

    class Meta:
        csrf = False

    decision = RadioField(_l("审核结论"), choices=[("approved", _l("合法性审核通过")),
                                                ("returned", _l("退回修改"))],
                          validators=[InputRequired(_l("请选择审核结论。"))])
    opinion = TextAreaField(_l("审核意见"), validators=[Optional(), Length(max=5_000)],
                            description=_l("退回时必须填写。"))


class NewVersionForm(FlaskForm):
    """A revised draft: its full text, what changed, and optionally a second comment round."""

    text = TextAreaField(
        _l("修改后的征求意见稿全文"),
        validators=[DataRequired(_l("请粘贴修改后的全文。")), Length(max=TEXT_MAX)],
        description=_l("按章、节、条自动拆分，与上一版本逐条对照。"),
    )
    changelog = TextAreaField(
        _l("修改说明"), validators=[DataRequired(_l("请填写修改说明。")), Length(max=10_000)],
        description=_l("说明这一版改了什么、为什么改，将与新版本一同公布。"),
    )
    reopen_until = DateField(
        _l("第二轮征求意见截止日期"), validators=[Optional()],
        description=_l("需要就新版本再次征求意见时填写：自今天起至该日，期限须符合最短期限规定。"
                       "不填写则不开展第二轮征求意见。"),
    )
    short_window_reason = TextAreaField(
        _l("第二轮期限较短的理由"), validators=[Optional(), Length(max=REASON_MAX)],
        description=_l("第二轮期限短于规定时填写，理由将向社会公布。"),
    )


class SubscribeForm(FlaskForm):
    """The public's address for news of one consultation (double opt-in)."""

    email = StringField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱。")),
                                                  Length(max=254)],
                        description=_l("我们会先发一封确认邮件；确认后，征求意见期限延长等情况会通知您。"))


class CommentSettingsForm(FlaskForm):
    """Shown on the consultation's staff page under its one csrf_token."""

    class Meta:
        csrf = False

    moderation = SelectField(
        _l("意见审核方式"), validate_choice=False,
        choices=[(m.value, text) for m, text in MODERATION_LABELS.items()],
        validators=[InputRequired(_l("请选择意见审核方式。"))],
    )
    verification = SelectField(
        _l("提出意见的验证方式"), validate_choice=False,
        choices=[(v.value, text) for v, text in VERIFICATION_LABELS.items()],
        description=_l("征求意见开始后不能更改。"),
    )

    def validate_moderation(self, field):
        if field.data not in {m.value for m in Moderation}:
            raise ValidationError(_("请选择意见审核方式。"))

    def validate_verification(self, field):
        if field.data not in {v.value for v in Verification}:
            raise ValidationError(_("请选择验证方式。"))
