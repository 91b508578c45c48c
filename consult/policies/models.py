"""Final policies (正式文件) and their interpretations (政策解读)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class Validity(enum.StrEnum):
    IN_FORCE = "in_force"
    AMENDED = "amended"
    REPEALED = "repealed"


VALIDITY_LABELS = labels.define("validity", {
    Validity.IN_FORCE: _l("现行有效"),
    Validity.AMENDED: _l("已修改"),
    Validity.REPEALED: _l("已废止"),
})


class InterpretationKind(enum.StrEnum):
    TEXT = "text"
    GRAPHIC = "graphic"
    QA = "qa"


INTERPRETATION_KIND_LABELS = labels.define("interpretation_kind", {
    InterpretationKind.TEXT: _l("文字解读"),
    InterpretationKind.GRAPHIC: _l("图解"),
    InterpretationKind.QA: _l("问答"),
})


class Policy(db.Model):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id"), unique=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    document_number: Mapped[str] = mapped_column(String(100))  # 文号
    issued_on: Mapped[date]
    effective_on: Mapped[date | None]
    text: Mapped[str] = mapped_column(Text)
    validity: Mapped[Validity] = mapped_column(
        enum_column(Validity, "validity"), default=Validity.IN_FORCE
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    consultation = relationship("Consultation", back_populates="policy")
    unit = relationship("Unit")
    interpretations: Mapped[list[Interpretation]] = relationship(
        back_populates="policy", order_by="Interpretation.id"
    )


class Interpretation(db.Model):
    __tablename__ = "interpretations"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[InterpretationKind] = mapped_column(
        enum_column(InterpretationKind, "interpretation_kind"), default=InterpretationKind.TEXT
    )
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    policy: Mapped[Policy] = relationship(back_populates="interpretations")
