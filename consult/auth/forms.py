"""Staff login and password forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱。")),
                                                  Length(max=254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。")),
                                                   Length(max=200)])
    next = HiddenField()


class SetPasswordForm(FlaskForm):
    """The mailed link of an invitation or a reset: the staff member chooses a password."""

    password = PasswordField(
        _l("新密码"), description=_l("至少 10 个字符。"),
        validators=[DataRequired(_l("请填写密码。")),
                    Length(min=10, max=200, message=_l("密码需要 10 到 200 个字符。"))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("再次输入密码"),
        validators=[DataRequired(_l("请再次输入密码。")),
                    EqualTo("password", message=_l("两次输入的密码不一致。"))],
        render_kw={"autocomplete": "new-password"},
    )
