"""Bulk data (F21): consultations, comments (masked, answers once the report is out) and
policies as CSV and XLSX, streamed; nothing that is not public, no contact data."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from consult import clock
from consult.answers.services import publish_report
from consult.comments.models import CommentStatus
from consult.consultations.models import State
from consult.extensions import db
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


def test_policies_xlsx(client, world):
    response = client.get("/data/policies.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    data = response.get_data()
    response.close()  # streamed from a temporary file
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    values = list(workbook.active.iter_rows(values_only=True))
    assert [row[1] for row in values[1:]] == ["已发布的政策"]
    assert values[1][2] == "郑政〔2026〕9号"


def test_comments_xlsx_matches_the_csv(client, world):
    csv_rows = read_csv(client.get("/data/comments.csv"))
    response = client.get("/data/comments.xlsx")
    data = response.get_data()
    response.close()
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    xlsx_rows = [["" if v is None else str(v) for v in row]
                 for row in workbook.active.iter_rows(values_only=True)]
    assert xlsx_rows == csv_rows


def test_unknown_tables_and_formats_are_404(client):
    assert client.get("/data/users.csv").status_code == 404
    assert client.get("/data/comments.json").status_code == 404


def test_the_data_page_lists_the_downloads(client, world):
    page = client.get("/data").get_data(as_text=True)
    assert "/data/comments.csv" in page and "/data/policies.xlsx" in page
