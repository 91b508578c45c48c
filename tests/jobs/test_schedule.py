"""Scheduled work: the digest, the public's alerts and the retention purge once a local day,
outbox retries once per tick, however many workers tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult import clock, mail
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs import schedule
from consult.jobs.models import Job, JobStatus, ScheduledTask
from consult.jobs.transport import SESSION_KEY

# 09:30 in Asia/Shanghai (UTC+8): after DIGEST_HOUR 8 and PURGE_HOUR 3.
MORNING = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)


@pytest.fixture
def hours(app):
    app.config.update(DIGEST_HOUR=8, PURGE_HOUR=3)
    yield
    app.config.update(DIGEST_HOUR=None, PURGE_HOUR=None)


def _kinds() -> list[str]:
    return db.session.scalars(db.select(Job.kind).order_by(Job.id)).all()


def test_the_digest_and_the_purge_start_once_a_day_however_many_workers_tick(hours, session):
    clock.freeze(MORNING)
    assert schedule.tick() == ["staff_digest", "feed_alerts", "privacy_purge", "jobs_prune"]
    assert schedule.tick() == []  # a second worker, the same minute
    clock.freeze(MORNING + timedelta(hours=10))
    assert schedule.tick() == []  # later the same local day
    assert _kinds() == ["staff_digest", "feed_alerts", "privacy_purge"]
    task = session.get(ScheduledTask, "staff_digest")
    assert task.last_period == "2026-03-10" and task.job_id is not None
    clock.freeze(MORNING + timedelta(days=1))
    assert schedule.tick() == ["staff_digest", "feed_alerts", "privacy_purge", "jobs_prune"]
    assert session.get(ScheduledTask, "staff_digest").last_period == "2026-03-11"


def test_nothing_starts_before_its_local_hour_or_when_switched_off(hours, session, app):
    clock.freeze(datetime(2026, 3, 9, 20, 30, tzinfo=UTC))  # 04:30 local: purge only
    assert schedule.tick() == ["privacy_purge", "jobs_prune"]
    clock.freeze(MORNING)
    assert schedule.tick() == ["staff_digest", "feed_alerts"]
    app.config["DIGEST_HOUR"] = None
    clock.freeze(MORNING + timedelta(days=1))
    assert schedule.tick() == ["privacy_purge", "jobs_prune"]


def test_a_worker_down_all_morning_catches_up_at_its_next_tick(hours, session):
    clock.freeze(MORNING + timedelta(hours=12))  # 21:30 local, first tick of the day
    assert schedule.tick() == ["staff_digest", "feed_alerts", "privacy_purge", "jobs_prune"]


def test_the_scheduled_digest_runs_as_a_job_and_queues_the_mails(hours, session, make):
    consultation = make.consultation("open")
    editor = make.user("editor", consultation.unit)
    clock.freeze(MORNING)
    make.comment(consultation)
    schedule.tick()
    assert jobs.run_due() == 3
    digest, alerts, purge = db.session.scalars(db.select(Job).order_by(Job.id)).all()
    assert alerts.status == JobStatus.DONE and alerts.result["mails"] == 0
    assert digest.status == JobStatus.DONE and digest.result["sent"] == 1
    assert purge.status == JobStatus.DONE and purge.result["comments"] == 0
    [message] = db.session.scalars(db.select(mail.OutboxMessage)
                                   .where(mail.OutboxMessage.kind == "staff_digest")).all()
    assert message.recipient == editor.email


def test_outbox_retries_are_kicked_once_per_tick_and_only_when_mail_is_due(session, app):
    start = datetime(2026, 3, 10, 1, 30, 0, tzinfo=UTC)
    clock.freeze(start)
    assert schedule.tick() == []  # no mail due: nothing is written either
    assert session.get(ScheduledTask, "outbox_retry") is None
    with app.test_request_context():
        message = mail.queue("receipt", "citizen@example.org", "意见回执", "您的意见已收到。")
    session.commit()
    message.attempts, message.next_attempt_at = 1, start + timedelta(minutes=1)
    session.commit()
    assert schedule.tick() == []  # its retry is not due yet
    clock.freeze(start + timedelta(minutes=1))
    assert schedule.tick() == ["outbox_retry"]
    assert session.info.get(SESSION_KEY) is None  # handed on at the commit
    assert schedule.tick() == []  # a second worker in the same tick
    clock.freeze(start + timedelta(minutes=1, seconds=app.config["JOBS_TICK_SECONDS"]))
    assert schedule.tick() == ["outbox_retry"]


def test_done_jobs_are_pruned_after_a_month_and_failed_ones_kept(hours, session):
    clock.freeze(MORNING - timedelta(days=40))
    old_done = jobs.enqueue("staff_digest")
    old_failed = jobs.enqueue("privacy_purge")
    jobs.run_one(old_done.id)
    old_failed.status, old_failed.finished_at = JobStatus.FAILED, clock.now()
    clock.freeze(MORNING - timedelta(days=2))
    recent = jobs.enqueue("staff_digest")
    jobs.run_one(recent.id)
    session.commit()
    ids = {old_done.id, old_failed.id, recent.id}
    clock.freeze(MORNING)
    assert "jobs_prune" in schedule.tick()
    left = set(session.scalars(db.select(Job.id).where(Job.id.in_(ids))))
    assert left == {old_failed.id, recent.id}
