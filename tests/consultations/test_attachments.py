"""A consultation's attachments (F2): PDF/DOCX/XLSX checked by content, size-limited, stored
outside static/, downloaded with safe headers, names escaped wherever shown."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from openpyxl import Workbook

from consult.audit import AuditEvent
from consult.consultations import services
from consult.extensions import db
from consult.uploads import Attachment
from tests.conftest import table_counts

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def store(storage_backend):
    """Every test here runs on both storage backends: a local folder and an S3 bucket."""
    return storage_backend


@pytest.fixture
def draft(make, unit):
    return make.consultation("draft", unit=unit, title="网约车管理办法（征求意见稿）")


def files_url(c) -> str:
    return f"/staff/consultations/{c.id}/attachments"


def send(client, post_form, c, content: bytes, name: str, **extra):
    return post_form(client, files_url(c), {"file": (io.BytesIO(content), name), **extra},
                     page=f"/staff/consultations/{c.id}", content_type="multipart/form-data")


def stored() -> list[Attachment]:
    return db.session.scalars(db.select(Attachment).order_by(Attachment.id)).all()


def actions(c) -> list[str]:
    return list(db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.object_type == "consultations",
                                           AuditEvent.object_id == c.id)
        .order_by(AuditEvent.id)))


def fetch(client, url):
    """GET a URL and close the response (a file download streams from disk)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def publish(c, editor, approver):
    services.submit(c, actor=editor)
    services.approve(c, actor=approver)
    db.session.commit()


def test_a_pdf_on_a_draft_is_public_after_approval_with_safe_headers(
        client_as, post_form, draft, editor, approver, travel, client, store):
    staff = client_as(editor)
    response = send(staff, post_form, draft, PDF, "收费标准.pdf", title="附件1：收费标准")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/consultations/{draft.id}#attachments")
    [file] = stored()
    assert (file.kind, file.size, file.supplement) == ("pdf", len(PDF), False)
    assert file.title == "附件1：收费标准"
    assert store.read(file.sha256) == PDF  # kept outside static/, by digest
    if store.path is not None:
        assert (store.path / file.sha256).read_bytes() == PDF
    assert actions(draft)[-1] == "add_attachment"
    page = staff.get(f"/staff/consultations/{draft.id}").get_data(as_text=True)
    assert "附件1：收费标准" in page and "收费标准.pdf" in page and "添加附件" in page

    public_url = f"/consultations/{draft.id}/attachments/{file.id}"
    assert fetch(client, public_url).status_code == 404  # a draft is not public

    publish(draft, editor, approver)
    travel(2)  # the window opens the day after approval
    page = client.get(f"/consultations/{draft.id}").get_data(as_text=True)
    assert f'href="{public_url}"' in page
    assert "附件1：收费标准" in page and "PDF" in page and f"{len(PDF)} B" in page
    response = fetch(client, public_url)
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%94%B6%E8%B4%B9%E6%A0%87%E5%87%86.pdf" in disposition
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("content", "name", "kind", "label"), [
    ("docx", "起草说明.docx", "docx", "Word"),
    ("xlsx", "收费表.xlsx", "xlsx", "Excel"),
])
def test_word_and_excel_files_are_accepted(client_as, post_form, draft, editor, content, name,
                                           kind, label):
    out = io.BytesIO()
    (docx.Document() if content == "docx" else Workbook()).save(out)
    assert send(client_as(editor), post_form, draft, out.getvalue(), name).status_code == 302
    [file] = stored()
    assert file.kind == kind and file.filename == name
    page = client_as(editor).get(f"/staff/consultations/{draft.id}").get_data(as_text=True)
    assert f"{name}</a>" in page and label in page


def test_an_executable_renamed_pdf_is_refused_with_422(client_as, post_form, draft, editor):
    response = send(client_as(editor), post_form, draft, EXE, "通知.pdf")
    assert response.status_code == 422
    assert "只能上传 DOCX、PDF、XLSX 文件" in response.get_data(as_text=True)
    assert stored() == [] and "add_attachment" not in actions(draft)


