"""The token page's form (a unit's approvers and platform admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from consult.apitokens.models import SCOPE_LABELS
from consult.web import strip


class TokenForm(FlaskForm):
    name = StringField(_l("用途"), filters=[strip],
                       validators=[DataRequired(_l("请填写用途。")), Length(max=100)],
                       description=_l("例如：市民App、OA系统"))
    unit_id = SelectField(_l("单位"), coerce=int, choices=[])
    email = StringField(_l("使用人（工作人员或系统账号的邮箱）"), filters=[strip],
                        validators=[DataRequired(_l("请填写使用人的邮箱。")), Length(max=254)])
    scopes = SelectMultipleField(
        _l("权限范围"), choices=[(s.value, label) for s, label in SCOPE_LABELS.items()],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[DataRequired(_l("请至少选择一项权限范围。"))])
    expires_in_days = IntegerField(_l("有效期（天）"), default=365,
                                   validators=[Optional(), NumberRange(min=1, max=730)])
