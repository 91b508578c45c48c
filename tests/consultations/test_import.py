"""Importing a draft from a Word or text file (F3): split, preview, correct, save."""

from __future__ import annotations

import html
import io
import os
import re
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from consult.audit import AuditEvent
from consult.consultations import importing, parsing
from consult.consultations.models import Consultation
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.uploads import TooLarge
from tests.conftest import csrf_from

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
PLAN = REFERENCE / "2020-openness-work-plan.zh.txt"
IN_CI = os.environ.get("CI", "").lower() == "true"

IMPORT = "/staff/consultations/import"
SAVE = "/staff/consultations/import/save"

RULE_TITLE = "郑州市公共数据开放管理办法（征求意见稿）"
RULE_BODY = [
    ("Heading 1", "第一章 总则"),
    (None, "　　第一条 为了规范公共数据开放，促进公共数据利用，制定本办法。"),
    (None, "　　第二条 本办法适用于本市行政区域内的公共数据开放活动。"),
    ("Heading 1", "第二章 开放管理"),
    ("Heading 2", "第一节 开放目录"),
    (None, "　　第三条 市大数据管理部门应当编制公共数据开放目录。"),
    (None, "目录应当动态调整，并向社会公布。"),
    ("Heading 2", "第二节 开放方式"),
    (None, "　　第四条 公共数据分为无条件开放、有条件开放和不予开放三类。"),
    ("Heading 1", "第三章 附则"),
    (None, "　　第五条 本办法自2027年1月1日起施行。"),
]


def rule_docx(body=RULE_BODY, title=RULE_TITLE) -> bytes:
    """A 规章-style draft as the drafting office writes it in Word."""
    document = docx.Document()
    document.add_paragraph(title)
    document.add_paragraph("")  # empty paragraphs are ignored
    for style, text in body:
        document.add_paragraph(text, style=style)
    return _save(document)


def _save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def plan_docx() -> bytes:
    """The reference plan in Word: the title in the Title style, parts and items as headings."""
    lines = [line for line in PLAN.read_text(encoding="utf-8").splitlines() if line.strip()]
    document = docx.Document()
    document.add_paragraph(lines[0], style="Title")
    for line in lines[1:]:
        if importing.PART_RE.match(line):
            document.add_heading(line, level=1)
        elif importing.ITEM_RE.match(line):
            document.add_heading(line, level=2)
        else:
            document.add_paragraph(line)
    return _save(document)


def need_reference():
    if not PLAN.exists():
        if IN_CI:
            pytest.fail(f"{PLAN} is missing")
        pytest.skip("../shared/reference is not beside the checkout")


def upload(client, post_form, data: bytes, filename: str, *, unit, type_="rule"):
    return post_form(client, IMPORT, {
        "unit_id": unit.id, "type": type_, "file": (io.BytesIO(data), filename),
    }, content_type="multipart/form-data")


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1))


def field_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


