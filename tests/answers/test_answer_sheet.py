"""The answering sheet: export as XLSX, fill offline, upload, preview with row errors, apply."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from openpyxl import Workbook, load_workbook

from consult.answers import groups as groups_service
from consult.answers.models import AnswerSheetImport, DispositionCode
from consult.answers.services import publish_report
from consult.audit import AuditEvent
from consult.comments.models import CommentStatus, HiddenReason
from consult.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def consultation(make, unit):
    return make.consultation("closed", unit=unit, title="扬尘污染防治办法（征求意见稿）")


def _sheet_url(c):
    return f"/staff/consultations/{c.id}/answers.xlsx"


def _download(client, c):
    response = client.get(_sheet_url(c))
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def _columns(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def _rows(sheet) -> dict[str, int]:
    """Key (编号) -> row number."""
    return {sheet.cell(row=r, column=1).value: r for r in range(2, sheet.max_row + 1)}


def _fill(workbook, key, label, reason=None):
    sheet = workbook["答复"]
    cols, rows = _columns(sheet), _rows(sheet)
    sheet.cell(row=rows[key], column=cols["采纳情况（请选择）"], value=label)
    sheet.cell(row=rows[key], column=cols["理由（请填写）"], value=reason)


def _bytes(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(client, c, data: bytes, name="答复表.xlsx"):
    url = f"/staff/consultations/{c.id}/answers/import"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def comments(make, consultation, editor):
    first = make.comment(consultation, article=1, body="=HYPERLINK(\"http://evil\")建议")
    second = make.comment(consultation, article=2, body="建议增加洒水频次。")
    answered = make.comment(consultation, body="建议公开处罚信息。")
    make.answer(answered, "already_provided", "第九条已有规定。", by=editor)
    hidden = make.comment(consultation, body="广告", status=CommentStatus.HIDDEN,
                          hidden_reason=HiddenReason.SPAM)
    letters = [make.comment(consultation, article=3, body="同一封意见书") for _ in range(3)]
    group = groups_service.group_comments(consultation, letters, actor=editor)
    return {"first": first, "second": second, "answered": answered, "hidden": hidden,
            "letters": letters, "group": group}


def test_the_sheet_has_a_row_per_comment_or_group_and_a_dropdown(client_as, editor,
                                                                 consultation, comments):
    response = client_as(editor).get(_sheet_url(consultation))
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook["答复"]
    cols, rows = _columns(sheet), _rows(sheet)
    assert list(cols)[:3] == ["编号", "类型", "条数"]
    group_key = f"组{comments['group'].id}"
    assert set(rows) == {comments["first"].tracking_no, comments["second"].tracking_no,
                         comments["answered"].tracking_no, group_key}  # no hidden comment
    group_row = rows[group_key]
    assert sheet.cell(row=group_row, column=cols["条数"]).value == 3
    assert sheet.cell(row=group_row, column=cols["条款"]).value == "第三条"
    answered_row = rows[comments["answered"].tracking_no]
    assert sheet.cell(row=answered_row, column=cols["当前采纳情况"]).value == "已有规定"
    assert sheet.cell(row=answered_row, column=cols["当前理由"]).value == "第九条已有规定。"
    # the to-fill columns are blank
    for r in rows.values():
        assert sheet.cell(row=r, column=cols["采纳情况（请选择）"]).value is None
    # a formula-looking comment stays text
    text = sheet.cell(row=rows[comments["first"].tracking_no], column=cols["意见原文"])
    assert text.data_type == "s" and text.value.startswith("'=HYPERLINK")
    # a dropdown of the five dispositions on the disposition column
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1
    assert validations[0].formula1 == '"采纳,部分采纳,不予采纳,已有规定,不属于本次征求意见范围"'
    letter = sheet.cell(row=1, column=cols["采纳情况（请选择）"]).column_letter
    assert f"{letter}2" in str(validations[0].sqref)


def test_round_trip_preview_then_apply(client_as, editor, consultation, comments):
    client = client_as(editor)
    workbook = _download(client, consultation)
    _fill(workbook, comments["first"].tracking_no, "采纳")
    _fill(workbook, comments["second"].tracking_no, "部分采纳", "将在第二条中增加洒水要求。")
    _fill(workbook, comments["answered"].tracking_no, "已有规定", "第九条已有规定。")  # same
    # a reason that starts like a formula (a dash list) stays text all the way
    _fill(workbook, f"组{comments['group'].id}", "不予采纳", "-与上位法不一致")
    response = _upload(client, consultation, _bytes(workbook))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    html = client.get(preview_url).get_data(as_text=True)
    assert "新答复" in html and "3 行" in html  # first, second, the group
    assert "确认导入 3 行答复" in html
    assert comments["first"].disposition is None  # nothing applied yet

    token = csrf_from(html)
    response = client.post(urlsplit(preview_url).path + "/apply", data={"csrf_token": token})
    assert response.status_code == 302
    assert comments["first"].disposition.code == DispositionCode.ADOPTED
    assert comments["second"].disposition.reason == "将在第二条中增加洒水要求。"
    for letter in comments["letters"]:
        assert letter.disposition.code == DispositionCode.NOT_ADOPTED
        assert letter.disposition.reason == "-与上位法不一致"
    upload = db.session.scalar(db.select(AnswerSheetImport))
    assert upload.applied_by_id == editor.id
    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "answer", AuditEvent.object_type == "comments")).all()
    assert {e.detail.get("sheet") for e in events} == {upload.id}
    assert len(events) == 5  # two comments and three group members; the unchanged row none
    # applying twice is refused
    response = client.post(urlsplit(preview_url).path + "/apply", data={"csrf_token": token})
    assert response.status_code == 409
    # the exported sheet now shows the answers
    sheet = _download(client, consultation)["答复"]
    cols, rows = _columns(sheet), _rows(sheet)
    assert sheet.cell(row=rows[f"组{comments['group'].id}"],
                      column=cols["当前理由"]).value == "'-与上位法不一致"


def test_a_sheet_with_a_bad_row_shows_row_errors_and_applies_nothing(client_as, make, editor,
                                                                    consultation, comments):
    client = client_as(editor)
    workbook = _download(client, consultation)
    _fill(workbook, comments["first"].tracking_no, "采纳")  # fine
    _fill(workbook, comments["second"].tracking_no, "不予采纳")  # reason missing
    sheet = workbook["答复"]
    cols = _columns(sheet)
    extra = [
        ("ZZZZ-ZZZZ-ZZZZ", "采纳", None),  # unknown tracking number
        (comments["hidden"].tracking_no, "采纳", None),  # needs no answer
        (comments["letters"][0].tracking_no, "采纳", None),  # answered through its group
        (comments["answered"].tracking_no, "也许吧", "理由"),  # unknown disposition
        (None, "采纳", "没有编号"),  # malformed: no key
        (comments["first"].tracking_no, "采纳", None),  # twice in one sheet
        ("组999999", "采纳", None),  # unknown group
    ]
    for key, label, reason in extra:
        sheet.append([key] + [None] * (cols["采纳情况（请选择）"] - 2) + [label, reason])
    formula_row = sheet.max_row + 1
    sheet.cell(row=formula_row, column=1, value=comments["answered"].tracking_no)
    sheet.cell(row=formula_row, column=cols["采纳情况（请选择）"], value="=A1")
    response = _upload(client, consultation, _bytes(workbook))
    assert response.status_code == 302
    upload_path = urlsplit(response.headers["Location"]).path
    html = client.get(upload_path).get_data(as_text=True)
    for message in ("除“采纳”外，答复须说明理由", "没有这个意见编号", "无需答复",
                    "请在该组的行中答复", "未知的采纳情况“也许吧”", "缺少编号",
                    "编号与第", "没有这个相同意见组", "单元格含公式"):
        assert message in html, message
    errors = len(re.findall(r'class="row-error"', html))
    assert errors == 9
    assert "确认导入" not in html
    assert "有 9 行错误" in html
    # forcing the apply is refused as a whole
    token = csrf_from(html)
    response = client.post(upload_path + "/apply", data={"csrf_token": token})
    assert response.status_code == 422
    assert "未导入任何答复" in response.get_data(as_text=True)
    assert comments["first"].disposition is None  # the good row was not half-applied
    assert db.session.scalar(db.select(AnswerSheetImport)).applied_at is None


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4 not a sheet", "只能上传 XLSX 文件"),
    (b"", "文件是空的"),
])
def test_files_that_are_not_sheets_are_refused(client_as, editor, consultation, data, message):
    response = _upload(client_as(editor), consultation, data, name="答复表.xlsx")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(AnswerSheetImport.id))) == 0


def test_a_workbook_without_our_columns_or_of_another_consultation(client_as, make, editor,
                                                                   consultation, comments):
    client = client_as(editor)
    workbook = Workbook()
    workbook.active.append(["随便", "什么"])
    response = _upload(client, consultation, _bytes(workbook))
    assert response.status_code == 422
    assert "表格缺少“编号”列" in response.get_data(as_text=True)
    other = make.consultation("closed", unit=consultation.unit)
    response = _upload(client, other, _bytes(_download(client, consultation)))
    assert response.status_code == 422
    assert "另一项意见征集" in response.get_data(as_text=True)


def test_the_upload_form_needs_a_file(client_as, post_form, editor, consultation):
    url = f"/staff/consultations/{consultation.id}/answers/import"
    response = post_form(client_as(editor), url, {})
    assert response.status_code == 422
    assert "请选择要上传的答复表" in response.get_data(as_text=True)


def test_other_units_get_403_and_forged_csrf_400(client_as, make, editor, consultation,
                                                 comments):
    client = client_as(editor)
    workbook = _download(client, consultation)
    _fill(workbook, comments["first"].tracking_no, "采纳")
    upload_path = urlsplit(_upload(client, consultation, _bytes(workbook))
                           .headers["Location"]).path
    stranger = client_as(make.user("approver", make.unit("市水务局")))
    assert stranger.get(_sheet_url(consultation)).status_code == 403
    assert stranger.get(upload_path).status_code == 403
    token = csrf_from(stranger.get("/staff").get_data(as_text=True))
    assert stranger.post(upload_path + "/apply", data={"csrf_token": token}).status_code == 403
    assert client.post(upload_path + "/apply", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/staff/answer-imports/999999").status_code == 404
    assert comments["first"].disposition is None


def test_no_upload_after_the_report_is_published(client_as, make, editor, consultation):
    comment = make.comment(consultation)
    make.answer(comment, "adopted", None)
    client = client_as(editor)
    workbook = _download(client, consultation)
    publish_report(consultation, summary="", actor=make.user("approver", consultation.unit))
    db.session.commit()
    html = client.get(f"/staff/consultations/{consultation.id}/answers/import").get_data(
        as_text=True)
    assert "报告已发布" in html
    response = _upload(client, consultation, _bytes(workbook))
    assert response.status_code == 409
