"""Dispositions (the unit's answer to each comment) and the published adoption report."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class DispositionCode(enum.StrEnum):
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"
    ALREADY_PROVIDED = "already_provided"
    OUT_OF_SCOPE = "out_of_scope"


class Disposition(db.Model):
    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), unique=True)
    code: Mapped[DispositionCode] = mapped_column(enum_column(DispositionCode, "disposition"))
    reason: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    comment = relationship("Comment", back_populates="disposition")
    answered_by = relationship("User")


class Report(db.Model):
    """One revision of a consultation's adoption report; immutable once published."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("consultation_id", "revision", name="consultation_revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    revision: Mapped[int] = mapped_column(default=1)
    summary: Mapped[str] = mapped_column(Text, default="")  # the unit's narrative
    correction_note: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict | None] = mapped_column(JSON)  # frozen JSON of SPEC §5
    digest: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation = relationship("Consultation")
    published_by = relationship("User")


@event.listens_for(Report, "before_update")
def _published_reports_are_immutable(mapper, connection, target: Report) -> None:
    history = db.inspect(target).attrs.published_at.history
    if history.added:  # being published in this flush
        before = history.deleted[0] if history.deleted else None
    else:
        before = target.published_at
    if before is not None:
        raise RuntimeError("a published report is immutable; publish a new revision")
