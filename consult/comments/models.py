"""Comments from the public, on a whole draft version or one article of it."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    JSON,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.comments.masking import mask
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class Category(enum.StrEnum):
    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"
    ORGANISATION = "organisation"
    EXPERT = "expert"
    OTHER = "other"


CATEGORY_LABELS = labels.define("category", {
    Category.INDIVIDUAL: _l("个人"),
    Category.ENTERPRISE: _l("企业"),
    Category.ORGANISATION: _l("社会组织"),
    Category.EXPERT: _l("专家学者"),
    Category.OTHER: _l("其他"),
})


class Channel(enum.StrEnum):
    WEB = "web"
    LETTER = "letter"
    EMAIL = "email"
    HEARING = "hearing"
    SYMPOSIUM = "symposium"


CHANNEL_LABELS = labels.define("channel", {
    Channel.WEB: _l("网站"),
    Channel.LETTER: _l("信函"),
    Channel.EMAIL: _l("电子邮件"),
    Channel.HEARING: _l("听证会"),
    Channel.SYMPOSIUM: _l("座谈会"),
})


class CommentStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNVERIFIED = "unverified"
    PENDING_MODERATION = "pending_moderation"
    PUBLISHED = "published"
    HIDDEN = "hidden"


COMMENT_STATUS_LABELS = labels.define("comment_status", {
    CommentStatus.SUBMITTED: _l("已提交"),
    CommentStatus.UNVERIFIED: _l("待验证"),
    CommentStatus.PENDING_MODERATION: _l("待审核"),
    CommentStatus.PUBLISHED: _l("已公开"),
    CommentStatus.HIDDEN: _l("不予公开"),
})


class HiddenReason(enum.StrEnum):
    ABUSIVE = "abusive"
    OFF_TOPIC = "off_topic"
    PERSONAL_DATA = "personal_data"
    SPAM = "spam"
    OTHER = "other"


HIDDEN_REASON_LABELS = labels.define("hidden_reason", {
    HiddenReason.ABUSIVE: _l("含辱骂、攻击性内容"),
    HiddenReason.OFF_TOPIC: _l("与征求意见内容无关"),
    HiddenReason.PERSONAL_DATA: _l("含无法隐去的个人信息"),
    HiddenReason.SPAM: _l("广告或垃圾信息"),
    HiddenReason.OTHER: _l("其他原因"),
})


class Comment(db.Model):
    __tablename__ = "comments"
    # The public list of a consultation's comments, oldest first, read in index order (a page of
    # 50 costs the same at 100 000 comments as at 100); its prefix serves status filters.
    __table_args__ = (
        Index("ix_comments_public_order", "consultation_id", "status", "created_at", "id"),
        # the contents list of a draft counts its comments per article (issue 13)
        Index("ix_comments_consultation_article", "consultation_id", "version_id", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(16), unique=True)
    # No index of its own: both composite indexes above begin with it.
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_versions.id"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[Category] = mapped_column(enum_column(Category, "comment_category"))
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "comment_channel"), default=Channel.WEB
    )
    region: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(100))
    publish_name: Mapped[bool] = mapped_column(default=False)
    # Contact data: seen by the unit's staff only, erased after the retention period.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    notify: Mapped[bool] = mapped_column(default=True)  # tell me when the report is out
    status: Mapped[CommentStatus] = mapped_column(
        enum_column(CommentStatus, "comment_status"), default=CommentStatus.PUBLISHED
    )
    hidden_reason: Mapped[HiddenReason | None] = mapped_column(
        enum_column(HiddenReason, "hidden_reason")
    )
    # The moderator's explanation to the author (mailed, shown masked on the receipt).
    hidden_note: Mapped[str | None] = mapped_column(Text)
    # Categories of sensitive words found in it (consult/comments/screening.py): why it waits
    # for a moderator. None when none were found.
    sensitive_categories: Mapped[list | None] = mapped_column(JSON)
    # A comment made at a hearing or symposium (channel hearing/symposium), if it was recorded.
    hearing_id: Mapped[int | None] = mapped_column(ForeignKey("hearings.id"))  # partial index
    # A keyed hash of (client, consultation, key) and a digest of the request it came with
    # (consult/comments/idempotency.py): a retry is found, another client's key is not.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The citizen account that was signed in when the comment was made (optional accounts).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))  # partial index
    # The language of the page it was written on (zh_Hans, zh_Hant, en): its author's mail is
    # written in it (`consult.mail.send`). None for comments recorded by staff.
    language: Mapped[str | None] = mapped_column(String(10))
    # Its group of near-identical comments (F13; consult/answers/groups.py), if any.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("comment_groups.id"))  # partial index

    consultation = relationship("Consultation")
    version = relationship("DraftVersion")
    article = relationship("Article")
    disposition = relationship("Disposition", back_populates="comment", uselist=False)
    hearing = relationship("Hearing", back_populates="comments")

    @property
    def needs_answer(self) -> bool:
        """Verified, not hidden, out of moderation: SPEC §6's comments that must be answered."""
        return self.status == CommentStatus.PUBLISHED

    @property
    def public_name(self) -> str | None:
        """The name, only with its own consent, and masked: it is free text (F10). Only of a
        published comment: never the name an unverified author claims (verification exists to
        stop impersonation), nor one a moderator has not seen or has hidden."""
        if self.status != CommentStatus.PUBLISHED:
            return None
        return mask(self.display_name) if self.publish_name and self.display_name else None

    @property
    def public_region(self) -> str | None:
        """The region as the public sees it: free text too, so masked."""
        return mask(self.region) if self.region else None