def article_rows(page: str) -> list[list[str]]:
    table = re.search(r'<table[^>]*id="import-articles".*?<tbody>(.*?)</tbody>', page, re.S)
    assert table, "no article table"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [[html.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


@pytest.fixture
def editor(make):
    unit = make.unit("市大数据管理局")
    return make.user("editor", unit)


# --- the two document shapes --------------------------------------------------------------


def test_a_rule_in_word_splits_into_chapters_sections_and_articles():
    extracted = importing.extract(rule_docx(), "办法.docx")
    title = importing.detect_title(extracted)
    assert title == RULE_TITLE
    text = importing.body_text(extracted, title)
    assert RULE_TITLE not in text  # the title has its own field
    preview = importing.preview(text)
    articles = preview.parsed.articles
    assert preview.style == "articles"
    assert [a.label for a in articles] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    assert [a.number for a in articles] == [1, 2, 3, 4, 5]
    assert articles[0].chapter == "第一章 总则" and articles[0].section is None
    assert articles[2].chapter == "第二章 开放管理"
    assert articles[2].section == "第一节 开放目录"
    assert articles[2].text == ("市大数据管理部门应当编制公共数据开放目录。\n"
                                "目录应当动态调整，并向社会公布。")
    assert articles[3].section == "第二节 开放方式"
    assert articles[4].chapter == "第三章 附则" and articles[4].section is None
    assert preview.counts == {"chapters": 3, "sections": 2, "articles": 5,
                              "characters": sum(len(a.text) for a in articles)}
    assert preview.warnings == []


def test_the_reference_plan_in_word_splits_into_nineteen_items_with_headings():
    need_reference()
    extracted = importing.extract(plan_docx(), "2020年政务公开工作要点实施方案.docx")
    assert extracted.kind == "docx"
    title = importing.detect_title(extracted)
    assert title == "2020年政務公開工作要點實施方案"  # Word's Title paragraph, no 征求意见稿 in it
    preview = importing.preview(importing.body_text(extracted, title))
    articles = preview.parsed.articles
    assert preview.style == "plan"
    assert len(articles) == 19
    expected = [f"{part}({item})" for part, n in zip("一二三四五", (4, 4, 4, 4, 3), strict=True)
                for item in "一二三四"[:n]]
    assert [a.label for a in articles] == expected
    assert articles[0].label == "一(一)" and articles[-1].label == "五(三)"
    assert articles[0].heading == "圍繞權責清單,做好權力配置信息公開"
    assert articles[10].label == "三(三)" and articles[10].heading == "拓寬公眾參與途徑"
    assert articles[10].chapter == "三、提高信息化管理水平,提升解讀回應能力"
    assert "穩金融" in articles[2].text  # a word broken across two lines is mended
    assert preview.parsed.preamble.startswith("為落實國務院辦公廳2020年政務公開工作要點")
    assert preview.counts["chapters"] == 5
    # The conversion damage in the source is pointed out, with where it is.
    [garbled] = [w for w in preview.warnings if "乱码" in w]
    assert "保居民就業、?;久裆?、保市場主體"[:12] in garbled
    assert not [w for w in preview.warnings if "编号" in w]


def test_the_reference_plan_through_the_pages_keeps_numbering_and_headings(
        client_as, post_form, editor):
    need_reference()
    client = client_as(editor)
    response = upload(client, post_form, plan_docx(), "plan.docx", unit=editor.memberships[0].unit,
                      type_="other")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = article_rows(page)
    assert len(rows) == 19
    assert [r[1] for r in rows][:5] == ["一(一)", "一(二)", "一(三)", "一(四)", "二(一)"]
    assert rows[10][4] == "拓寬公眾參與途徑"
    assert "5 个部分，19 项" in page


def test_word_automatic_numbering_is_kept_as_text():
    """Drafting offices often let Word number the articles: 第一条 is then not in the text."""
    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:lvlText w:val="第%1条"/><w:suff w:val="space"/></w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    document.add_paragraph("某某规定（征求意见稿）")
    for text in ["为了规范管理，制定本规定。", "本规定适用于本市。", "本规定自公布之日起施行。"] + [
            f"第{n}项内容。" for n in range(4, 13)]:
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="90"/></w:numPr>'))
    extracted = importing.extract(_save(document), "规定.docx")
    preview = importing.preview(importing.body_text(extracted, importing.detect_title(extracted)))
    labels = [a.label for a in preview.parsed.articles]
    assert labels[:3] == ["第一条", "第二条", "第三条"]
    assert labels[-1] == "第十二条" and len(labels) == 12
    assert preview.parsed.articles[0].text == "为了规范管理，制定本规定。"
    assert preview.warnings == []


def test_word_tables_become_rows_of_text_in_order_and_deleted_text_is_left_out():
    document = docx.Document()
    document.add_paragraph("第一条 收费标准如下表：")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "标准"
    table.cell(1, 0).text, table.cell(1, 1).text = "复印", "每页0.1元"
    paragraph = document.add_paragraph("第二条 本办法自公布之日起施行。")
    paragraph._p.append(parse_xml(
        f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>（删去的字）</w:delText>'
        '</w:r></w:del>'))
    paragraph._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="2" w:author="a"><w:r><w:t>新增的字。</w:t></w:r></w:ins>'))
    extracted = importing.extract(_save(document), "x.docx")
    assert extracted.paragraphs == ["第一条 收费标准如下表：", "项目 | 标准", "复印 | 每页0.1元",
                                    "第二条 本办法自公布之日起施行。新增的字。"]
    assert any("表格" in note for note in extracted.notes)


def test_heading_styles_without_numbers_are_pointed_out():
    document = docx.Document()
    document.add_heading("总则", level=1)
    document.add_paragraph("第一条 为了规范管理，制定本办法。")
    extracted = importing.extract(_save(document), "x.docx")
    assert any("总则" in note and "标题样式" in note for note in extracted.notes)


def test_a_gb18030_text_file_is_read():
    text = (RULE_TITLE + "\r\n第一章 总则\r\n第一条 为了规范公共数据开放，制定本办法。\r\n"
            "第二条 本办法自公布之日起施行。\r\n")
    extracted = importing.extract(text.encode("gb18030"), "办法.txt")
    assert extracted.kind == "txt" and extracted.encoding == "GB18030"
    assert extracted.paragraphs[0] == RULE_TITLE
    preview = importing.preview(importing.body_text(extracted, importing.detect_title(extracted)))
    assert [a.label for a in preview.parsed.articles] == ["第一条", "第二条"]
    assert preview.parsed.articles[0].chapter == "第一章 总则"


@pytest.mark.parametrize("data", [
    "第一条 内容。".encode(),
    b"\xef\xbb\xbf" + "第一条 内容。".encode(),
    "第一条 内容。".encode("utf-16"),
])
def test_utf8_with_or_without_bom_and_utf16_are_read(data):
    assert importing.extract(data, "a.txt").paragraphs == ["第一条 内容。"]


# --- what the editor is warned about -------------------------------------------------------


def test_a_skipped_and_a_repeated_article_number_are_warned_about():
    preview = importing.preview(
        "第一条 甲。\n第二条 乙。\n第三条 丙。\n第五条 戊。\n第五条 又一个。")
    assert "“第三条”之后是“第五条”，编号不连续。" in preview.warnings
    assert "“第五条”重复出现。" in preview.warnings
    assert len(preview.parsed.articles) == 5  # the split itself stays as written


def test_skipped_items_in_a_plan_are_warned_about_per_part():
    preview = importing.preview(
        "一、总体要求\n（一）甲\n内容。\n（三）丙\n内容。\n三、保障\n（一）乙\n内容。")
    assert any("“一、”中" in w and "（三）" in w for w in preview.warnings)
    assert any("“一、”之后是“三、”" in w for w in preview.warnings)


def test_text_without_headings_is_split_by_paragraph_with_a_warning():
    preview = importing.preview("本市将加强管理。\n各单位要落实责任。")
    assert preview.style == "paragraphs"
    assert [a.label for a in preview.parsed.articles] == ["第1段", "第2段"]
    assert preview.warnings[0].startswith("未识别到条款编号，已按段落拆分")


def test_garbled_characters_are_listed():
    preview = importing.preview(
        "第一条 保基本民生\ufffd和保?;基层运转。\n第二条 正常的网址 http://a.cn/?q=1 不算。")
    [warning] = preview.warnings
    assert "2 处" in warning and "第 1 行" in warning and "第 2 行" not in warning


# --- odd files -------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "code"), [
    (b"", "empty.docx", "empty_file"),
    (b"  \r\n ", "blank.txt", "empty_file"),
    (b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF", "draft.docx", "pdf_not_importable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "draft.doc", "old_word_format"),
    (b"PK\x03\x04\x14\x00\x00\x00broken", "draft.docx", "corrupt_file"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "draft.txt", "not_text"),
    (b"plain words", "draft.docx", "not_docx"),
])
def test_odd_files_are_refused_with_a_reason(data, name, code):
    with pytest.raises(ValidationFailed) as error:
        importing.extract(data, name)
    assert error.value.code == code
    assert error.value.fields["file"]


