"""Staff accounts."""

from __future__ import annotations

from consult import clock
from consult.auth.models import Membership, Role, Unit, User
from consult.extensions import db
from consult.security import passwords

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
