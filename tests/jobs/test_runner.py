"""The embedded default (no Redis): a thread of the web process runs what a request queued,
after the commit, and at the next start resumes what a dead process left behind."""

from __future__ import annotations

from datetime import timedelta

from flask_login import FlaskLoginClient

from consult import clock, mail
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import Job, JobStatus
from tests import factories
from tests.jobs.conftest import wait_for

LETTER = ("我们坚决反对在小区内增设收费停车位。小区道路狭窄，增设车位将堵塞消防通道，"
          "建议保留现有的免费停车位，并由业主大会决定停车收费事宜。")


def test_a_job_queued_by_a_request_runs_in_the_background_after_the_commit(standalone):
    app = standalone(JOBS_BACKGROUND=True)
    app.test_client_class = FlaskLoginClient
    with app.app_context():
        consultation = factories.consultation("closed")
        for n in range(3):
            factories.comment(consultation, body=LETTER + "。" * n)
        editor = factories.user("editor", consultation.unit)
        db.session.commit()
        ids = (consultation.id, editor.id)
    with app.app_context():
        editor = db.session.get(factories.User, ids[1])
        client = app.test_client(user=editor)
        response = client.post(f"/staff/consultations/{ids[0]}/groups/suggest")
        assert response.status_code == 302
    assert wait_for(app, lambda: db.session.scalar(
        db.select(Job.status).where(Job.kind == "suggest_groups")) == JobStatus.DONE)
    with app.app_context():
        job = db.session.scalar(db.select(Job))
        assert job.result["groups"] == 1 and job.result["comments"] == 3
        page = app.test_client(user=db.session.get(factories.User, ids[1])).get(
            f"/staff/consultations/{ids[0]}/groups").get_data(as_text=True)
        assert "找到 1 组" in page


def test_work_a_dead_process_left_resumes_when_the_app_starts_again(standalone):
    """Queued mail, a queued job and a job left running under a lease that expired: the next
    process to start (its first request) runs them all."""
    before = standalone()  # JOBS_BACKGROUND off: a process that dies with work in hand
    with before.app_context():
        with before.test_request_context():
            mail.queue("receipt", "citizen@example.org", "意见回执", "您的意见已收到。")
        consultation = factories.consultation("closed")
        editor = factories.user("editor", consultation.unit)
        for body in (LETTER, LETTER + "！"):
            factories.answer(factories.comment(consultation, body=body), "adopted", None)
        crashed = jobs.enqueue("suggest_groups", {}, actor=editor, consultation=consultation)
        waiting = jobs.enqueue("report_preview", {}, actor=editor, consultation=consultation)
        db.session.commit()
        assert jobs.claim(crashed.id) == crashed.id  # ... and the process dies
        ids = (crashed.id, waiting.id)
        lease = before.config["JOB_LEASE_SECONDS"]
    clock.freeze(clock.now() + timedelta(seconds=lease + 1))
    after = standalone(JOBS_BACKGROUND=True, SQLALCHEMY_DATABASE_URI=before.database_url)
    assert after.test_client().get("/healthz").status_code == 200  # the first request
    assert wait_for(after, lambda: {
        db.session.get(Job, i).status for i in ids} == {JobStatus.DONE}
        and mail.backlog() == 0)
    with after.app_context():
        assert db.session.get(Job, ids[0]).attempts == 2


def test_without_the_background_thread_jobs_wait_for_the_worker(standalone):
    app = standalone()
    with app.app_context():
        job_id = jobs.enqueue("staff_digest").id
        db.session.commit()
    app.test_client().get("/healthz")  # a request starts no thread: JOBS_BACKGROUND is off
    runner = app.extensions.get("consult_runner")
    assert runner is None or runner.thread is None
    with app.app_context():
        assert db.session.get(Job, job_id).status == JobStatus.QUEUED
