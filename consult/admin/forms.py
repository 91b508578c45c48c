"""The administration's forms: types, lengths and choices only; the rules are in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from consult.admin.services import ROLES
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
