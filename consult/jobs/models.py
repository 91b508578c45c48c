"""Jobs recorded in the database first, the files they build, and the schedule's last runs.

A `Job` row is written in the transaction of the change that asks for it, so it exists exactly
when the change does; only after the commit is it handed to a transport (RQ on Redis, or a
thread of the web process / `flask --app app worker` polling this table). Whoever runs it
claims the row first (a conditional UPDATE; `FOR UPDATE SKIP LOCKED` on PostgreSQL) and holds a
lease that it renews while it works: a row left `running` by a dead process is claimed again
once its lease has expired, so a crash loses no job.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock, labels
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class JobStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its turn (or for its next attempt after a failure)
    RUNNING = "running"  # claimed by a worker whose lease has not expired
    DONE = "done"
    FAILED = "failed"  # out of attempts, or refused for good (e.g. no longer allowed)


JOB_STATUS_LABELS = labels.define("job_status", {
    JobStatus.QUEUED: _l("排队中"),
    JobStatus.RUNNING: _l("进行中"),
    JobStatus.DONE: _l("已完成"),
    JobStatus.FAILED: _l("失败"),
})

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        Index("ix_jobs_due", "status", "next_attempt_at"),
        Index("ix_jobs_consultation_kind", "consultation_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # a handler in consult.jobs.queue.HANDLERS
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, "job_status"),
                                              default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)  # 0–100
    progress_text: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)  # claims so far (a crash counts)
    max_attempts: Mapped[int] = mapped_column(default=5)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid holding the lease
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # handed to RQ
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)  # what it made: ids, counts
    # One active job per key (e.g. "suggest_groups:12"): `active_key` is the key while the job
    # is queued or running and NULL after, so the unique constraint only binds active jobs.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), index=True)
    active_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by = relationship("User")
    unit = relationship("Unit")
    consultation = relationship("Consultation")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status}>"


# Exactly one of a built file's owners is set.
ONE_OWNER = ("(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END)"
             " + (CASE WHEN policy_id IS NULL THEN 0 ELSE 1 END)"
             " + (CASE WHEN dataset IS NULL THEN 0 ELSE 1 END) = 1")


class BuiltFile(db.Model):
    """A download built once by a job (the report's PDF/XLSX per revision and language, a
    policy's PDF, a bulk table of /data) and kept in the database, so that every app host
    serves the same bytes."""

    __tablename__ = "built_files"
    __table_args__ = (
        UniqueConstraint("report_id", "format", "locale", name="report_format"),
        UniqueConstraint("policy_id", "format", "locale", name="policy_format"),
        UniqueConstraint("dataset", "format", "locale", name="dataset_format"),
        CheckConstraint(ONE_OWNER, name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose file it is: a report's revision, or a published policy (its PDF).
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                                  index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"),
                                                  index=True)
    format: Mapped[str] = mapped_column(String(8))  # pdf, xlsx
    locale: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(100))
    content_disposition: Mapped[str] = mapped_column(String(600))
    etag: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A bulk table of /data (consult.opendata.files: "comments", "comments-12"...): a snapshot
    # of its rows, `stamp` their digest, `checked_at` when they were last found unchanged.
    dataset: Mapped[str | None] = mapped_column(String(40))
    stamp: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bytes, declared last (SQLite reads columns after a large one through its overflow
    # pages); a 304 never loads them.
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ScheduledTask(db.Model):
    """The last period each scheduled task ran for. A worker runs a task by moving
    `last_period` forward with a conditional UPDATE: of several workers ticking at once,
    exactly one wins each period."""

    __tablename__ = "scheduled_tasks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_period: Mapped[str] = mapped_column(String(40), default="")
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
