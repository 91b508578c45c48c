"""The alert form (F20): an address and what to follow."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from consult.web import strip


class AlertForm(FlaskForm):
    email = StringField(_l("电子邮箱"), filters=[strip],
                        validators=[DataRequired(_l("请填写电子邮箱。")), Length(max=254)])
    unit = SelectField(_l("起草单位"), choices=[], validate_choice=True, validators=[Optional()])
    type = SelectField(_l("文件类型"), choices=[], validate_choice=True, validators=[Optional()])
    keyword = StringField(_l("关键词"), filters=[strip],
                          validators=[Optional(), Length(max=100)],
                          description=_l("例如：就业、住房；在标题、摘要、条文和采纳情况中查找"))
