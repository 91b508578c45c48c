"""Staff accounts."""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from flask_babel import gettext as _

from consult import clock, mail
from consult.auth.models import Membership, Role, Unit, User
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.security import passwords
from consult.tokens import LinkInvalid, make_token, read_token
from consult.urls import external_url

MIN_PASSWORD_LENGTH = 10


def create_user(*, email: str, name: str, password: str, unit_name: str | None = None,
                role: str | None = None) -> User:
    """Create a staff user; `role` in `unit_name`, or a platform admin when role is admin."""
    email = email.strip().lower()
    if db.session.scalar(db.select(User).where(User.email == email)):
        raise ValueError(f"a user with e-mail {email} exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user = User(email=email, name=name.strip(), is_admin=role == "admin")
    user.set_password(password)
    db.session.add(user)
    if role and role != "admin":
        unit = db.session.scalar(db.select(Unit).where(Unit.name == unit_name))
        if unit is None:
            raise ValueError(f"no unit named {unit_name!r}")
        user.memberships.append(Membership(unit=unit, role=Role(role)))
    db.session.flush()
    return user


def authenticate(email: str, password: str, *, language: str | None = None) -> User | None:
    """The active user with these credentials, or None. Exactly one password check whatever
    the address names, so the answer's timing tells nobody which accounts exist. The user keeps
    the `language` they signed in with: their mail (the daily digest) is written in it."""
    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if not passwords.check(user.password_hash if user else None, password) or not user.active:
        return None
    user.last_login_at = clock.now()
    if language:
        user.language = language
    return user


# ------------------------------------------------------------------ password links (F24)

PASSWORD_SALT = "staff-password"


def _password_fingerprint(user: User) -> str:
    """Changes with the password: a link works until a password is set with it (single use)."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def queue_password_link(user: User, *, invited: bool) -> None:
    """Mail the user a link to set their password: an invitation to a new account, or a reset
    the platform office asked for. Valid for VERIFY_MAX_AGE_DAYS days."""
    token = make_token(PASSWORD_SALT, {"u": user.id, "p": _password_fingerprint(user)})
    mail.queue_mail("staff_password", user.email, language=user.language, invited=invited,
                    name=user.name, link=external_url("auth.set_password", token=token),
                    days=current_app.config["VERIFY_MAX_AGE_DAYS"])


def user_for_password_link(token: str) -> User:
    """The active account a password link names; a used, outdated or forged one is 400."""
    payload = read_token(PASSWORD_SALT, token)
    user = None
    if isinstance(payload, dict) and isinstance(payload.get("u"), int):
        user = db.session.get(User, payload["u"])
    if user is None or not user.active or _password_fingerprint(user) != payload.get("p"):
        raise LinkInvalid(_("该链接无效或已经使用过。请联系政务公开办公室重新发送。"))
    return user


def set_password_by_link(token: str, password: str) -> User:
    """Follow a mailed link: the password is set and every earlier session ends."""
    user = user_for_password_link(token)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        message = _("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH)
        raise ValidationFailed(message, code="weak_password", fields={"password": message})
    user.set_password(password)
    db.session.flush()
    return user


def unusable_password() -> str:
    """A password nobody knows, for an invited account until its owner sets one."""
    return secrets.token_urlsafe(32)
