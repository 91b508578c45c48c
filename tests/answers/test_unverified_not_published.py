"""Finding 2 (issue 9): with e-mail verification on, an unverified comment's text and claimed
name are published nowhere — not in the report (page, CSV, XLSX, PDF's HTML, JSON), not on the
consultation page, not on its receipt or in the API — as the receipt promised. It still counts.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from consult.answers import exports
from consult.answers.services import publish_report
from consult.comments.models import Category, CommentStatus
from consult.comments.services import CommentInput, public_text, submit_comment
from consult.consultations.models import Verification
from consult.extensions import db
from consult.jobs import queue

CLAIMED = "李四（某公司）"
TEXT = "我代表某公司强烈反对第三条，全体员工都签了名。"


@pytest.fixture
def reported(make, travel):
    """An e-mail-verified consultation with one verified and one unverified comment, and a
    published report."""
    c = make.consultation("open", verification=Verification.EMAIL)
    verified = make.comment(c, body="建议第二条增加听证程序。", display_name="王五",
                            publish_name=True, email="wang@example.org",
                            verified_at=c.opens_at)
    make.answer(verified, "adopted", None)
    impostor, _created = submit_comment(c, CommentInput(
        body=TEXT, category=Category.ENTERPRISE, display_name=CLAIMED, publish_name=True,
        email="victim@example.org"))
    assert impostor.status == CommentStatus.UNVERIFIED
    travel(c.closes_at + timedelta(days=1))
    report = publish_report(c, summary="", actor=make.user("approver", c.unit))
    db.session.commit()
    return c, report, impostor, verified


def _item(report, tracking_no):
    return next(i for i in report.content["items"] if i["tracking_no"] == tracking_no)


def test_the_frozen_report_carries_no_text_or_name_of_an_unverified_comment(reported):
    _c, report, impostor, verified = reported
    item = _item(report, impostor.tracking_no)
    assert item["visibility"] == "unverified"
    assert item["text"] is None and item["name"] is None
    assert report.content["totals"]["unverified"] == 1  # still counted
    assert _item(report, verified.tracking_no)["name"] == "王五"
    frozen = json.dumps(report.content, ensure_ascii=False)
    assert CLAIMED not in frozen and TEXT not in frozen


@pytest.mark.parametrize("path", [
    "/consultations/{id}/report", "/consultations/{id}/report.csv",
    "/api/v1/consultations/{id}/report", "/consultations/{id}",
    "/api/v1/consultations/{id}/comments", "/receipts/{no}", "/api/v1/receipts/{no}",
])
def test_no_public_page_or_download_shows_them(client, reported, path):
    c, _report, impostor, _verified = reported
    response = client.get(path.format(id=c.id, no=impostor.tracking_no))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    if response.is_json:
        body = json.dumps(response.get_json(), ensure_ascii=False)
    assert CLAIMED not in body and TEXT not in body
    assert "某公司" not in body


def test_nor_the_xlsx_or_the_pdf_layout(app, client, reported):
    from openpyxl import load_workbook

    c, report, _impostor, _verified = reported
    response = client.get(f"/consultations/{c.id}/report.xlsx")
    if response.status_code == 202:  # the worker builds it first
        queue.run_due()
        response = client.get(f"/consultations/{c.id}/report.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    cells = [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for v in row if v is not None]
    assert not any(CLAIMED in v or TEXT in v for v in cells)
    html = exports.report_html(report.content)
    assert CLAIMED not in html and TEXT not in html
    assert "未验证" in html


def test_the_receipt_says_the_text_waits_for_verification(client, make):
    c = make.consultation("open", verification=Verification.EMAIL)
    comment, _created = submit_comment(c, CommentInput(
        body=TEXT, category=Category.INDIVIDUAL, display_name=CLAIMED, publish_name=True,
        email="someone@example.org"))
    db.session.commit()
    assert public_text(comment) is None and comment.public_name is None
    page = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert TEXT not in page and CLAIMED not in page
    assert "验证" in page
    data = client.get(f"/api/v1/receipts/{comment.tracking_no}").get_json()
    assert data["status"] == "unverified" and data["text"] is None and data["name"] is None