def test_a_pdf_renamed_docx_is_stored_as_what_it_is(client_as, post_form, draft, editor):
    assert send(client_as(editor), post_form, draft, PDF, "表.docx").status_code == 302
    assert stored()[0].kind == "pdf"


def test_an_oversize_file_is_refused_with_413(app, client_as, post_form, draft, editor,
                                              monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    response = send(client_as(editor), post_form, draft, PDF + b" " * 2000, "大文件.pdf")
    assert response.status_code == 413
    assert "文件不能超过" in response.get_data(as_text=True)
    assert stored() == []


def test_an_empty_upload_and_no_file_are_422(client_as, post_form, draft, editor):
    client = client_as(editor)
    assert send(client, post_form, draft, b"", "空.pdf").status_code == 422
    response = post_form(client, files_url(draft), {"title": "没有文件"})
    assert response.status_code == 422
    assert "请选择要上传的文件。" in response.get_data(as_text=True)
    assert stored() == []


def test_a_hostile_filename_is_shown_escaped(client_as, post_form, draft, editor, approver,
                                             travel, client):
    name = "<img src=x onerror=alert(1)>.pdf"
    assert send(client_as(editor), post_form, draft, PDF, name).status_code == 302
    staff_page = client_as(editor).get(f"/staff/consultations/{draft.id}").get_data(as_text=True)
    publish(draft, editor, approver)
    travel(2)
    public_page = client.get(f"/consultations/{draft.id}").get_data(as_text=True)
    for page in (staff_page, public_page):
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    response = fetch(client, f"/consultations/{draft.id}/attachments/{stored()[0].id}")
    # Quoted: the header cannot be broken out of.
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="<img src=x onerror=alert(1)>.pdf"')


def test_a_script_tag_as_filename_is_shown_escaped(client_as, post_form, draft, editor):
    assert send(client_as(editor), post_form, draft, PDF, "<script>.pdf").status_code == 302
    page = client_as(editor).get(f"/staff/consultations/{draft.id}").get_data(as_text=True)
    assert "<script>.pdf" not in page and "&lt;script&gt;.pdf" in page


def test_a_path_in_the_filename_is_dropped(client_as, post_form, draft, editor, store):
    assert send(client_as(editor), post_form, draft, PDF, "../../etc/passwd.pdf").status_code == 302
    [file] = stored()
    assert file.filename == "passwd.pdf"
    assert store.names() == [file.sha256]
    assert not Path("/etc/passwd.pdf").exists()


def test_a_draft_file_can_be_removed_but_a_published_one_cannot(
        client_as, post_form, draft, editor, approver, travel):
    client = client_as(editor)
    send(client, post_form, draft, PDF, "a.pdf")
    send(client, post_form, draft, PDF + b"%", "b.pdf")
    first, second = stored()
    page = f"/staff/consultations/{draft.id}"
    response = post_form(client, f"{files_url(draft)}/{first.id}/delete", {}, page=page)
    assert response.status_code == 302
    assert stored() == [second]
    assert actions(draft)[-1] == "remove_attachment"

    publish(draft, editor, approver)
    response = post_form(client_as(approver), f"{files_url(draft)}/{second.id}/delete", {},
                         page=page)
    assert response.status_code == 409
    assert stored() == [second]
    section = client_as(approver).get(page).get_data(as_text=True).split(
        'id="attachments"')[1].split("</section>")[0]
    assert "/delete" not in section


def test_while_open_an_approver_adds_supplementary_material_that_is_public_at_once(
        make, client_as, post_form, unit, editor, approver, client, travel):
    c = make.consultation("open", unit=unit)
    # An editor may not publish a file by themselves once the draft is public.
    assert send(client_as(editor), post_form, c, PDF, "补充.pdf").status_code == 403
    assert send(client_as(approver), post_form, c, PDF, "补充.pdf").status_code == 302
    [file] = stored()
    assert file.supplement is True
    assert actions(c)[-1] == "add_supplement"
    page = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "补充材料" in page and "补充.pdf" in page
    assert fetch(client, f"/consultations/{c.id}/attachments/{file.id}").status_code == 200

    travel(30)  # closed: nothing more is added
    assert send(client_as(approver), post_form, c, PDF, "晚了.pdf").status_code == 409
    assert len(stored()) == 1


def test_nothing_is_added_while_pending_approval(client_as, post_form, draft, editor, approver):
    services.submit(draft, actor=editor)
    db.session.commit()
    assert send(client_as(editor), post_form, draft, PDF, "a.pdf").status_code == 409
    assert stored() == []


def test_staff_of_another_unit_get_403(make, client_as, post_form, draft, editor):
    send(client_as(editor), post_form, draft, PDF, "a.pdf")
    [file] = stored()
    stranger = client_as(make.user("approver", make.unit("别的单位")))
    rows = table_counts()
    token_page = "/staff"
    assert post_form(stranger, files_url(draft), {"file": (io.BytesIO(PDF), "x.pdf")},
                     page=token_page, content_type="multipart/form-data").status_code == 403
    assert fetch(stranger, f"{files_url(draft)}/{file.id}").status_code == 403
    assert post_form(stranger, f"{files_url(draft)}/{file.id}/delete", {},
                     page=token_page).status_code == 403
    assert stored() == [file]
    assert table_counts() == rows



def test_staff_download_a_draft_file_uncached(client_as, post_form, draft, editor):
    client = client_as(editor)
    send(client, post_form, draft, PDF, "a.pdf")
    response = fetch(client, f"{files_url(draft)}/{stored()[0].id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == "attachment; filename=a.pdf"


def test_a_draft_file_is_not_public_and_files_do_not_cross_consultations(
        make, client_as, post_form, draft, editor, client, unit):
    send(client_as(editor), post_form, draft, PDF, "a.pdf")
    [file] = stored()
    other = make.consultation("open", unit=unit)
    assert fetch(client, f"/consultations/{draft.id}/attachments/{file.id}").status_code == 404
    assert fetch(client, f"/consultations/{other.id}/attachments/{file.id}").status_code == 404
    assert client_as(editor).get(f"{files_url(other)}/{file.id}").status_code == 404
    assert client.get(f"/consultations/{other.id}/attachments/999999").status_code == 404


def test_a_private_file_of_a_public_consultation_is_not_served(make, client, unit):
    from werkzeug.datastructures import FileStorage

    from consult import uploads

    c = make.consultation("open", unit=unit)
    file = uploads.store(FileStorage(io.BytesIO(PDF), filename="内部.pdf"), owner=c,
                         allowed={"pdf"}, public=False)
    db.session.commit()
    assert fetch(client, f"/consultations/{c.id}/attachments/{file.id}").status_code == 404
    assert "内部.pdf" not in client.get(f"/consultations/{c.id}").get_data(as_text=True)


def test_upload_without_a_csrf_token_is_400(client_as, draft, editor):
    response = client_as(editor).post(files_url(draft), data={
        "file": (io.BytesIO(PDF), "a.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert stored() == []


def test_the_attachments_page_shows_the_form_to_editors_only(client_as, draft, editor, make,
                                                             unit):
    page = client_as(editor).get(files_url(draft)).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    reader = make.user("approver", unit)
    publish(draft, editor, reader)
    draft_closed = make.consultation("closed", unit=unit)
    page = client_as(editor).get(files_url(draft_closed)).get_data(as_text=True)
    assert 'type="file"' not in page


def test_quotes_and_line_breaks_in_a_name_cannot_break_the_download_header(make, client, unit):
    from werkzeug.datastructures import FileStorage

    from consult.consultations import attachments

    c = make.consultation("open", unit=unit)
    approver = make.user("approver", unit)
    file = attachments.add_attachment(
        c, FileStorage(io.BytesIO(PDF), filename='a"\r\nX-Injected: 1.pdf'), actor=approver)
    db.session.commit()
    response = fetch(client, f"/consultations/{c.id}/attachments/{file.id}")
    assert "X-Injected" not in response.headers
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="a\\"X-Injected: 1.pdf"')
