"""The administration's forms: types, lengths and choices only; the rules are in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from consult.admin.services import ROLES
from consult.apitokens import services as tokens
from consult.apitokens.models import SCOPE_LABELS
from consult.labels import label
from consult.web import strip


def _optional_int(value):
    return int(value) if value not in (None, "", "None") and str(value).isdigit() else None


class UnitForm(FlaskForm):
    name = StringField(_l("单位名称"), filters=[strip],
                       validators=[DataRequired(_l("请填写单位名称。")), Length(max=200)])
    short_name = StringField(_l("简称"), filters=[strip], validators=[Optional(),
                                                                     Length(max=60)])
    parent_id = SelectField(_l("上级单位"), coerce=_optional_int, validate_choice=True)
    is_legal_office = BooleanField(_l("法制审核机构（合法性审核）"))


class InviteForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), filters=[strip],
                       validators=[DataRequired(_l("请填写电子邮箱。")), Length(max=254)])
    name = StringField(_l("姓名"), filters=[strip],
                       validators=[DataRequired(_l("请填写姓名。")), Length(max=100)])
    unit_id = SelectField(_l("单位"), coerce=_optional_int,
                          validators=[DataRequired(_l("请选择单位。"))])
    role = SelectField(_l("角色"), validators=[DataRequired(_l("请选择角色。"))])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [(u.id, u.name) for u in units]
        self.role.choices = [(str(r), label(r, "role")) for r in ROLES]


class RoleForm(FlaskForm):
    unit_id = SelectField(_l("单位"), coerce=_optional_int,
                          validators=[DataRequired(_l("请选择单位。"))])
    role = SelectField(_l("角色"), validators=[DataRequired(_l("请选择角色。"))])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [(u.id, u.name) for u in units]
        self.role.choices = [(str(r), label(r, "role")) for r in ROLES]


class NameForm(FlaskForm):
    name = StringField(_l("姓名"), filters=[strip],
                       validators=[DataRequired(_l("请填写姓名。")), Length(max=100)])


class ActionForm(FlaskForm):
    """A button (deactivate, reactivate, reset, remove a role, save settings): CSRF only."""


class ApiTokenForm(FlaskForm):
    """An API token for any unit: what it is for, the unit, its user (by e-mail), scopes and
    how long it lasts. The rules (who may use it, valid scopes, the range of days) are the
    token service's (`consult.apitokens.services.create_token`)."""

    name = StringField(_l("用途"), filters=[strip],
                       validators=[DataRequired(_l("请填写用途。")),
                                   Length(max=tokens.NAME_MAX)],
                       description=_l("例如：市民App、OA系统"))
    unit_id = SelectField(_l("单位"), coerce=_optional_int,
                          validators=[DataRequired(_l("请选择单位。"))])
    email = StringField(_l("使用人（工作人员或系统账号的邮箱）"), filters=[strip],
                        validators=[DataRequired(_l("请填写使用人的邮箱。")), Length(max=254)],
                        description=_l("须在该单位（或其上级单位）有角色。"))
    scopes = SelectMultipleField(
        _l("权限范围"), choices=[(s.value, text) for s, text in SCOPE_LABELS.items()],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[DataRequired(_l("请至少选择一项权限范围。"))])
    expires_in_days = IntegerField(_l("有效期（天）"), default=365,
                                   validators=[Optional(),
                                               NumberRange(min=1, max=tokens.MAX_DAYS)])

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [(u.id, "\u3000" * depth + u.name) for u, depth in units]