# Most comments come from nobody signed in and from no hearing, and are in no group when they
# are made: these indexes hold only those that are (`citizen_id = ?` implies NOT NULL, so both
# databases use them for such queries), and a citizen's comment writes three index entries
# fewer — on SQLite three pages fewer in its commit (bench/README.md, comment submission).
for _column in ("citizen_id", "hearing_id", "group_id"):
    Index(f"ix_comments_{_column}", Comment.__table__.c[_column],
          sqlite_where=text(f"{_column} IS NOT NULL"),
          postgresql_where=text(f"{_column} IS NOT NULL"))


class CommentCount(db.Model):
    """How many comments a consultation has in each status (`version_id` 0) and on each article
    of a version (`status` "*"; `article_id` 0: the whole draft), kept as they are written
    (`consult/comments/counts.py`) rather than counted on every page. A count is the sum of a
    few shard rows, so that concurrent comments do not all wait for one row's lock."""

    __tablename__ = "comment_counts"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"),
                                                 primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    article_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class UnindexedComment(db.Model):
    """A published comment whose search index row is not written yet: a citizen's comment,
    inserted by its POST without the row (consult/comments/services.py `_insert`), waits here
    for the indexer, which writes the rows after the commit, in batches, and deletes these
    entries in the same transaction (consult/search/indexing.py `index_pending_comments`).

    A table of its own rather than a flag on the comment: clearing a flag rewrote the comment's
    row and, on PostgreSQL, every one of its index entries (the flag was indexed, so the
    update was never HOT); an entry here is one small row, deleted (bench/README.md).

    Filled by the comment's own INSERT statement: on PostgreSQL by its WITH
    (`QUEUED_FROM_INSERTED`), on SQLite by a trigger (`SQLITE_TRIGGER`), which queues every
    published comment inserted — a comment the ORM inserts has its row written by its own flush
    (consult/search/indexing.py `sync`), which takes its entry out again."""

    __tablename__ = "unindexed_comments"

    # No foreign key: its check would cost each comment's INSERT a lookup (and, on PostgreSQL,
    # a lock) of the row it has just written; comments are never deleted (SPEC F9).
    comment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


# PostgreSQL: a WITH's data-modifying part queuing the published comments of `inserted` (the
# WITH's INSERT INTO comments ... RETURNING id, status): consult/comments/services.py.
QUEUED_FROM_INSERTED = ("INSERT INTO unindexed_comments (comment_id) "
                        f"SELECT id FROM inserted WHERE status = '{CommentStatus.PUBLISHED}'")
# SQLite: every published comment inserted is queued by its INSERT's statement. Made once every
# table is (and by migration 0017); a migration that rebuilds `comments` (Alembic's batch mode
# on SQLite) must make it again.
SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS comments_unindexed AFTER INSERT ON comments "
    f"WHEN NEW.status = '{CommentStatus.PUBLISHED}' BEGIN "
    "INSERT INTO unindexed_comments (comment_id) VALUES (NEW.id); END"
)
event.listen(db.metadata, "after_create", DDL(SQLITE_TRIGGER).execute_if(dialect="sqlite"))
