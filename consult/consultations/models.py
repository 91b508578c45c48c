"""Consultations, their draft versions and articles."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from consult import clock, labels
from consult.consultations import windows
from consult.consultations.states import State, status_of
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class ConsultationType(enum.StrEnum):
    RULE = "rule"
    NORMATIVE_DOCUMENT = "normative_document"
    MAJOR_DECISION = "major_decision"
    OTHER = "other"


TYPE_LABELS = labels.define("type", {
    ConsultationType.RULE: _l("政府规章"),
    ConsultationType.NORMATIVE_DOCUMENT: _l("行政规范性文件"),
    ConsultationType.MAJOR_DECISION: _l("重大行政决策"),
    ConsultationType.OTHER: _l("其他"),
})


class Verification(enum.StrEnum):
    NONE = "none"
    EMAIL = "email"
    ACCOUNT = "account"


class Moderation(enum.StrEnum):
    POST = "post"
    PRE = "pre"


class Consultation(db.Model):
    __tablename__ = "consultations"
    __table_args__ = (CheckConstraint("closes_at > opens_at", name="window_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[ConsultationType] = mapped_column(
        enum_column(ConsultationType, "consultation_type")
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    catalogue_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogue_items.id"), index=True
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    explanation: Mapped[str] = mapped_column(Text, default="")  # 起草说明
    state: Mapped[State] = mapped_column(
        enum_column(State, "consultation_state"), default=State.DRAFT, index=True
    )
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    short_window_reason: Mapped[str | None] = mapped_column(Text)
    # A normative document on the business activity of market entities: 30-day window (F4).
    concerns_business: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The minimum windows in force when it was created, by type and for business activity
    # (`windows.current_minimums()`): its window is checked against these on every edit,
    # submission, approval and second round, whatever the platform office saves later.
    window_minimums: Mapped[dict] = mapped_column(JSON)
    verification: Mapped[Verification] = mapped_column(
        enum_column(Verification, "verification"), default=Verification.NONE
    )
    moderation: Mapped[Moderation] = mapped_column(
        enum_column(Moderation, "moderation"), default=Moderation.POST
    )
    return_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the adoption report was first published (set by `answers.services.publish_report`):
    # the domains below the answers ask the consultation whether its report is out.
    report_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    unit = relationship("Unit")
    catalogue_item = relationship("CatalogueItem", back_populates="consultations")
    created_by = relationship("User", foreign_keys=[created_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    versions: Mapped[list[DraftVersion]] = relationship(
        back_populates="consultation", order_by="DraftVersion.number", cascade="all, delete-orphan"
    )
    policy = relationship("Policy", back_populates="consultation", uselist=False)

    def __init__(self, **kwargs):
        # Taken before the row exists, so that the settings are read outside any flush.
        kwargs.setdefault("window_minimums", windows.current_minimums())
        super().__init__(**kwargs)

    @property
    def window_rule(self) -> windows.Minimum:
        """The minimum window it must meet: its type's, among those in force at its creation."""
        return windows.minimum(self.type, concerns_business=bool(self.concerns_business),
                               minimums=self.window_minimums)

    @property
    def status(self) -> State:
        """The public state, with scheduled/open/closed read off the clock."""
        return status_of(self.state, self.opens_at, self.closes_at, clock.now())

    @property
    def report_published(self) -> bool:
        """Whether the adoption report is out (and with it the answers and the totals frozen)."""
        return self.report_published_at is not None

    @property
    def current_version(self) -> DraftVersion | None:
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Consultation {self.id} {self.state}>"


class DraftVersion(db.Model):
    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("consultation_id", "number", name="consultation_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(default=1)
    preamble: Mapped[str | None] = mapped_column(Text)  # text before the first article
    changelog: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation: Mapped[Consultation] = relationship(back_populates="versions")
    articles: Mapped[list[Article]] = relationship(
        back_populates="version", order_by="Article.number", cascade="all, delete-orphan"
    )


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("version_id", "number", name="version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_versions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]  # 1, 2, 3 ... unique within the version
    label: Mapped[str] = mapped_column(String(60))  # how the text numbers it: 第三条, 三(二)
    chapter: Mapped[str | None] = mapped_column(String(200))
    section: Mapped[str | None] = mapped_column(String(200))
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)

    version: Mapped[DraftVersion] = relationship(back_populates="articles")


class Extension(db.Model):
    """A later closing date, published as a notice (延长征求意见期限公告); also a second round."""

    __tablename__ = "consultation_extensions"
    __table_args__ = (CheckConstraint("new_closes_at > old_closes_at", name="later_close"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    old_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    # A second round shorter than the minimum: the reason, published with the notice.
    short_window_reason: Mapped[str | None] = mapped_column(Text)
    # The version whose publication opened a second round (None for a plain extension).
    version_id: Mapped[int | None] = mapped_column(ForeignKey("draft_versions.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation: Mapped[Consultation] = relationship(
        backref=backref("extensions", order_by=lambda: (Extension.at, Extension.id),
                        cascade="all, delete-orphan")
    )
    version = relationship("DraftVersion")
    actor = relationship("User")


class Subscription(db.Model):
    """An address that asked for news of one consultation (extension notices), double opt-in."""

    __tablename__ = "consultation_subscriptions"
    __table_args__ = (UniqueConstraint("consultation_id", "email", name="consultation_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))  # stored lower-case
    token: Mapped[str] = mapped_column(String(64), unique=True)  # confirm and unsubscribe links
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last confirmation mail
    language: Mapped[str | None] = mapped_column(String(10))  # of the page it was asked on

    consultation: Mapped[Consultation] = relationship()

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class LegalDecision(enum.StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


LEGAL_DECISION_LABELS = labels.define("legal_decision", {
    LegalDecision.APPROVED: _l("合法性审核通过"),
    LegalDecision.RETURNED: _l("退回修改"),
})


class LegalReview(db.Model):
    """A legal reviewer's sign-off (合法性审核) of a rule or major decision, or its return."""

    __tablename__ = "legal_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    decision: Mapped[LegalDecision] = mapped_column(enum_column(LegalDecision, "legal_decision"))
    opinion: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation: Mapped[Consultation] = relationship(
        backref=backref("legal_reviews", order_by=lambda: (LegalReview.at, LegalReview.id),
                        cascade="all, delete-orphan")
    )
    reviewer = relationship("User")
