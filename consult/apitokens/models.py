"""The API token table (see the package's docstring)."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.extensions import db
from consult.types import UTCDateTime


class Scope(enum.StrEnum):
    DRAFTS = "drafts"  # create and update drafts, upload their text, submit, approve
    COMMENTS = "comments"  # record comments received by other channels
    ANSWERS = "answers"  # answer comments
    REPORTS = "reports"  # publish the adoption report
    POLICIES = "policies"  # add the final policy and its interpretation, publish them


SCOPE_LABELS = labels.define("api_scope", {
    Scope.DRAFTS: _l("草稿：创建、修改、提交、审核"),
    Scope.COMMENTS: _l("登记其他渠道收到的意见"),
    Scope.ANSWERS: _l("答复意见"),
    Scope.REPORTS: _l("发布意见采纳情况"),
    Scope.POLICIES: _l("正式文件和政策解读"),
})


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # what it is for: 市民App、OA系统
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists: cst_AbCd…
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id])
    unit = relationship("Unit")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def active(self) -> bool:
        now = clock.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
