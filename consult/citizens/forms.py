"""Forms of citizen accounts and of the privacy requests."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from consult.web import strip


def _email_field(description=None):
    return EmailField(
        _l("电子邮箱"), filters=[strip], description=description,
        validators=[DataRequired(_l("请填写电子邮箱。")),
                    Length(max=254, message=_l("电子邮箱不能超过 254 个字符。")),
                    Email(message=_l("请填写有效的电子邮箱地址。"), check_deliverability=False)],
        render_kw={"maxlength": 254, "autocomplete": "email", "inputmode": "email"},
    )


def _display_name_field():
    return StringField(
        _l("称呼"), filters=[strip],
        validators=[Optional(), Length(max=100, message=_l("称呼不能超过 100 字。"))],
        description=_l("只在“我的意见”页面显示，不会公开。"),
        render_kw={"maxlength": 100, "autocomplete": "nickname"},
    )


class RegisterForm(FlaskForm):
    email = _email_field(description=_l("我们会向这个邮箱发送链接，打开链接设置密码后即完成注册。"))
    display_name = _display_name_field()


class ResetForm(FlaskForm):
    email = _email_field(description=_l("我们会向这个邮箱发送重新设置密码的链接。"))


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。")),
                                                   Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("密码"), description=_l("至少 8 个字符。"),
        validators=[DataRequired(_l("请填写密码。")),
                    Length(min=8, max=200, message=_l("密码需要 8 到 200 个字符。"))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("再次输入密码"),
        validators=[DataRequired(_l("请再次输入密码。")),
                    EqualTo("password", message=_l("两次输入的密码不一致。"))],
        render_kw={"autocomplete": "new-password"},
    )


class ProfileForm(FlaskForm):
    display_name = _display_name_field()
    email = _email_field(description=_l("修改后，我们会向新邮箱发送确认链接，确认后才生效。"))


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("我确认删除我的账号和个人信息，此操作不能撤销"),
        validators=[DataRequired(_l("请勾选确认。"))],
    )
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。")),
                                                   Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class ErasureRequestForm(FlaskForm):
    """Erase the personal data of one comment without an account: tracking number + email."""

    tracking_no = StringField(
        _l("意见编号"), filters=[strip],
        validators=[DataRequired(_l("请输入意见编号。")),
                    Length(max=40, message=_l("意见编号格式不正确。"))],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    email = _email_field(description=_l("提交意见时填写的电子邮箱。确认链接只会发到这个邮箱。"))
