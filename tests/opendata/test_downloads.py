"""Bulk data (F21): consultations, comments (masked, answers once the report is out) and
policies as CSV (streamed) and XLSX (snapshots built by the worker, served with their ETag and
Last-Modified, rebuilt when stale and changed); nothing that is not public, no contact data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from consult import clock
from consult.answers.services import publish_report
from consult.comments.models import CommentStatus
from consult.consultations.models import State
from consult.errors import ConsultError
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs.models import BuiltFile, Job, JobStatus
from consult.opendata import files
from consult.policies.models import Policy


@pytest.fixture
def world(make, unit, approver):
    open_c = make.consultation(State.OPEN, unit, title="公开征集的办法")
    make.comment(open_c, body="我的电话13800138000，建议延长期限。", email="me@example.org",
                 phone="13800138000")
    make.comment(open_c, body="不予公开的意见", status=CommentStatus.HIDDEN)
    make.comment(open_c, body="=HYPERLINK(\"http://evil.example\")")
    reported = make.consultation(State.CLOSED, unit, title="已反馈的办法")
    answered = make.comment(reported, body="建议采纳的意见。")
    make.answer(answered, "not_adopted", "已有相关规定。")
    publish_report(reported, summary="共1条。", actor=approver)
    unanswered_yet = make.consultation(State.CLOSED, unit, title="答复中的办法")
    pending = make.comment(unanswered_yet, body="答复尚未公布的意见。")
    make.answer(pending, "adopted", None)
    make.consultation(State.DRAFT, unit, title="草稿不公开")
    db.session.add(Policy(unit=unit, title="已发布的政策", document_number="郑政〔2026〕9号",
                          issued_on=date(2026, 1, 5), text="正文", published_at=clock.now()))
    db.session.add(Policy(unit=unit, title="未发布的政策", document_number="郑政〔2026〕10号",
                          issued_on=date(2026, 1, 6), text="正文"))
    db.session.flush()
    return locals()


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=False).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_consultations_csv(client, world):
    response = client.get("/data/consultations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert response.get_data().startswith("\ufeff".encode())
    rows = read_csv(response)
    titles = {row[1] for row in rows[1:]}
    assert titles == {"公开征集的办法", "已反馈的办法", "答复中的办法"}
    assert all(row[-1].startswith("http://consult.test/consultations/") for row in rows[1:])


def test_comments_are_masked_answered_only_after_the_report(client, world):
    rows = read_csv(client.get("/data/comments.csv"))
    header, body = rows[0], rows[1:]
    texts = [row[8] for row in body]
    assert not any("13800138000" in t for t in texts)
    assert not any("不予公开" in t for t in texts)
    everything = "\n".join(",".join(row) for row in rows)
    assert "me@example.org" not in everything
    by_text = {row[8]: row for row in body}
    assert by_text["建议采纳的意见。"][10] == "不予采纳" or by_text["建议采纳的意见。"][10]
    assert by_text["建议采纳的意见。"][11] == "已有相关规定。"
    assert by_text["答复尚未公布的意见。"][10] == ""  # the report is not out yet
    formula = next(t for t in texts if "HYPERLINK" in t)
    assert formula.startswith("'=")
    assert len(header) == 12


def test_one_consultations_comments(client, world):
    c = world["reported"]
    rows = read_csv(client.get(f"/data/comments.csv?consultation={c.id}"))
    assert [row[8] for row in rows[1:]] == ["建议采纳的意见。"]
    draft = db.session.scalar(db.select(type(c)).where(type(c).title == "草稿不公开"))
    assert client.get(f"/data/comments.csv?consultation={draft.id}").status_code == 404
    assert client.get("/data/comments.csv?consultation=abc").status_code == 400


def run_data_jobs() -> int:
    """Run the queued builds of /data files (the world's report files are left queued)."""
    queued = db.session.scalars(db.select(Job.id).where(
        Job.kind == files.JOB_KIND, Job.status == JobStatus.QUEUED)).all()
    for job_id in queued:
        jobs.run_one(job_id)
    return len(queued)


def xlsx(client, url: str, **headers):
    """The XLSX at `url`, built by the worker first if need be; (response, rows)."""
    response = client.get(url, headers=headers)
    if response.status_code == 202:
        assert run_data_jobs() == 1
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return response, list(workbook.active.iter_rows(values_only=True))


def test_policies_xlsx(client, world):
    response, values = xlsx(client, "/data/policies.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert [row[1] for row in values[1:]] == ["已发布的政策"]
    assert values[1][2] == "郑政〔2026〕9号"


def test_comments_xlsx_matches_the_csv(client, world):
    csv_rows = read_csv(client.get("/data/comments.csv"))
    _response, values = xlsx(client, "/data/comments.xlsx")
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in values]
    assert xlsx_rows == csv_rows


def test_the_first_download_waits_for_the_worker_then_gets_the_file(client, world):
    first = client.get("/data/consultations.xlsx")
    assert first.status_code == 202 and int(first.headers["Retry-After"]) > 0
    assert first.headers["Cache-Control"] == "no-store"
    page = first.get_data(as_text=True)
    assert "正在生成" in page and 'http-equiv="refresh"' in page
    assert client.get("/data/consultations.xlsx").status_code == 202  # the same job
    assert db.session.scalar(db.select(db.func.count(Job.id))
                             .where(Job.kind == files.JOB_KIND)) == 1
    assert run_data_jobs() == 1
    response = client.get("/data/consultations.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=consultations.xlsx"
    assert response.headers["ETag"] and response.last_modified is not None
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    rows = list(load_workbook(io.BytesIO(response.data), read_only=True).active
                .iter_rows(values_only=True))
    assert {row[1] for row in rows[1:]} == {"公开征集的办法", "已反馈的办法", "答复中的办法"}
    again = client.get("/data/consultations.xlsx", headers={"If-None-Match":
                                                             response.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    assert run_data_jobs() == 0  # a current file asks for nothing


def test_changed_data_is_in_the_next_snapshot_once_the_file_is_stale(client, world, unit,
                                                                      travel):
    first, rows = xlsx(client, "/data/policies.xlsx")
    db.session.add(Policy(unit=unit, title="新发布的政策", document_number="郑政〔2026〕11号",
                          issued_on=date(2026, 2, 1), text="正文", published_at=clock.now()))
    db.session.flush()
    # within the hour: the snapshot is served as it is, and no build is asked for
    within = client.get("/data/policies.xlsx")
    assert within.headers["ETag"] == first.headers["ETag"] and run_data_jobs() == 0
    travel(clock.now() + files.max_age() + timedelta(minutes=1))
    stale = client.get("/data/policies.xlsx")  # served at once, a new build asked for
    assert stale.status_code == 200 and stale.headers["ETag"] == first.headers["ETag"]
    assert run_data_jobs() == 1
    fresh, rows = xlsx(client, "/data/policies.xlsx")
    assert fresh.headers["ETag"] != first.headers["ETag"]
    assert fresh.last_modified > first.last_modified
    assert sorted(row[1] for row in rows[1:]) == ["已发布的政策", "新发布的政策"]
    assert db.session.scalar(db.select(db.func.count(BuiltFile.id))
                             .where(BuiltFile.dataset == "policies")) == 1


def test_unchanged_data_keeps_its_snapshot_and_etag(client, world, travel):
    first, _rows = xlsx(client, "/data/policies.xlsx")
    travel(clock.now() + files.max_age() + timedelta(minutes=1))
    assert client.get("/data/policies.xlsx").status_code == 200
    assert run_data_jobs() == 1  # the rows were written again: the same
    after = client.get("/data/policies.xlsx")
    assert after.headers["ETag"] == first.headers["ETag"]
    assert after.last_modified == first.last_modified
    assert run_data_jobs() == 0  # found current: no build for another hour


def test_one_consultations_comments_xlsx(client, world):
    c = world["reported"]
    _response, rows = xlsx(client, f"/data/comments.xlsx?consultation={c.id}")
    assert [row[8] for row in rows[1:]] == ["建议采纳的意见。"]
    built = db.session.scalar(db.select(BuiltFile).where(BuiltFile.dataset == f"comments-{c.id}"))
    assert built is not None and built.stamp and built.size == len(built.data)


def test_each_language_has_its_own_file(client, world):
    _response, chinese = xlsx(client, "/data/policies.xlsx")
    _response, english = xlsx(client, "/data/policies.xlsx?lang=en")
    assert chinese[0][0] == "编号" and english[0][0] != "编号"
    assert chinese[1:] != [] and [r[1] for r in english[1:]] == [r[1] for r in chinese[1:]]


def test_a_failed_build_waits_for_staff(client, world, monkeypatch):
    def broken(dataset, locale):
        raise ConsultError("no space left")

    monkeypatch.setattr(files, "render", broken)
    assert client.get("/data/policies.xlsx").status_code == 202
    assert run_data_jobs() == 1
    job = db.session.scalar(db.select(Job).where(Job.kind == files.JOB_KIND))
    assert job.status == JobStatus.FAILED
    response = client.get("/data/policies.xlsx")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 60
    assert "暂时无法生成" in response.get_data(as_text=True)
    assert run_data_jobs() == 0  # no second build until staff retry (or the pause is over)


def test_unknown_tables_and_formats_are_404(client):
    assert client.get("/data/users.csv").status_code == 404
    assert client.get("/data/comments.json").status_code == 404


def test_the_data_page_lists_the_downloads_and_how_current_they_are(client, world):
    page = client.get("/data").get_data(as_text=True)
    assert "/data/comments.csv" in page and "/data/policies.xlsx" in page
    assert "至多每 60 分钟更新一次" in page
    assert "XLSX 数据截至" not in page
    xlsx(client, "/data/policies.xlsx")
    assert client.get("/data").get_data(as_text=True).count("XLSX 数据截至") == 1
