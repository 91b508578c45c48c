"""Finding 3 (issue 9): small uploads that unpack to huge XML, or whose XML expands entities.

Every place that opens an uploaded OOXML zip — the .docx draft import, the .xlsx answering
sheet, and attachments (comments, consultations) — checks the uncompressed total and each
member's compression ratio before any XML parser sees the file, and the importers refuse a DTD
(billion laughs) outright: a clean 422 with a message, never a 500, and nothing saved. The
hostile files are built here: a 340 KB .xlsx of 136 MB of XML (the shape of the review's 331 KB
file), members of highly compressible bytes, and an entity-expansion payload.
"""

from __future__ import annotations

import functools
import io
import zipfile

import docx
import pytest
from openpyxl import Workbook

from consult import archives
from consult.answers.models import AnswerSheetImport
from consult.comments.models import Comment
from consult.consultations.models import Consultation
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.uploads import Attachment
from tests.conftest import csrf_from

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
              for i in range(1, 10))
    + "]>\n"
)
ROW = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"


@functools.cache
def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("第一条 为了规范管理，制定本办法。")
    document.add_paragraph("第二条 本办法自公布之日起施行。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@functools.cache
def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "答复"
    sheet.append(["编号", "采纳情况（请选择）", "理由（请填写）"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rebuilt(original: bytes, replace: dict[str, object], add: dict[str, object] = ()) -> bytes:
    """`original` with the members in `replace` swapped (bytes, or an iterable of chunks that
    is streamed so that 136 MB never sits in memory) and those in `add` added."""
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        members = [(info.filename, replace.get(info.filename)) for info in source.infolist()]
        members += list(dict(add).items())
        for name, new in members:
            if new is None:
                target.writestr(name, source.read(name))
            elif isinstance(new, bytes):
                target.writestr(name, new)
            else:
                with target.open(name, "w", force_zip64=True) as stream:
                    for chunk in new:
                        stream.write(chunk)
    return out.getvalue()


def _huge_sheet(total: int):
    chunk = ROW * 1000
    yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
           b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    for _ in range(total // len(chunk)):
        yield chunk
    yield b"</sheetData></worksheet>"


def _with_entities(xml: bytes, closing: bytes = b"</t>") -> bytes:
    """`xml` with the billion-laughs DTD in front and an entity reference in its first text."""
    body = xml.split(b"?>", 1)[1].lstrip() if xml.startswith(b"<?xml") else xml
    root = body[1:].split(b" ", 1)[0].split(b">", 1)[0].decode()
    return (BILLION_LAUGHS.replace("lolz", root).encode()
            + body.replace(closing, b"&lol9;" + closing, 1))


@pytest.fixture(scope="module")
def xlsx_bomb() -> bytes:
    """The review's file: ~340 KB that unpacks to 136 MB of worksheet XML."""
    data = _rebuilt(_xlsx(), {"xl/worksheets/sheet1.xml": _huge_sheet(136_000_000)})
    assert len(data) < 400_000
    return data


@pytest.fixture(scope="module")
def docx_bomb() -> bytes:
    """A Word file whose document.xml unpacks to 136 MB (its text runs repeated)."""
    def body():
        yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
               b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
        text = "第一条 重复的内容。".encode() * 100
        paragraph = b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>"
        chunk = paragraph * 500
        for _ in range(136_000_000 // len(chunk)):
            yield chunk
        yield b"</w:body></w:document>"
    return _rebuilt(_docx(), {"word/document.xml": body()})


def xlsx_entities() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_xlsx()))
    sheet = source.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b"</sheetData>", b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t>'
                                           b"</is></c></row></sheetData>")
    return _rebuilt(_xlsx(), {"xl/worksheets/sheet1.xml": _with_entities(sheet)})


def docx_entities() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_docx()))
    xml = source.read("word/document.xml")
    xml = xml.replace("第一条 为了规范管理，制定本办法。".encode(), b"x")
    return _rebuilt(_docx(), {"word/document.xml": _with_entities(xml, b"</w:t>")})


def ratio_bomb(original: bytes, name: str) -> bytes:
    """20 MB of one byte in one member: under the total cap, but a ratio of about 1000."""
    return _rebuilt(original, {}, {name: iter([b"\0" * (1 << 20)] * 20)})


@pytest.fixture
def no_parser(monkeypatch):
    """Fail the test if a file reaches an XML parser (openpyxl or python-docx)."""
    _docx(), _xlsx()  # the harmless originals are made with those parsers
    def refuse(*args, **kwargs):
        raise AssertionError("an XML parser saw the hostile file")

    monkeypatch.setattr("consult.answers.sheet.load_workbook", refuse)
    monkeypatch.setattr("consult.consultations.extraction.docx.Document", refuse)


# --- the two importers, through their pages ---------------------------------------------------


def upload_sheet(client, c, data: bytes):
    url = f"/staff/consultations/{c.id}/answers/import"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), "答复.xlsx")},
                       content_type="multipart/form-data")


def upload_draft(client, post_form, unit, data: bytes):
    return post_form(client, "/staff/consultations/import", {
        "unit_id": unit.id, "type": "rule", "file": (io.BytesIO(data), "办法.docx"),
    }, content_type="multipart/form-data")


def _refused(response, words: str):
    assert response.status_code in (413, 422), response.status_code
    assert words in response.get_data(as_text=True)