def test_a_truncated_word_file_is_refused():
    data = rule_docx()
    with pytest.raises(ValidationFailed) as error:
        importing.extract(data[: len(data) // 2], "half.docx")
    assert error.value.code == "corrupt_file"


def test_an_excel_file_is_not_a_draft():
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    with pytest.raises(ValidationFailed, match="Excel"):
        importing.extract(out.getvalue(), "table.docx")


def test_reading_stops_past_the_limit():
    with pytest.raises(TooLarge):
        importing.read_limited(io.BytesIO(b"x" * 11), 10)
    assert importing.read_limited(io.BytesIO(b"x" * 10), 10) == b"x" * 10


# --- through the pages ---------------------------------------------------------------------


def test_the_import_page_is_linked_from_the_workspace_and_the_new_page(client_as, editor):
    client = client_as(editor)
    for page in ("/staff", "/staff/consultations/new"):
        assert f'href="{IMPORT}"' in client.get(page).get_data(as_text=True)
    page = client.get(IMPORT).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page


def test_upload_preview_correct_and_save_creates_the_draft(client_as, post_form, editor):
    unit = editor.memberships[0].unit
    client = client_as(editor)
    response = upload(client, post_form, rule_docx(), "办法.docx", unit=unit)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0  # not yet saved
    assert field_value(page, "title") == RULE_TITLE
    assert "3 章，2 节，5 条" in page
    rows = article_rows(page)
    assert [r[1] for r in rows] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    assert rows[2][2:4] == ["第二章 开放管理", "第一节 开放目录"]
    text = textarea(page, "text")
    assert text.startswith("第一章 总则\n第一条 为了规范公共数据开放")

    # The editor adds an article and checks the split again: still nothing saved.
    text = text.replace("第三章 附则", "第六条 违反本办法的，依法处理。\n第三章 附则")
    form = {
        "unit_id": unit.id, "type": "rule", "title": field_value(page, "title"),
        "summary": "规范公共数据开放。", "explanation": "",
        "opens_on": field_value(page, "opens_on"), "closes_on": field_value(page, "closes_on"),
        "short_window_reason": "", "text": text, "source_name": field_value(page, "source_name"),
        "csrf_token": field_value(page, "csrf_token"),
    }
    again = client.post(SAVE, data={**form, "action": "preview"})
    assert again.status_code == 200
    assert "“第四条”之后是“第六条”，编号不连续。" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0

    saved = client.post(SAVE, data={**form, "action": "save"})
    assert saved.status_code == 302
    consultation = db.session.scalar(db.select(Consultation))
    assert saved.headers["Location"].endswith(f"/staff/consultations/{consultation.id}")
    assert consultation.title == RULE_TITLE and consultation.unit == unit
    assert consultation.state == "draft" and consultation.created_by_id == editor.id
    articles = consultation.current_version.articles
    assert [a.label for a in articles] == ["第一条", "第二条", "第三条", "第四条", "第六条",
                                           "第五条"]
    assert articles[2].chapter == "第二章 开放管理" and articles[2].section == "第一节 开放目录"
    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.object_id == consultation.id, AuditEvent.object_type == "consultations")).all()
    assert [e.action for e in events] == ["create", "import"]
    assert events[1].detail == {"filename": "办法.docx"}
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "从文件导入" in detail and "办法.docx" in detail


