"""Catalogue of decisions open for public participation (F1)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class CatalogueStatus(enum.StrEnum):
    PLANNED = "planned"
    CONSULTING = "consulting"
    DECIDED = "decided"
    IMPLEMENTED = "implemented"


CATALOGUE_STATUS_LABELS = labels.define("catalogue_status", {
    CatalogueStatus.PLANNED: _l("计划中"),
    CatalogueStatus.CONSULTING: _l("征求意见中"),
    CatalogueStatus.DECIDED: _l("已决策"),
    CatalogueStatus.IMPLEMENTED: _l("已实施"),
})


class ParticipationMethod(enum.StrEnum):
    ONLINE_COMMENT = "online_comment"
    HEARING = "hearing"
    SYMPOSIUM = "symposium"
    SURVEY = "survey"
    EXPERT_REVIEW = "expert_review"


METHOD_LABELS = labels.define("method", {
    ParticipationMethod.ONLINE_COMMENT: _l("网上征求意见"),
    ParticipationMethod.HEARING: _l("听证会"),
    ParticipationMethod.SYMPOSIUM: _l("座谈会"),
    ParticipationMethod.SURVEY: _l("问卷调查"),
    ParticipationMethod.EXPERT_REVIEW: _l("专家论证"),
})


class CatalogueItem(db.Model):
    """A decision in a unit's yearly catalogue. Once published, every change is recorded."""

    __tablename__ = "catalogue_items"
    __table_args__ = (
        UniqueConstraint("year", "number", name="year_number"),
        CheckConstraint(
            "planned_start IS NULL OR planned_end IS NULL OR planned_end >= planned_start",
            name="planned_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    number: Mapped[int | None]  # within the year: 2026-003 is number 3 of 2026
    title: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    status: Mapped[CatalogueStatus] = mapped_column(
        enum_column(CatalogueStatus, "catalogue_status"), default=CatalogueStatus.PLANNED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    unit = relationship("Unit")
    consultations = relationship("Consultation", back_populates="catalogue_item",
                                 order_by="Consultation.id")
    changes: Mapped[list[CatalogueChange]] = relationship(
        back_populates="item", order_by="(CatalogueChange.at, CatalogueChange.id)",
        cascade="all, delete-orphan",
    )

    @property
    def code(self) -> str | None:
        """The item's number as the catalogue prints it: 2026-003."""
        return f"{self.year}-{self.number:03d}" if self.number is not None else None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def __repr__(self) -> str:
        return f"<CatalogueItem {self.id} {self.code}>"


class CatalogueChange(db.Model):
    """One change to a published item: which fields went from what to what, and why."""

    __tablename__ = "catalogue_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_items.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changes: Mapped[dict] = mapped_column(JSON)  # {field: [old, new]}, values as in the API
    reason: Mapped[str | None] = mapped_column(Text)

    item: Mapped[CatalogueItem] = relationship(back_populates="changes")
    actor = relationship("User")
