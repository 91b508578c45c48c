"""Units, staff users and their memberships (user, unit, role)."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from consult import clock
from consult.extensions import db
from consult.permissions import Role
from consult.types import UTCDateTime, enum_column

__all__ = ["Membership", "Role", "Unit", "User"]


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(60))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    is_legal_office: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    def ancestors_and_self(self) -> list[Unit]:
        """This unit and every unit above it, nearest first."""
        chain, unit, seen = [], self, set()
        while unit is not None and unit.id not in seen:
            seen.add(unit.id)
            chain.append(unit)
            unit = unit.parent
        return chain

    def descendant_ids(self) -> set[int]:
        """Ids of this unit and every unit below it."""
        ids, stack = set(), [self]
        while stack:
            unit = stack.pop()
            if unit.id in ids:
                continue
            ids.add(unit.id)
            stack.extend(unit.children)
        return ids

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.name}>"


def new_session_stamp() -> str:
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the user last signed in with: their mail (the daily digest) is written in it.
    language: Mapped[str | None] = mapped_column(String(10))
    # Part of every session and remember-me cookie (get_id): a new stamp ends them all. It
    # changes on logout, password change and deactivation (SECURITY.md, finding 5).
    session_stamp: Mapped[str] = mapped_column(String(32), default=new_session_stamp)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember-me cookies: id and stamp."""
        return f"{self.id}:{self.session_stamp}"

    def end_sessions(self) -> None:
        """Sign the account out everywhere: every cookie made so far stops working."""
        self.session_stamp = new_session_stamp()

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


@event.listens_for(User.password_hash, "set")
@event.listens_for(User.active, "set")
def _end_sessions_on_change(target: User, value, oldvalue, initiator) -> None:
    """A new password or a deactivation ends every session, whoever made the change."""
    if value != oldvalue:
        target.end_sessions()


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role", name="user_unit_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship()
