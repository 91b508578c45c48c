"""Dispositions (the unit's answer to each comment) and the published adoption report."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.extensions import db
from consult.types import UTCDateTime, enum_column

# The region key of the comments that name none, in the report's totals by region.
UNSPECIFIED_REGION = "unspecified"


class DispositionCode(enum.StrEnum):
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"
    ALREADY_PROVIDED = "already_provided"
    OUT_OF_SCOPE = "out_of_scope"


DISPOSITION_LABELS = labels.define("disposition", {
    DispositionCode.ADOPTED: _l("采纳"),
    DispositionCode.PARTLY_ADOPTED: _l("部分采纳"),
    DispositionCode.NOT_ADOPTED: _l("不予采纳"),
    DispositionCode.ALREADY_PROVIDED: _l("已有规定"),
    DispositionCode.OUT_OF_SCOPE: _l("不属于本次征求意见范围"),
})


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


class GroupStatus(enum.StrEnum):
    SUGGESTED = "suggested"  # found by the detector, not yet checked by staff
    CONFIRMED = "confirmed"  # staff agree: one answer covers every member


class CommentGroup(db.Model):
    """Near-identical comments (a form letter, a campaign) answered once (F13).

    Each member keeps its own Disposition: answering the group writes the same answer to every
    member in one service call, so receipts, `blockers` and the report's counts work per
    comment as before (a group answer counts once per member).
    """

    __tablename__ = "comment_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    # The member whose (masked) text the report shows for the whole group. The foreign key is
    # added after both tables exist (comments.group_id points back here).
    representative_comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", use_alter=True)
    )
    status: Mapped[GroupStatus] = mapped_column(
        enum_column(GroupStatus, "comment_group_status"), default=GroupStatus.SUGGESTED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consultation = relationship("Consultation")
    members = relationship("Comment", foreign_keys="Comment.group_id", backref="group",
                           order_by="Comment.id")
    representative = relationship("Comment", foreign_keys=[representative_comment_id],
                                  post_update=True)
    confirmed_by = relationship("User")

    @property
    def confirmed(self) -> bool:
        return self.status == GroupStatus.CONFIRMED


class ReasonTemplate(db.Model):
    """A reason the unit gives often, kept per consultation to fill answers quickly (F12)."""

    __tablename__ = "reason_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    code: Mapped[DispositionCode] = mapped_column(enum_column(DispositionCode, "disposition"))
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation = relationship("Consultation")


class AnswerSheetImport(db.Model):
    """An uploaded answering sheet (XLSX), kept between its preview and its confirmation.

    `rows` holds what the sheet says, row by row ({"row", "key", "disposition", "reason",
    "error"}); the preview and the confirmation check them against the comments as they are
    then, so a sheet is never applied on the strength of a stale preview.
    """

    __tablename__ = "answer_sheet_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[list] = mapped_column(JSON)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consultation = relationship("Consultation")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])


class DigestRun(db.Model):
    """One staff member's daily digest of new comments (F15): at most one per local day."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("user_id", "day", name="user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)  # local date of the run
    since: Mapped[datetime] = mapped_column(UTCDateTime)  # comments created after this ...
    until: Mapped[datetime] = mapped_column(UTCDateTime)  # ... and up to this instant
    comments: Mapped[int] = mapped_column(default=0)  # how many the mail listed (0: no mail)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


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
    digest: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The frozen JSON of SPEC §5 (~50 MB for 100 000 comments), declared last: SQLite reads a
    # column stored after it only by walking its overflow pages (bench/report_bench.py).
    content: Mapped[dict | None] = mapped_column(JSON)

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


class CommentSeen(db.Model):
    """A comment shown to a staff member on the answering workbench (issue 13): the first
    time, and the latest. Answering a set (a group, a topic, a page of the table) records
    every member it showed, so a unit can prove that each comment was read."""

    __tablename__ = "comment_seen"
    __table_args__ = (UniqueConstraint("comment_id", "user_id", name="comment_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"),
                                            index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Topic(db.Model):
    """Comments making the same point in different words, found by clustering (issue 13,
    consult/answers/topics.py): labelled with their top terms, answered one topic at a time.
    Unlike a group of near-identical comments, a topic is an aid to answering only: the
    report lists its comments one by one."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))  # its top terms, joined with " · "
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    consultation = relationship("Consultation")


class TopicMember(db.Model):
    """A comment's topic: at most one per comment."""

    __tablename__ = "topic_members"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"),
                                            primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"),
                                          index=True)
    # Closeness to the topic's centre (cosine similarity, 0–1): the least typical first.
    score: Mapped[float] = mapped_column(default=0.0)


class ReportDraft(db.Model):
    """The 总体情况说明 (the report's narrative) as drafted by the unit's editors before an
    approver publishes the report: the publish form starts from it."""

    __tablename__ = "report_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    updated_by = relationship("User")
