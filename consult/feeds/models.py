"""E-mail alerts (F20): news of consultations, reports and policies by unit, type or keyword.

Double opt-in: an alert mails nothing until its owner follows the link in the confirmation
mail; every alert mail carries a one-click unsubscribe link (and `List-Unsubscribe` headers),
which deletes the address. Who subscribed is never shown to anyone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock
from consult.extensions import db
from consult.types import UTCDateTime


class Alert(db.Model):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # stored lower-case
    # What to announce: all three empty means everything public.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    type: Mapped[str | None] = mapped_column(String(40))
    keyword: Mapped[str | None] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # confirm and unsubscribe
    language: Mapped[str | None] = mapped_column(String(10))  # of the page it was asked on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last confirmation mail
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Events up to this instant have been mailed (from the confirmation on).
    notified_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit = relationship("Unit")