def test_the_136_mb_answer_sheet_is_refused_before_parsing(client_as, make, editor, unit,
                                                           xlsx_bomb, no_parser):
    c = make.consultation("closed", unit=unit)
    _refused(upload_sheet(client_as(editor), c, xlsx_bomb), "解压后")
    assert db.session.scalar(db.select(db.func.count(AnswerSheetImport.id))) == 0


def test_a_billion_laughs_answer_sheet_is_a_clean_422(client_as, make, editor, unit, no_parser):
    c = make.consultation("closed", unit=unit)
    response = upload_sheet(client_as(editor), c, xlsx_entities())
    _refused(response, "DOCTYPE")
    assert db.session.scalar(db.select(db.func.count(AnswerSheetImport.id))) == 0


def test_a_highly_compressed_member_in_an_answer_sheet_is_refused(client_as, make, editor, unit,
                                                                  no_parser):
    c = make.consultation("closed", unit=unit)
    response = upload_sheet(client_as(editor), c, ratio_bomb(_xlsx(), "xl/media/filler.bin"))
    _refused(response, "压缩比")


def test_the_136_mb_word_draft_is_refused_before_parsing(client_as, post_form, editor, unit,
                                                         docx_bomb, no_parser):
    _refused(upload_draft(client_as(editor), post_form, unit, docx_bomb), "解压后")
    assert db.session.scalar(db.select(db.func.count(Consultation.id))) == 0


def test_a_billion_laughs_word_draft_is_a_clean_422(client_as, post_form, editor, unit,
                                                    no_parser):
    _refused(upload_draft(client_as(editor), post_form, unit, docx_entities()), "DOCTYPE")


def test_a_highly_compressed_member_in_a_word_draft_is_refused(client_as, post_form, editor, unit,
                                                               no_parser):
    data = ratio_bomb(_docx(), "word/media/image1.png")
    _refused(upload_draft(client_as(editor), post_form, unit, data), "压缩比")


def test_ordinary_files_still_import(client_as, post_form, make, editor, unit):
    response = upload_draft(client_as(editor), post_form, unit, _docx())
    assert response.status_code == 200 and "为了规范管理" in response.get_data(as_text=True)
    c = make.consultation("closed", unit=unit)
    response = upload_sheet(client_as(editor), c, _xlsx())
    assert response.status_code == 302
    assert "/staff/answer-imports/" in response.headers["Location"]


# --- attachments ------------------------------------------------------------------------------


@pytest.fixture
def uploads_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def test_a_bomb_attached_to_a_comment_is_refused_and_no_comment_saved(client, post_form, make,
                                                                       uploads_dir, docx_bomb):
    c = make.consultation("open")
    response = post_form(client, f"/consultations/{c.id}/comment", {
        "body": "请看附件。", "category": "individual", "article": "", "region": "",
        "display_name": "", "email": "", "phone": "", "notify": "",
        "attachment": (io.BytesIO(docx_bomb), "意见.docx"),
    }, content_type="multipart/form-data")
    _refused(response, "解压后")
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


def test_a_bomb_attached_to_a_draft_is_refused(client_as, post_form, make, editor, unit,
                                               uploads_dir, xlsx_bomb):
    draft = make.consultation("draft", unit=unit)
    response = post_form(client_as(editor), f"/staff/consultations/{draft.id}/attachments",
                         {"file": (io.BytesIO(xlsx_bomb), "附件.xlsx"), "title": "附件"},
                         page=f"/staff/consultations/{draft.id}",
                         content_type="multipart/form-data")
    _refused(response, "解压后")
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


# --- the checker itself -----------------------------------------------------------------------


def _check(data: bytes, *, scan_xml: bool = True):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archives.check(archive, scan_xml=scan_xml)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16", "utf-32"])
def test_a_dtd_in_any_encoding_an_xml_parser_reads_is_found(encoding):
    xml = (BILLION_LAUGHS + "<a>&lol9;</a>").replace('<?xml version="1.0"?>',
                                                     f'<?xml version="1.0" encoding="{encoding}"?>')
    data = _rebuilt(_docx(), {"word/document.xml": xml.encode(encoding)})
    with pytest.raises(ValidationFailed) as error:
        _check(data)
    assert error.value.code == "xml_dtd"
    _check(data, scan_xml=False)  # attachments are never parsed: sizes only


def test_the_caps_are_configuration(app, monkeypatch):
    data = _docx()
    _check(data)
    total = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    monkeypatch.setitem(app.config, "UNZIP_MAX_BYTES", total - 1)
    with pytest.raises(ValidationFailed) as error:
        _check(data)
    assert error.value.code == "archive_too_large"
    monkeypatch.setitem(app.config, "UNZIP_MAX_BYTES", 50 * 1024 * 1024)
    ratio = ratio_bomb(data, "word/media/filler.bin")
    with pytest.raises(ValidationFailed) as error:
        _check(ratio)
    assert error.value.code == "archive_ratio"
    monkeypatch.setitem(app.config, "UNZIP_MAX_RATIO", 5000)
    _check(ratio)


def test_too_many_members_are_refused():
    data = _rebuilt(_docx(), {}, {f"word/media/{i}.bin": b"x" for i in range(archives.MAX_MEMBERS)})
    with pytest.raises(ValidationFailed) as error:
        _check(data)
    assert error.value.code == "archive_members"


def test_openpyxl_parses_with_defusedxml():
    """openpyxl switches to defusedxml by itself when it is installed (requirements.txt pins
    it): its streaming parser, which reads every worksheet, refuses entity declarations."""
    import openpyxl.xml
    import openpyxl.xml.functions

    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")
