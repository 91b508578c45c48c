"""A hearing or symposium held on a consultation: its notice, participant list and record."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock
from consult.comments.models import Category
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class HearingKind(enum.StrEnum):
    """The same codes as the comment channels a hearing's comments are recorded with."""

    HEARING = "hearing"
    SYMPOSIUM = "symposium"


class Hearing(db.Model):
    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    kind: Mapped[HearingKind] = mapped_column(enum_column(HearingKind, "hearing_kind"))
    title: Mapped[str] = mapped_column(String(300))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300))
    notice: Mapped[str] = mapped_column(Text, default="")  # 公告, published before it is held
    record: Mapped[str | None] = mapped_column(Text)  # 记录 / 纪要
    # Files are public once the notice (or the record) is: see `public_files`.
    notice_file_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    record_file_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    record_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation = relationship("Consultation")
    notice_file = relationship("Attachment", foreign_keys=[notice_file_id])
    record_file = relationship("Attachment", foreign_keys=[record_file_id])
    participants: Mapped[list[HearingParticipant]] = relationship(
        back_populates="hearing", order_by="HearingParticipant.id", cascade="all, delete-orphan"
    )
    comments = relationship("Comment", back_populates="hearing", order_by="Comment.id")

    @property
    def public_files(self) -> list:
        """The notice file once the notice is out; the record file once the record is."""
        files = []
        if self.published_at and self.notice_file is not None:
            files.append(self.notice_file)
        if self.record_published_at and self.record_file is not None:
            files.append(self.record_file)
        return files


class HearingParticipant(db.Model):
    __tablename__ = "hearing_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(
        ForeignKey("hearings.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(
        enum_column(Category, "participant_category"), default=Category.INDIVIDUAL
    )

    hearing: Mapped[Hearing] = relationship(back_populates="participants")