def test_saving_without_a_summary_shows_the_preview_again_with_422(client_as, post_form, editor):
    unit = editor.memberships[0].unit
    client = client_as(editor)
    page = upload(client, post_form, rule_docx(), "办法.docx", unit=unit).get_data(as_text=True)
    response = client.post(SAVE, data={
        "unit_id": unit.id, "type": "rule", "title": RULE_TITLE, "summary": "",
        "opens_on": field_value(page, "opens_on"), "closes_on": field_value(page, "closes_on"),
        "text": textarea(page, "text"), "csrf_token": field_value(page, "csrf_token"),
        "action": "save",
    })
    assert response.status_code == 422
    again = response.get_data(as_text=True)
    assert "请填写内容摘要。" in again and len(article_rows(again)) == 5
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_a_short_window_without_a_reason_is_refused_by_the_service(client_as, post_form, editor):
    unit = editor.memberships[0].unit
    client = client_as(editor)
    page = upload(client, post_form, rule_docx(), "办法.docx", unit=unit).get_data(as_text=True)
    opens = field_value(page, "opens_on")
    response = client.post(SAVE, data={
        "unit_id": unit.id, "type": "rule", "title": RULE_TITLE, "summary": "摘要",
        "opens_on": opens, "closes_on": opens, "text": textarea(page, "text"),
        "csrf_token": field_value(page, "csrf_token"), "action": "save",
    })
    assert response.status_code == 422
    assert "征求意见期限" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_a_gb18030_text_file_through_the_page(client_as, post_form, editor):
    text = ("关于加强管理的若干措施（征求意见稿）\n一、总体要求\n（一）加强领导\n"
            "各单位要加强领导。\n")
    response = upload(client_as(editor), post_form, text.encode("gb18030"), "措施.txt",
                      unit=editor.memberships[0].unit, type_="normative_document")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_value(page, "title") == "关于加强管理的若干措施（征求意见稿）"
    assert "GB18030" in page and [r[1] for r in article_rows(page)] == ["一(一)"]


def test_hostile_text_in_a_file_is_shown_escaped(client_as, post_form, editor):
    data = rule_docx(body=[(None, "第一条 <script>alert(1)</script>")], title="<b>标题</b>")
    page = upload(client_as(editor), post_form, data, "<img src=x>.docx",
                  unit=editor.memberships[0].unit).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>标题</b>" not in page and "<img src=x>" not in page


