"""Citizen accounts, kept apart from staff users: their own table and their own session key."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from consult import clock
from consult.auth.models import new_session_stamp
from consult.extensions import db
from consult.types import UTCDateTime


class Citizen(db.Model):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased. NULL once the account is erased (the row stays as an empty tombstone).
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # Set by the link mailed to the address, so only the mailbox's owner chooses it.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the account last signed up or in with: its mail is written in it.
    language: Mapped[str | None] = mapped_column(String(10))
    # Kept in the session and checked on every request: a new stamp ends every session. It
    # changes on logout, password change and erasure (SECURITY.md, finding 5).
    session_stamp: Mapped[str] = mapped_column(String(32), default=new_session_stamp)

    @property
    def is_active(self) -> bool:
        """May sign in: verified, has a password, not erased."""
        return bool(self.email_verified_at and self.password_hash and self.erased_at is None)

    @property
    def password_stamp(self) -> str:
        """Changes with the password: ends sessions and voids links made before a change."""
        return (self.password_hash or "")[-12:]

    def end_sessions(self) -> None:
        self.session_stamp = new_session_stamp()

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Citizen {self.id}>"


@event.listens_for(Citizen.password_hash, "set")
@event.listens_for(Citizen.erased_at, "set")
def _end_sessions_on_change(target: Citizen, value, oldvalue, initiator) -> None:
    """A new password or an erasure ends every session of the account."""
    if value != oldvalue:
        target.end_sessions()
