"""Staff forms for catalogue items: types, lengths and choices only (rules live in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from consult.catalogue.models import CATALOGUE_STATUS_LABELS, METHOD_LABELS
from consult.catalogue.services import REASON_MAX, TITLE_MAX, YEAR_MAX, YEAR_MIN, ItemInput


class CatalogueItemForm(FlaskForm):
    unit_id = SelectField(_l("责任单位"), coerce=int, validate_choice=False,
                          validators=[InputRequired(_l("请选择责任单位。"))])
    year = IntegerField(_l("年度"), validators=[
        InputRequired(_l("请填写年度，如 2026。")),
        NumberRange(YEAR_MIN, YEAR_MAX, _l("请填写有效的年度。")),
    ])
    title = TextAreaField(_l("决策事项名称"), validators=[
        DataRequired(_l("请填写决策事项名称。")), Length(max=TITLE_MAX)])
    legal_basis = TextAreaField(_l("决策依据"), validators=[Optional(), Length(max=5_000)],
                                description=_l("法律、法规、规章或上级文件的名称及条款。"))
    # Checked by the service (unknown codes → a message in the glossary's words).
    methods = SelectMultipleField(
        _l("参与方式"), choices=[(m.value, text) for m, text in METHOD_LABELS.items()],
        validate_choice=False,
    )
    planned_start = DateField(_l("计划开始时间"), validators=[Optional()],
                              description=_l("格式：年-月-日，如 2026-03-01。"))
    planned_end = DateField(_l("计划完成时间"), validators=[Optional()],
                            description=_l("格式：年-月-日，如 2026-10-31。"))
    reason = TextAreaField(_l("调整理由"), validators=[Optional(), Length(max=REASON_MAX)],
                           description=_l("目录公布后调整事项须说明理由，理由与调整内容一并向社会公布。"))

    def item_input(self) -> ItemInput:
        return ItemInput(
            year=self.year.data, title=self.title.data or "",
            legal_basis=self.legal_basis.data, methods=list(self.methods.data or []),
            planned_start=self.planned_start.data, planned_end=self.planned_end.data,
        )


class StatusForm(FlaskForm):
    """Move an item on. The page's one plain `csrf_token` is checked by CSRFProtect."""

    class Meta:
        csrf = False

    status = SelectField(_l("新状态"), validate_choice=False,
                         choices=[(s.value, text) for s, text in CATALOGUE_STATUS_LABELS.items()],
                         validators=[InputRequired(_l("请选择新状态。"))])
    reason = TextAreaField(_l("说明"), validators=[Optional(), Length(max=REASON_MAX)],
                           description=_l("选填；目录公布后，状态变化及说明将向社会公布。"))
