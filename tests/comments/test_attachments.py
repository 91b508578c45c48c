"""A comment may carry one attachment (F6): PDF or DOCX, checked by content, size-limited,
private by default: the receipt says it arrived, the unit's staff download it."""

from __future__ import annotations

import io
import zipfile

import pytest

from consult import uploads
from consult.comments.models import Comment
from consult.extensions import db
from consult.storage import StorageUnavailable
from consult.uploads import Attachment, attachments_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def store(storage_backend):
    """Every test here runs on both storage backends: a local folder and an S3 bucket."""
    return storage_backend


@pytest.fixture
def c(make):
    return make.consultation("open")


def data(file=None, **kw):
    out = {"article": "3", "body": "详细意见见附件。", "category": "enterprise", "region": "",
           "display_name": "", "email": "", "phone": "", "notify": ""}
    if file is not None:
        out["attachment"] = file
    out.update(kw)
    return out


def submit(client, post_form, c, file=None, **kw):
    return post_form(client, f"/consultations/{c.id}/comment", data(file, **kw),
                     content_type="multipart/form-data")


def comments() -> list[Comment]:
    return db.session.scalars(db.select(Comment)).all()


def attachments() -> list[Attachment]:
    return db.session.scalars(db.select(Attachment)).all()


@pytest.mark.parametrize("content, name, kind", [
    (PDF, "意见.pdf", "pdf"),
    (None, "意见.docx", "docx"),
])
def test_a_comment_with_an_attachment_the_receipt_says_it_arrived(
        client, post_form, c, content, name, kind):
    content = content or docx_bytes()
    response = submit(client, post_form, c, (io.BytesIO(content), name))
    assert response.status_code == 303
    (comment,) = comments()
    (attachment,) = attachments_of(comment)
    assert attachment.kind == kind and attachment.public is False
    assert attachment.filename == name and attachment.size == len(content)
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "附件已收到" in receipt
    assert name not in receipt and "/attachments/" not in receipt  # private


def test_the_form_offers_the_field_and_a_comment_without_a_file_has_none(client, post_form, c):
    form = client.get(f"/consultations/{c.id}/comment").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    assert 'name="attachment"' in form
    response = submit(client, post_form, c)
    assert response.status_code == 303
    assert attachments() == []
    assert "附件已收到" not in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("content, name", [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "setup.pdf"),  # an executable, renamed
    (b"<html><script>alert(1)</script></html>", "page.pdf"),
    (b"PK\x03\x04not really a zip", "broken.docx"),
    (b"", "empty.pdf"),
])
def test_a_file_that_is_not_a_pdf_or_docx_by_content_is_422(client, post_form, c, content, name):
    response = submit(client, post_form, c, (io.BytesIO(content), name))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="attachment-error"' in html or "文件是空的" in html
    assert comments() == [] and attachments() == []  # nothing written, not even the comment
    assert "详细意见见附件。" in html  # the text is kept for another try


def test_an_xlsx_is_not_accepted_on_a_comment(client, post_form, c):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    response = submit(client, post_form, c, (io.BytesIO(buffer.getvalue()), "表.xlsx"))
    assert response.status_code == 422 and comments() == []


def test_an_oversize_file_is_413(app, client, post_form, c, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    response = submit(client, post_form, c, (io.BytesIO(PDF + b" " * 2000), "big.pdf"))
    assert response.status_code == 413
    assert comments() == [] and attachments() == []


def test_a_request_over_the_body_limit_is_413(app, client, post_form, c, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    response = submit(client, post_form, c, (io.BytesIO(PDF + b" " * 8000), "huge.pdf"))
    assert response.status_code == 413
    assert comments() == []


def test_a_retried_submission_stores_one_comment_and_one_file(client, c):
    import re

    form = client.get(f"/consultations/{c.id}/comment").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', form)[1]
    for _ in range(2):
        response = client.post(
            f"/consultations/{c.id}/comment", content_type="multipart/form-data",
            data=data((io.BytesIO(PDF), "a.pdf"), csrf_token=token, nonce=nonce))
        assert response.status_code == 303
    assert len(comments()) == 1 and len(attachments()) == 1


def test_the_units_staff_download_it_from_the_answering_queue(
        client, client_as, post_form, make, c):
    submit(client, post_form, c, (io.BytesIO(PDF), "<b>意见.pdf"))
    (comment,) = comments()
    (attachment,) = attachments_of(comment)
    url = f"/staff/comments/{comment.id}/attachments/{attachment.id}"

    staff = client_as(make.user("editor", c.unit))
    queue = staff.get(f"/staff/consultations/{c.id}/comments").get_data(as_text=True)
    assert url in queue and "&lt;b&gt;意见.pdf" in queue
    response = staff.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()

    assert client_as(make.user("approver")).get(url).status_code == 403  # another unit
    assert client_as(make.user(role=None)).get(url).status_code == 403  # no staff role
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    other = make.comment(c)
    assert staff.get(f"/staff/comments/{other.id}/attachments/{attachment.id}") \
        .status_code == 404  # the file is not that comment's


def test_a_file_store_down_keeps_the_text_and_saves_nothing(client, post_form, c, monkeypatch):
    """The comment's row is written before its file: when the store fails the page says so
    (503, Retry-After) with the text kept, and the row goes back with the request."""
    def down(*args, **kwargs):
        raise StorageUnavailable("down")

    monkeypatch.setattr(uploads, "store", down)
    response = submit(client, post_form, c, (io.BytesIO(PDF), "意见.pdf"))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "详细意见见附件。" in response.get_data(as_text=True)
    assert comments() == [] and attachments() == []
