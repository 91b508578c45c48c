"""What staff see of jobs: /staff/jobs (their units' failed jobs; admins all), one job's
progress and error, retrying a failed job."""

from __future__ import annotations

import pytest

from consult.audit import AuditEvent
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import Job, JobStatus


@pytest.fixture
def failed(make):
    """A failed group-suggestion job of unit A, a failed scheduled job, and people."""
    consultation = make.consultation("closed", title="甲单位的征集")
    editor = make.user("editor", consultation.unit)
    job = jobs.enqueue("suggest_groups", {}, actor=editor, consultation=consultation,
                       dedupe_key=f"suggest_groups:{consultation.id}")
    job.status, job.attempts, job.active_key = JobStatus.FAILED, 5, None
    job.last_error = "ConnectionError: <b>数据库连接中断</b>"
    digest = jobs.enqueue("staff_digest", dedupe_key="staff_digest")
    digest.status, digest.last_error, digest.active_key = JobStatus.FAILED, "digest 失败", None
    db.session.flush()
    return job, digest, consultation, editor


def test_unit_staff_see_their_units_failed_jobs_and_admins_see_all(client_as, make, failed):
    job, digest, consultation, editor = failed
    html = client_as(editor).get("/staff/jobs").get_data(as_text=True)
    assert f"/staff/jobs/{job.id}" in html and "甲单位的征集" in html
    assert "&lt;b&gt;数据库连接中断" in html and "<b>数据库" not in html
    assert f"/staff/jobs/{digest.id}" not in html  # no unit: admins only
    stranger = make.user("approver", make.unit("乙单位"))
    html = client_as(stranger).get("/staff/jobs").get_data(as_text=True)
    assert f"/staff/jobs/{job.id}" not in html and "没有符合条件的任务" in html
    admin = make.user(admin=True)
    html = client_as(admin).get("/staff/jobs").get_data(as_text=True)
    assert f"/staff/jobs/{job.id}" in html and f"/staff/jobs/{digest.id}" in html
    dashboard = client_as(editor).get("/staff").get_data(as_text=True)
    assert "后台任务" in dashboard and "1 个失败" in dashboard


def test_the_list_filters_by_status(client_as, failed):
    job, _digest, consultation, editor = failed
    running = jobs.enqueue("report_preview", {}, actor=editor, consultation=consultation)
    client = client_as(editor)
    assert f"/staff/jobs/{running.id}" not in client.get("/staff/jobs").get_data(as_text=True)
    html = client.get("/staff/jobs?status=active").get_data(as_text=True)
    assert f"/staff/jobs/{running.id}" in html and f"/staff/jobs/{job.id}" not in html
    html = client.get("/staff/jobs?status=all").get_data(as_text=True)
    assert f"/staff/jobs/{running.id}" in html and f"/staff/jobs/{job.id}" in html
    assert client.get("/staff/jobs?status=<script>").status_code == 200  # unknown: failed


def test_a_running_job_shows_a_progress_bar_and_the_page_refreshes_itself(client_as, failed):
    _job, _digest, consultation, editor = failed
    running = jobs.enqueue("report_preview", {}, actor=editor, consultation=consultation)
    running.status, running.progress, running.progress_text = JobStatus.RUNNING, 42, "统计意见"
    db.session.flush()
    html = client_as(editor).get(f"/staff/jobs/{running.id}").get_data(as_text=True)
    assert '<progress id="job-' in html and 'value="42"' in html and "统计意见" in html
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "重新排队" not in html


def test_a_failed_job_shows_its_error_and_staff_retry_it(client_as, post_form, failed):
    job, _digest, _consultation, editor = failed
    client = client_as(editor)
    page = f"/staff/jobs/{job.id}"
    html = client.get(page).get_data(as_text=True)
    assert "失败原因" in html and "&lt;b&gt;数据库连接中断" in html and "重新排队" in html
    assert 'http-equiv="refresh"' not in html
    response = post_form(client, f"/staff/jobs/{job.id}/retry", {}, page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    assert db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "retry_job", AuditEvent.actor_id == editor.id))
    again = post_form(client, f"/staff/jobs/{job.id}/retry", {}, page=page)
    assert again.status_code == 409  # queued already


def test_retrying_takes_the_permission_the_work_takes(client_as, make, post_form, failed):
    job, digest, consultation, editor = failed
    publish = jobs.enqueue("publish_report", {"summary": "s"}, actor=editor,
                           consultation=consultation)
    publish.status, publish.active_key = JobStatus.FAILED, None
    db.session.flush()
    client = client_as(editor)  # editors do not publish reports
    page = f"/staff/jobs/{publish.id}"
    assert "重新排队" not in client.get(page).get_data(as_text=True)
    assert post_form(client, f"/staff/jobs/{publish.id}/retry", {}, page=page).status_code == 403
    assert client.get(f"/staff/jobs/{digest.id}").status_code == 403  # admins only
    assert publish.status == JobStatus.FAILED


def test_job_pages_refuse_strangers_anonymous_users_and_forged_csrf(client, client_as, make,
                                                                    failed):
    job, _digest, _consultation, editor = failed
    stranger = client_as(make.user("approver", make.unit("乙单位")))
    assert stranger.get(f"/staff/jobs/{job.id}").status_code == 403
    response = client.get(f"/staff/jobs/{job.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    forged = client_as(editor).post(f"/staff/jobs/{job.id}/retry", data={"csrf_token": "x"})
    assert forged.status_code == 400
    assert client_as(editor).get("/staff/jobs/999999").status_code == 404
    assert db.session.get(Job, job.id).status == JobStatus.FAILED
