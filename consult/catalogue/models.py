"""Catalogue of decisions open for public participation (F1)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class CatalogueStatus(enum.StrEnum):
    PLANNED = "planned"
    CONSULTING = "consulting"
    DECIDED = "decided"
    IMPLEMENTED = "implemented"


class ParticipationMethod(enum.StrEnum):
    ONLINE_COMMENT = "online_comment"
    HEARING = "hearing"
    SYMPOSIUM = "symposium"
    SURVEY = "survey"
    EXPERT_REVIEW = "expert_review"


class CatalogueItem(db.Model):
    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
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

    unit = relationship("Unit")
    consultations = relationship("Consultation", back_populates="catalogue_item")
