"""The file store (consult/storage.py): the same operations on a local folder and an S3 bucket
(a moto server process), S3 failures as a 503 with Retry-After, presigned downloads."""

from __future__ import annotations

import hashlib
import io
import logging
import urllib.request

import pytest
from werkzeug.datastructures import FileStorage

from consult import storage, uploads
from consult.comments.models import Comment
from consult.extensions import db
from consult.uploads import Attachment

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def comments() -> list[Comment]:
    return db.session.scalars(db.select(Comment)).all()


def attachments() -> list[Attachment]:
    return db.session.scalars(db.select(Attachment)).all()


def public_file(make, content=PDF, name="收费标准.pdf"):
    c = make.consultation("open")
    file = uploads.store(FileStorage(io.BytesIO(content), filename=name), owner=c,
                         allowed={"pdf"}, public=True)
    db.session.commit()
    return c, file


# ------------------------------------------------------------------ both backends


def test_put_open_stat_list_delete(storage_backend):
    store = storage_backend.store
    store.put("0" * 64, b"first")
    store.put("0" * 64, b"first")  # the same name again: one file
    store.put("exports/1.pdf", b"second")
    assert storage_backend.names() == ["0" * 64, "exports/1.pdf"]
    assert storage_backend.read("exports/1.pdf") == b"second"
    info = store.stat("0" * 64)
    assert info.size == 5 and info.modified_at.tzinfo is not None
    assert store.exists("0" * 64) and not store.exists("f" * 64)
    assert store.stat("f" * 64) is None
    with pytest.raises(storage.StoredFileMissing):
        store.open("f" * 64)
    store.delete("0" * 64)
    store.delete("0" * 64)  # deleting what is gone is no error
    assert storage_backend.names() == ["exports/1.pdf"]


@pytest.mark.parametrize("name", ["../etc/passwd", "/abs", "a/../b", "", "a b", ".hidden",
                                  "a//b", "名字"])
def test_names_that_could_escape_the_store_are_refused(storage_backend, name):
    with pytest.raises(ValueError):
        storage_backend.store.put(name, b"x")
    assert storage_backend.names() == []


def test_a_local_write_leaves_no_temporary_file(app, tmp_path):
    store = storage.LocalStorage(tmp_path / "uploads")
    store.check()  # makes the folder
    store.put("a" * 64, b"data")
    store.put("a" * 64, b"data")
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["a" * 64]
    assert [item.name for item in store.list()] == ["a" * 64]


