"""Login failure counters, per account and per client (login throttling, finding 8)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class LoginKind(enum.StrEnum):
    STAFF = "staff"  # /login
    CITIZEN = "citizen"  # /account/login


class ThrottleScope(enum.StrEnum):
    ACCOUNT = "account"  # key: the e-mail address tried (lower-cased), whether or not it exists
    CLIENT = "client"  # key: the client (an IPv4 address or an IPv6 /64, consult/ratelimit.py)


class LoginThrottle(db.Model):
    """Failed sign-ins of one account or one client since its counter was last cleared.

    Kept in the database so that every worker and host sees the same counts. A counter is
    forgotten LOGIN_THROTTLE_FORGET_HOURS after its last failure.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (
        UniqueConstraint("kind", "scope", "key", name="kind_scope_key"),
        Index("ix_login_throttles_last_failure_at", "last_failure_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LoginKind] = mapped_column(enum_column(LoginKind, "login_kind"))
    scope: Mapped[ThrottleScope] = mapped_column(enum_column(ThrottleScope, "throttle_scope"))
    key: Mapped[str] = mapped_column(String(254))
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
