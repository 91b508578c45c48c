"""`flask backup` / `flask restore`: a round trip on the suite's kind of database (a scratch
SQLite file, or a scratch PostgreSQL database made and dropped here) with the uploads in a
local folder or an S3 bucket (moto server): data + uploads -> backup -> more data -> restore ->
the rows and bytes of the backup's moment; then everything wiped -> restore -> the same."""

from __future__ import annotations

import glob
import io
import os
import shutil
import tarfile
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.datastructures import FileStorage

from consult import create_app, storage, uploads
from consult.consultations.models import Consultation
from consult.extensions import db
from tests import factories
from tests.storage_backends import s3_settings

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def scratch_database_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'site.db'}"
        return
    base = url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"consult_backup_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["local", "s3"])
def site(request, scratch_database_url, tmp_path, real_session):
    """A second app on the scratch database, migrated, with its own file store."""
    settings = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_database_url}
    if request.param == "local":
        settings.update(STORAGE_BACKEND="local", UPLOAD_DIR=str(tmp_path / "uploads"))
    else:
        settings.update(s3_settings(request.getfixturevalue("moto_endpoint"),
                                    request.getfixturevalue("s3_bucket")))
    app = create_app(settings)
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def invoke(app, *args):
    db.session.remove()  # nothing of the test's holds a lock the command needs
    return app.test_cli_runner().invoke(args=[*args])


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    db.session.remove()
    out = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        out[table.name] = [tuple(row) for row in
                           db.session.execute(table.select().order_by(*order)).all()]
    out["alembic_version"] = db.session.execute(
        text("SELECT version_num FROM alembic_version")).all()
    db.session.remove()
    return out


def add_upload(owner, content: bytes, name: str, public: bool):
    return uploads.store(FileStorage(io.BytesIO(content), filename=name), owner=owner,
                         allowed={"pdf"}, public=public)


def fill() -> dict[str, bytes]:
    """A consultation with a file, two comments (one with a private file); the stored bytes."""
    c = factories.consultation("open", title="备份测试")
    first = factories.comment(c, body="第一条意见", email="a@example.org")
    factories.comment(c, body="第二条意见")
    one = add_upload(c, PDF, "附件.pdf", public=True)
    two = add_upload(first, PDF + b"% private", "私人.pdf", public=False)
    db.session.commit()
    return {one.sha256: PDF, two.sha256: PDF + b"% private"}


def wipe_store(app) -> None:
    store = storage.for_app(app)
    for item in list(store.list()):
        store.delete(item.name)
    assert list(store.list()) == []


def wipe_database(app) -> None:
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        db.engine.dispose()
        os.remove(db.engine.url.database)
    else:
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    db.engine.dispose()


def test_a_backup_restores_the_rows_and_files_of_its_moment(site, tmp_path):
    files = fill()
    before = all_rows()
    archive = tmp_path / "backups" / "consult.tar.gz"

    result = invoke(site, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert f"2 files ({sum(map(len, files.values()))} bytes)" in result.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # personal data inside
    assert [p.name for p in archive.parent.iterdir()] == ["consult.tar.gz"]  # no leftovers

    # The site goes on: more comments and files after the backup.
    c = factories.consultation("open", title="备份之后")
    later = factories.comment(c, body="备份之后的意见")
    add_upload(later, PDF + b"% later", "later.pdf", public=False)
    db.session.commit()
    assert all_rows() != before

    refused = invoke(site, "restore", str(archive))
    assert refused.exit_code != 0 and "--force" in refused.output
    assert len(all_rows()["comments"]) == 3  # nothing was touched

    result = invoke(site, "restore", str(archive), "--force")
    assert result.exit_code == 0, result.output
    assert all_rows() == before  # exactly the moment of the backup, nothing of later
    store = storage.current()
    for name, content in files.items():
        with store.open(name) as stream:
            assert stream.read() == content

    # A new machine: empty database, empty file store.
    wipe_database(site)
    wipe_store(site)
    result = invoke(site, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert all_rows() == before
    for name, content in files.items():
        with store.open(name) as stream:
            assert stream.read() == content
    # The restored site works: a new comment gets the next id.
    c = db.session.scalar(db.select(Consultation).where(Consultation.title == "备份测试"))
    assert factories.comment(c, body="恢复之后").id > max(r[0] for r in before["comments"])
    db.session.commit()


def test_a_backup_into_a_folder_is_named_by_time_and_lists_its_contents(site, tmp_path):
    fill()
    folder = tmp_path / "backups"
    folder.mkdir()
    result = invoke(site, "backup", str(folder))
    assert result.exit_code == 0, result.output
    [archive] = folder.iterdir()
    assert archive.name.startswith("consult-") and archive.name.endswith(".tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names
    assert sum(name.startswith("uploads/") for name in names) == 2
    assert ("database.sqlite3" in names) or ("database.pgdump" in names)


def test_a_failed_backup_leaves_the_previous_archive_whole(site, tmp_path, monkeypatch):
    fill()
    archive = tmp_path / "consult.tar.gz"
    assert invoke(site, "backup", str(archive)).exit_code == 0
    previous = archive.read_bytes()

    def broken(self, name):
        error = storage.StorageUnavailable("down")
        error.detail = "the store is down"
        raise error

    monkeypatch.setattr(type(storage.for_app(site)), "open", broken)
    result = invoke(site, "backup", str(archive))
    assert result.exit_code == 1 and "file storage unavailable: the store is down" in result.output
    assert archive.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".consult")] == []


def test_restore_refuses_what_is_not_a_backup(site, tmp_path):
    fill()
    before = all_rows()
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        info = tarfile.TarInfo("database.sqlite3")
        tar.addfile(info, io.BytesIO(b""))
    result = invoke(site, "restore", str(bogus), "--force")
    assert result.exit_code != 0 and "not a Consult backup" in result.output
    assert all_rows() == before


def test_restore_refuses_a_damaged_archive(site, tmp_path):
    files = fill()
    archive = tmp_path / "consult.tar.gz"
    assert invoke(site, "backup", str(archive)).exit_code == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == sorted(n for n in source.getnames()
                                     if n.startswith("uploads/"))[-1]:
                data = data[:-1] + b"X"  # one byte of the last file changed, same size
            target.addfile(member, io.BytesIO(data))
    wipe_store(site)
    result = invoke(site, "restore", str(damaged), "--force")
    assert result.exit_code != 0 and "damaged" in result.output
    assert len(all_rows()["comments"]) == 2
    assert not any(storage.current().exists(name) for name in files)


def test_pg_tools_are_found_and_a_missing_one_is_a_clear_error(app, monkeypatch, tmp_path):
    from consult import backup

    if shutil.which("pg_dump") is None and not glob.glob("/usr/lib/postgresql/*/bin/pg_dump"):
        pytest.skip("no PostgreSQL client tools on this machine")
    assert os.access(backup.find_pg_tool("pg_dump", 9), os.X_OK)
    with pytest.raises(backup.BackupError, match="set PG_BIN_DIR"):
        backup.find_pg_tool("pg_dump", 999)
    monkeypatch.setitem(app.config, "PG_BIN_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])
    with pytest.raises(backup.BackupError, match="found: none"):
        backup.find_pg_tool("pg_restore", 15)