def test_a_download_is_conditional_and_serves_ranges(storage_backend, make, client):
    c, file = public_file(make)
    url = f"/consultations/{c.id}/attachments/{file.id}"
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["ETag"] == f'"{file.sha256}"'
    assert response.content_length == len(PDF)
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    response.close()
    again = client.get(url, headers={"If-None-Match": f'"{file.sha256}"'})
    assert again.status_code == 304 and again.data == b""
    again.close()
    part = client.get(url, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == PDF[:8]
    assert part.headers["Content-Range"] == f"bytes 0-7/{len(PDF)}"
    part.close()


def test_a_file_missing_from_the_store_is_404_and_logged(storage_backend, make, client, caplog):
    c, file = public_file(make)
    storage_backend.store.delete(file.sha256)
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/consultations/{c.id}/attachments/{file.id}")
    assert response.status_code == 404
    assert f"file {file.sha256} is missing" in caplog.text


# ------------------------------------------------------------------ S3


@pytest.fixture
def s3(app, monkeypatch, tmp_path, request):
    from tests.storage_backends import configure

    return configure(app, monkeypatch, "s3", tmp_path, request)


@pytest.fixture
def missing_bucket(s3, app, monkeypatch):
    monkeypatch.setitem(app.config, "S3_BUCKET", "consult-no-such-bucket")
    return "consult-no-such-bucket"


def test_the_s3_store_keeps_to_its_key_prefix(s3, app, monkeypatch):
    s3.put("b" * 64, b"mine")
    monkeypatch.setitem(app.config, "S3_KEY_PREFIX", app.config["S3_KEY_PREFIX"] + "other/")
    assert [item.name for item in storage.for_app(app).list()] == []
    assert not storage.for_app(app).exists("b" * 64)


def test_a_missing_bucket_stops_the_start_with_a_clear_error(app, missing_bucket):
    with pytest.raises(RuntimeError, match="bucket 'consult-no-such-bucket' .* does not exist"):
        storage.check(app)


def test_an_existing_bucket_passes_the_start_up_check(app, s3):
    storage.check(app)


def test_a_comment_with_a_file_while_the_bucket_is_missing_is_503_and_keeps_the_text(
        make, client, post_form, missing_bucket, caplog):
    c = make.consultation("open")
    with caplog.at_level(logging.ERROR):
        response = post_form(client, f"/consultations/{c.id}/comment", {
            "article": "", "body": "附件里有测算表。", "category": "enterprise", "region": "",
            "display_name": "", "email": "", "phone": "", "notify": "",
            "attachment": (io.BytesIO(PDF), "测算.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    html = response.get_data(as_text=True)
    assert "附件里有测算表。" in html and "文件存储暂时不可用" in html
    assert comments() == [] and attachments() == []
    assert "consult-no-such-bucket" in caplog.text and "does not exist" in caplog.text


def test_a_staff_upload_while_the_bucket_is_missing_is_503(make, client_as, post_form,
                                                           missing_bucket):
    unit = make.unit()
    draft = make.consultation("draft", unit=unit)
    response = post_form(client_as(make.user("editor", unit)),
                         f"/staff/consultations/{draft.id}/attachments",
                         {"file": (io.BytesIO(PDF), "a.pdf")},
                         page=f"/staff/consultations/{draft.id}",
                         content_type="multipart/form-data")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert attachments() == []


def test_a_download_while_the_bucket_is_missing_is_503(make, client, s3, app, monkeypatch):
    c, file = public_file(make)
    monkeypatch.setitem(app.config, "S3_BUCKET", "consult-no-such-bucket")
    response = client.get(f"/consultations/{c.id}/attachments/{file.id}")
    assert response.status_code == 503 and response.headers["Retry-After"]


def test_an_s3_download_streams_from_the_bucket(make, client, s3):
    c, file = public_file(make)
    response = client.get(f"/consultations/{c.id}/attachments/{file.id}")
    assert response.status_code == 200 and response.is_streamed
    assert response.data == PDF and response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_a_public_file_may_be_a_redirect_to_a_short_lived_signed_url(
        make, client, client_as, s3, app, monkeypatch):
    monkeypatch.setitem(app.config, "S3_PRESIGN_SECONDS", 60)
    c, file = public_file(make)
    response = client.get(f"/consultations/{c.id}/attachments/{file.id}")
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    assert location.startswith(app.config["S3_ENDPOINT_URL"]) and "X-Amz-Expires=60" in location
    with urllib.request.urlopen(location) as answer:
        assert answer.read() == PDF
        assert answer.headers["Content-Type"] == "application/pdf"
        disposition = answer.headers["Content-Disposition"]
    assert disposition == uploads.content_disposition("收费标准.pdf")
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%94%B6%E8%B4%B9%E6%A0%87%E5%87%86.pdf" in disposition

    # A private file (a comment's) is never handed out by URL: the app streams it after
    # checking who asks, with no-store.
    private = make.comment(c)
    attachment = uploads.store(FileStorage(io.BytesIO(PDF + b"%"), filename="私.pdf"),
                               owner=private, allowed={"pdf"}, public=False)
    db.session.commit()
    url = f"/staff/comments/{private.id}/attachments/{attachment.id}"
    assert client.get(url).status_code == 302  # to the login page, not to the bucket
    assert client.get(url).headers["Location"].startswith("/login")
    staff = client_as(make.user("editor", c.unit))
    download = staff.get(url)
    assert download.status_code == 200 and download.data == PDF + b"%"
    assert download.headers["Cache-Control"] == "private, no-store"
    download.close()


def test_stored_objects_are_named_by_their_digest(make, s3):
    c, file = public_file(make)
    assert file.sha256 == hashlib.sha256(PDF).hexdigest()
    assert s3.names() == [file.sha256] and s3.read(file.sha256) == PDF
