"""Final policies (正式文件) and their interpretations (政策解读)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.consultations.models import ConsultationType, LegalDecision
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class Validity(enum.StrEnum):
    """A policy's validity as a reader is shown it: derived from its changes and the clock
    (`consult.policies.validity`); `Policy.validity` keeps the last recorded one."""

    IN_FORCE = "in_force"
    AMENDED = "amended"
    REPEALED = "repealed"
    EXPIRED = "expired"  # past its 有效期 and not renewed: never stored, read off the clock


VALIDITY_LABELS = labels.define("validity", {
    Validity.IN_FORCE: _l("现行有效"),
    Validity.AMENDED: _l("已修改"),
    Validity.REPEALED: _l("已废止"),
    Validity.EXPIRED: _l("已失效"),
})


class ChangeKind(enum.StrEnum):
    """What a later document did to a policy (立改废)."""

    AMEND = "amend"  # 修改
    REPEAL = "repeal"  # 废止
    REPLACE = "replace"  # 被…替代 (repealed by a document that takes its place)
    RENEW = "renew"  # 有效期延续


CHANGE_KIND_LABELS = labels.define("policy_change", {
    ChangeKind.AMEND: _l("修改"),
    ChangeKind.REPEAL: _l("废止"),
    ChangeKind.REPLACE: _l("替代"),
    ChangeKind.RENEW: _l("延续有效期"),
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
    type: Mapped[ConsultationType] = mapped_column(
        enum_column(ConsultationType, "policy_type"), index=True,
        default=ConsultationType.NORMATIVE_DOCUMENT,
    )
    document_number: Mapped[str] = mapped_column(String(100), index=True)  # 文号
    issued_on: Mapped[date] = mapped_column(index=True)
    effective_on: Mapped[date | None]
    valid_until: Mapped[date | None]  # 有效期至: 已失效 the day after, unless renewed
    text: Mapped[str] = mapped_column(Text)
    preamble: Mapped[str | None] = mapped_column(Text)  # text before the first article
    validity: Mapped[Validity] = mapped_column(
        enum_column(Validity, "validity"), default=Validity.IN_FORCE
    )
    # Affects the economic activity of market players: 公平竞争审查 before it is issued.
    affects_market: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 备案 (normative documents and rules): to whom, when, under which number.
    filed_with: Mapped[str | None] = mapped_column(String(200))
    filed_on: Mapped[date | None]
    filing_number: Mapped[str | None] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    consultation = relationship("Consultation", back_populates="policy")
    unit = relationship("Unit")
    interpretations: Mapped[list[Interpretation]] = relationship(
        back_populates="policy", order_by="Interpretation.id"
    )
    articles: Mapped[list[PolicyArticle]] = relationship(
        back_populates="policy", order_by="PolicyArticle.number", cascade="all, delete-orphan"
    )
    # What later documents did to this one, and what this one did to others.
    changes: Mapped[list[PolicyChange]] = relationship(
        back_populates="policy", foreign_keys="PolicyChange.policy_id",
        order_by="(PolicyChange.effective_on, PolicyChange.id)", cascade="all, delete-orphan",
    )
    changes_made: Mapped[list[PolicyChange]] = relationship(
        back_populates="by_policy", foreign_keys="PolicyChange.by_policy_id",
        order_by="(PolicyChange.effective_on, PolicyChange.id)",
    )
    competition_reviews: Mapped[list[CompetitionReview]] = relationship(
        back_populates="policy", order_by="(CompetitionReview.at, CompetitionReview.id)",
        cascade="all, delete-orphan",
    )
    answer_links: Mapped[list[AnswerLink]] = relationship(
        back_populates="policy", order_by="AnswerLink.id", cascade="all, delete-orphan"
    )


class PolicyArticle(db.Model):
    """An article of the final text, split like a draft's (chapters, sections, numbering)."""

    __tablename__ = "policy_articles"
    __table_args__ = (UniqueConstraint("policy_id", "number", name="policy_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]  # 1, 2, 3 ... unique within the policy
    label: Mapped[str] = mapped_column(String(60))  # 第三条, 三(二)
    chapter: Mapped[str | None] = mapped_column(String(200))
    section: Mapped[str | None] = mapped_column(String(200))
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)

    policy: Mapped[Policy] = relationship(back_populates="articles")


class PolicyChange(db.Model):
    """A change in a policy's validity: amended, repealed or replaced by a later document (in
    the library, `by_policy`, or named in `document`), or its 有效期 renewed; from a date."""

    __tablename__ = "policy_changes"
    __table_args__ = (
        CheckConstraint("by_policy_id IS NULL OR by_policy_id <> policy_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChangeKind] = mapped_column(enum_column(ChangeKind, "policy_change"))
    effective_on: Mapped[date] = mapped_column(index=True)
    by_policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"), index=True)
    document: Mapped[str | None] = mapped_column(String(300))  # a document not in the library
    valid_until: Mapped[date | None]  # a renewal's new end of validity
    note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    policy: Mapped[Policy] = relationship(back_populates="changes", foreign_keys=[policy_id])
    by_policy: Mapped[Policy | None] = relationship(back_populates="changes_made",
                                                    foreign_keys=[by_policy_id])
    actor = relationship("User")


class CompetitionReview(db.Model):
    """The fair-competition review (公平竞争审查) of a policy that affects market players:
    signed off (or returned with an opinion) by the legal office before the policy is issued."""

    __tablename__ = "competition_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    decision: Mapped[LegalDecision] = mapped_column(
        enum_column(LegalDecision, "competition_decision")
    )
    opinion: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    policy: Mapped[Policy] = relationship(back_populates="competition_reviews")
    reviewer = relationship("User")


class AnswerLink(db.Model):
    """An adopted (or partly adopted) answer linked by staff to the final article it changed."""

    __tablename__ = "policy_answer_links"
    __table_args__ = (
        UniqueConstraint("policy_id", "disposition_id", name="policy_disposition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    disposition_id: Mapped[int] = mapped_column(
        ForeignKey("dispositions.id", ondelete="CASCADE"), index=True
    )
    article_number: Mapped[int]  # the final article's number (articles are re-split on edit)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    policy: Mapped[Policy] = relationship(back_populates="answer_links")
    disposition = relationship("Disposition")


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