def test_a_file_without_headings_is_split_by_paragraph_with_a_warning(client_as, post_form, editor):
    data = "本市将加强公共数据管理。\n各单位要落实责任。\n".encode()
    page = upload(client_as(editor), post_form, data, "notes.txt",
                  unit=editor.memberships[0].unit).get_data(as_text=True)
    assert "未识别到条款编号，已按段落拆分" in page


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "empty.docx", "文件是空的。"),
    (b"%PDF-1.7\n%%EOF", "draft.docx", "是 PDF 文件"),
    (b"PK\x03\x04\x14\x00\x00\x00broken", "draft.docx", "文件已损坏"),
    (b"MZ\x90\x00\x03\x00\x00\x00" * 50, "draft.txt", "这不是文本文件"),
])
def test_odd_files_get_the_form_back_with_a_clear_message(client_as, post_form, editor, data,
                                                          name, message):
    response = upload(client_as(editor), post_form, data, name, unit=editor.memberships[0].unit)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'type="file"' in page


def test_no_file_chosen_is_422(client_as, post_form, editor):
    response = post_form(client_as(editor), IMPORT, {"unit_id": editor.memberships[0].unit.id,
                                                     "type": "rule"})
    assert response.status_code == 422
    assert "请选择要上传的文件。" in response.get_data(as_text=True)


def raw_upload(client, unit, data: bytes, filename: str):
    """POST a big file with a body built here: the test client would spool it to a temporary
    file that it never closes."""
    token = csrf_from(client.get(IMPORT).get_data(as_text=True))
    boundary = "consult-test-boundary"
    fields = {"csrf_token": token, "unit_id": unit.id, "type": "rule"}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items()
    ) + (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
         "\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data + (
        f"\r\n--{boundary}--\r\n".encode())
    return client.post(IMPORT, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_file_over_the_import_limit_is_413(client_as, editor, app):
    size = app.config["IMPORT_MAX_BYTES"] + 1
    assert size < app.config["MAX_CONTENT_LENGTH"]
    response = raw_upload(client_as(editor), editor.memberships[0].unit, b"a" * size, "big.txt")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "导入的文件不能超过 10 MB。" in page and 'type="file"' in page


def test_a_50_mb_upload_is_413_not_a_500(client_as, editor):
    response = raw_upload(client_as(editor), editor.memberships[0].unit,
                          b"\0" * (50 * 1024 * 1024), "huge.docx")
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)


def test_importing_into_another_units_name_is_403(client_as, post_form, make, editor):
    other = make.unit("别的单位")
    client = client_as(editor)
    assert upload(client, post_form, rule_docx(), "a.docx", unit=other).status_code == 403
    response = post_form(client, SAVE, {
        "unit_id": other.id, "type": "rule", "title": "越权", "summary": "摘要",
        "opens_on": "2099-01-01", "closes_on": "2099-03-01", "text": "第一条 内容。",
        "action": "save"}, page=IMPORT)
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_a_citizen_account_cannot_import(client_as, make):
    assert client_as(make.user(role=None)).get(IMPORT).status_code == 403


def test_import_without_a_csrf_token_is_400(client_as, editor):
    client = client_as(editor)
    response = client.post(IMPORT, data={
        "unit_id": editor.memberships[0].unit.id, "type": "rule",
        "file": (io.BytesIO(rule_docx()), "a.docx")}, content_type="multipart/form-data")
    assert response.status_code == 400
    response = client.post(SAVE, data={"unit_id": editor.memberships[0].unit.id, "type": "rule",
                                       "title": "t", "summary": "s", "text": "第一条 内容。",
                                       "opens_on": "2099-01-01", "closes_on": "2099-03-01",
                                       "action": "save", "csrf_token": "forged"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_word_numbers_in_chinese_round_trip():
    for n in (1, 10, 11, 20, 21, 99, 100, 101, 110, 115, 999, 1001):
        assert parsing.chinese_to_int(parsing.int_to_chinese(n)) == n
    assert parsing.int_to_chinese(105) == "一百零五"
    assert parsing.int_to_chinese(110) == "一百一十"
    assert parsing.chinese_to_int("条") is None


def test_a_text_too_long_to_save_is_pointed_out_in_the_preview(client_as, post_form, editor):
    text = "第一条 " + "长" * 200_000
    response = post_form(client_as(editor), SAVE, {
        "unit_id": editor.memberships[0].unit.id, "type": "rule", "title": "t", "text": text,
        "action": "preview"}, page=IMPORT)
    assert response.status_code == 200
    assert "超过了 200000 字的上限" in response.get_data(as_text=True)
