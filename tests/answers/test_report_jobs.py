"""Slow work of the answers domain as jobs: the group detector, large report previews and
publication, and the report's PDF/XLSX built once per revision and served from the database."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from consult import clock
from consult.answers import groups as groups_service
from consult.answers import jobs as answer_jobs
from consult.answers.models import CommentGroup, Report
from consult.answers.services import publish_report, published_report
from consult.comments.models import CommentStatus
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import BuiltFile, Job, JobStatus
from consult.mail import OutboxMessage
from consult.permissions import Role

LETTER = ("我们坚决反对在小区内增设收费停车位。小区道路狭窄，增设车位将堵塞消防通道，"
          "建议保留现有的免费停车位，并由业主大会决定停车收费事宜。")


@pytest.fixture
def large(app, make, monkeypatch):
    """A closed consultation whose report counts as large (REPORT_JOB_MIN_COMMENTS = 3), every
    comment answered."""
    monkeypatch.setitem(app.config, "REPORT_JOB_MIN_COMMENTS", 3)
    c = make.consultation("closed", title="大型征集")
    approver = make.user("approver", c.unit)
    for n in range(4):
        make.answer(make.comment(c, body=f"第{n}条意见", email=f"c{n}@example.org",
                                 notify=True), "not_adopted", "已有规定。")
    return c, approver


def _jobs(kind: str) -> list[Job]:
    return db.session.scalars(db.select(Job).where(Job.kind == kind).order_by(Job.id)).all()


# --- group suggestions -------------------------------------------------------------------------


def test_the_detector_reports_progress_and_skips_comments_hidden_meanwhile(make, monkeypatch):
    c = make.consultation("closed")
    editor = make.user("editor", c.unit)
    letters = [make.comment(c, body=LETTER + "！" * n) for n in range(3)]
    job = answer_jobs.queue_suggestions(c, actor=editor)
    seen: list[int] = []
    real_progress = jobs.JobContext.progress

    def progress(self, percent, text=None):
        seen.append(int(percent))
        if len(seen) == 2:  # while the detector runs, a moderator hides one letter
            letters[0].status = CommentStatus.HIDDEN
            db.session.flush()
        real_progress(self, percent, text)

    monkeypatch.setattr(jobs.JobContext, "progress", progress)
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)
    assert jobs.run_one().status == JobStatus.DONE
    assert seen == sorted(seen) and seen[0] <= 5 and seen[-1] >= 90
    group = db.session.scalar(db.select(CommentGroup))
    assert letters[0].group_id is None and {m.id for m in group.members} == {
        letters[1].id, letters[2].id}
    assert job.result == {"groups": 1, "comments": 2, "looked_at": 3}


def test_the_detector_job_fails_at_once_when_the_report_is_out(make):
    c = make.consultation("closed")
    editor = make.user("editor", c.unit)
    make.answer(make.comment(c, body=LETTER), "adopted", None)
    job = answer_jobs.queue_suggestions(c, actor=editor)
    publish_report(c, summary="s", actor=make.user("approver", c.unit))
    jobs.run_one(job.id)
    assert job.status == JobStatus.FAILED and job.attempts == 1
    assert "报告已发布" in job.last_error


def test_the_detector_job_refuses_someone_who_lost_the_role(make):
    c = make.consultation("closed")
    editor = make.user("editor", c.unit)
    make.comment(c, body=LETTER)
    job = answer_jobs.queue_suggestions(c, actor=editor)
    editor.memberships[0].role = Role.LEGAL_REVIEWER
    db.session.flush()
    jobs.run_one(job.id)
    assert job.status == JobStatus.FAILED and "已无权" in job.last_error
    assert db.session.scalar(db.select(CommentGroup)) is None


def test_asking_twice_queues_the_detector_once(client_as, make, post_form):
    c = make.consultation("closed")
    client = client_as(make.user("editor", c.unit))
    page = f"/staff/consultations/{c.id}/groups"
    for _ in range(2):
        assert post_form(client, f"{page}/suggest", {}, page=page).status_code == 302
    assert len(_jobs("suggest_groups")) == 1


def test_the_detector_is_not_queued_once_the_report_is_out(client_as, make, post_form):
    c = make.consultation("closed")
    make.answer(make.comment(c), "adopted", None)
    approver = make.user("approver", c.unit)
    publish_report(c, summary="s", actor=approver)
    page = f"/staff/consultations/{c.id}/groups"
    response = post_form(client_as(approver), f"{page}/suggest", {}, page=page)
    assert response.status_code == 409 and _jobs("suggest_groups") == []


# --- large reports -----------------------------------------------------------------------------


def test_a_large_reports_preview_is_built_by_a_job(client_as, post_form, large):
    c, approver = large
    client = client_as(approver)
    page = f"/staff/consultations/{c.id}/report"
    html = client.get(page).get_data(as_text=True)
    assert "生成报告预览" in html and "收到意见" not in html  # nothing built in the request
    response = post_form(client, f"{page}/preview", {}, page=page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "<progress" in html and 'http-equiv="refresh"' in html and "排队中" in html
    assert jobs.run_due() == 1
    html = client.get(page).get_data(as_text=True)
    assert "预览生成于" in html and "更新报告预览" in html and 'http-equiv="refresh"' not in html
    [preview] = _jobs("report_preview")
    assert preview.result["totals"]["received"] == 4
    assert preview.result["totals"]["by_disposition"]["not_adopted"] == 4


def test_a_large_report_is_published_by_a_job_that_shows_its_progress(client_as, post_form,
                                                                      large):
    c, approver = large
    client = client_as(approver)
    page = f"/staff/consultations/{c.id}/report"
    response = post_form(client, page, {"summary": "共收到意见4条。"}, page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert published_report(c) is None  # not within the request
    html = client.get(page).get_data(as_text=True)
    assert "报告正在后台生成" in html and "<progress" in html
    assert "发布采纳情况报告</button>" not in html
    again = post_form(client, page, {"summary": "再点一次。"}, page=page)
    assert again.status_code == 302 and len(_jobs("publish_report")) == 1  # the same job
    assert jobs.run_one().kind == "publish_report"
    [job] = _jobs("publish_report")
    report = published_report(c)
    assert job.status == JobStatus.DONE and job.result["report_id"] == report.id
    assert report.summary == "共收到意见4条。" and report.published_by == approver
    assert report.content["totals"]["received"] == 4
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "report_published")) == 4
    assert {j.args["format"] for j in _jobs("report_file")} == {"pdf", "xlsx"}
    assert "报告已发布" in client.get(page).get_data(as_text=True)


def test_a_large_report_with_open_items_is_refused_at_once(client_as, post_form, make, large):
    c, approver = large
    make.comment(c, body="还没有答复")
    page = f"/staff/consultations/{c.id}/report"
    client = client_as(approver)
    response = post_form(client, page, {"summary": "s"}, page=page)
    assert response.status_code == 409 and _jobs("publish_report") == []
    assert "生成报告预览" not in response.get_data(as_text=True)
    response = post_form(client, f"{page}/preview", {}, page=page)
    assert response.status_code == 409 and _jobs("report_preview") == []


def test_a_preview_job_fails_cleanly_if_a_comment_arrived_after_it_was_queued(make, large):
    c, approver = large
    job = answer_jobs.queue_preview(c, actor=approver)
    make.comment(c, body="补录的信函")
    jobs.run_one(job.id)
    assert job.status == JobStatus.FAILED and "暂不能生成报告预览" in job.last_error


def test_a_publication_job_refuses_an_approver_who_lost_the_role(large):
    c, approver = large
    job = answer_jobs.queue_publication(c, summary="s", actor=approver)
    approver.memberships[0].role = Role.EDITOR
    db.session.flush()
    jobs.run_one(job.id)
    assert job.status == JobStatus.FAILED and "已无权" in job.last_error
    assert published_report(c) is None


def test_a_publication_job_rerun_after_its_worker_died_is_done_not_failed(large):
    c, approver = large
    job = answer_jobs.queue_publication(c, summary="s", actor=approver)
    publish_report(c, summary="s", actor=approver)  # what the dead worker had committed
    jobs.run_one(job.id)
    assert job.status == JobStatus.DONE and job.result["report_id"] == published_report(c).id
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 1


# --- downloads built by jobs -------------------------------------------------------------------


@pytest.fixture
def reported(make):
    c = make.consultation("closed", title="报告下载")
    approver = make.user("approver", c.unit)
    make.answer(make.comment(c, body="建议延长公示期。"), "adopted", None)
    publish_report(c, summary="第一版", actor=approver)
    return c, approver


def test_a_download_before_its_build_says_it_is_being_prepared(client, reported):
    c, _approver = reported
    response = client.get(f"/consultations/{c.id}/report.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 202 and response.headers["Retry-After"] == "10"
    assert response.headers["Cache-Control"] == "no-store"
    assert "文件正在生成" in html and '<meta http-equiv="refresh" content="10">' in html
    assert f"/consultations/{c.id}/report.csv" in html
    assert db.session.scalar(db.select(BuiltFile)) is None  # nothing built in the request
    client.get(f"/consultations/{c.id}/report.xlsx")
    assert len(_jobs("report_file")) == 2  # the publication queued pdf and xlsx, once


def test_each_file_is_built_once_and_served_from_the_database(client, reported, monkeypatch):
    c, _approver = reported
    assert jobs.run_due() == 2
    from consult.answers import exports

    def no_build(*args, **kwargs):
        raise AssertionError("a download built the file again")

    monkeypatch.setattr(exports, "report_xlsx", no_build)
    monkeypatch.setattr(exports, "report_pdf", no_build)
    for _ in range(2):
        response = client.get(f"/consultations/{c.id}/report.xlsx")
        assert response.status_code == 200 and response.data.startswith(b"PK")
    stored = db.session.scalar(db.select(BuiltFile).where(BuiltFile.format == "xlsx"))
    assert stored.data == response.data and stored.size == len(response.data)
    assert "report-r1.xlsx" in response.headers["Content-Disposition"]
    again = client.get(f"/consultations/{c.id}/report.xlsx",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert len(_jobs("report_file")) == 2


def test_a_new_revision_is_built_anew_and_the_old_files_go(client, reported, make):
    from openpyxl import load_workbook

    c, approver = reported
    jobs.run_due()
    old = {f.id for f in db.session.scalars(db.select(BuiltFile))}
    late = make.comment(c, body="补录的信函意见", status=CommentStatus.UNVERIFIED)
    publish_report(c, summary="第二版", actor=approver, correction_note="补录一条信函意见。")
    assert client.get(f"/consultations/{c.id}/report.xlsx").status_code == 202
    jobs.run_due()
    files = db.session.scalars(db.select(BuiltFile)).all()
    assert len(files) == 2 and not old & {f.id for f in files}
    response = client.get(f"/consultations/{c.id}/report.xlsx")
    assert response.status_code == 200 and "report-r2.xlsx" in response.headers[
        "Content-Disposition"]
    cells = [str(v) for row in load_workbook(io.BytesIO(response.data))["意见及答复"]
             .iter_rows(values_only=True) for v in row if v is not None]
    # Recorded after the first revision: in the second only (unverified: its number, no text).
    assert late.tracking_no in cells and "补录的信函意见" not in cells


def test_another_language_is_built_on_its_first_download(client, reported):
    from openpyxl import load_workbook

    c, _approver = reported
    jobs.run_due()
    url = f"/consultations/{c.id}/report.xlsx?lang=en"
    assert client.get(url).status_code == 202
    [job] = [j for j in _jobs("report_file") if j.args["locale"] == "en"]
    assert client.get(url).status_code == 202 and len(_jobs("report_file")) == 3
    jobs.run_due()
    response = client.get(url)
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.data)).sheetnames[0] == "Comments and responses"
    assert job.status == JobStatus.DONE


def test_a_failing_build_is_retried_then_shown_to_staff_and_downloads_say_so(
        client, client_as, reported, monkeypatch, app):
    c, approver = reported
    from consult.answers import exports

    def broken(content):
        raise MemoryError("out of memory")

    monkeypatch.setattr(exports, "report_xlsx", broken)
    monkeypatch.setitem(app.config, "JOB_MAX_ATTEMPTS", 2)
    [job] = [j for j in _jobs("report_file") if j.args["format"] == "xlsx"]
    job.max_attempts = 2
    jobs.run_due()
    assert job.status == JobStatus.QUEUED and "MemoryError" in job.last_error
    clock.freeze(job.next_attempt_at)
    jobs.run_due()
    assert job.status == JobStatus.FAILED
    response = client.get(f"/consultations/{c.id}/report.xlsx")
    assert response.status_code == 503 and response.headers["Retry-After"] == "600"
    assert "暂时无法生成" in response.get_data(as_text=True)
    assert len(_jobs("report_file")) == 2  # not queued again at once
    html = client_as(approver).get("/staff/jobs").get_data(as_text=True)
    assert f"/staff/jobs/{job.id}" in html and "MemoryError" in html
    clock.freeze(clock.now() + timedelta(hours=2))  # later, a download asks again
    assert client.get(f"/consultations/{c.id}/report.xlsx").status_code == 202
    assert len(_jobs("report_file")) == 3


def test_a_busy_database_makes_a_download_ask_again_soon_not_fail(client, reported,
                                                                  monkeypatch):
    from sqlalchemy.exc import OperationalError

    from consult.answers import files

    def busy(*args, **kwargs):
        raise OperationalError("INSERT INTO jobs ...", {}, Exception("database is locked"))

    c, _approver = reported
    monkeypatch.setattr(files, "request_build", busy)
    response = client.get(f"/consultations/{c.id}/report.pdf?lang=en")
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert '<meta http-equiv="refresh" content="10">' in response.get_data(as_text=True)


def test_groups_service_still_suggests_inline(make):
    """The service the job splits in three still works in one call (CLI, tests)."""
    c = make.consultation("closed")
    editor = make.user("editor", c.unit)
    letters = [make.comment(c, body=LETTER), make.comment(c, body=LETTER + "。")]
    [group] = groups_service.suggest_groups(c, actor=editor)
    assert {m.id for m in group.members} == {letter.id for letter in letters}
