"""Citizen accounts, kept apart from staff users: their own table and their own session key."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from consult import clock
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

    @property
    def is_active(self) -> bool:
        """May sign in: verified, has a password, not erased."""
        return bool(self.email_verified_at and self.password_hash and self.erased_at is None)

    @property
    def password_stamp(self) -> str:
        """Changes with the password: ends sessions and voids links made before a change."""
        return (self.password_hash or "")[-12:]

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Citizen {self.id}>"
