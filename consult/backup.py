"""Backup and restore: one archive holding the database and the uploaded files.

`flask --app app backup PATH` writes a gzipped tar:
    manifest.json        what is inside: format, database kind, Alembic revision, row counts per
                         table, every file with its size and SHA-256
    database.sqlite3     SQLite: a copy made by the online backup API (consistent while the site
                         writes; the copy is taken in one step under a read lock)
    database.pgdump      PostgreSQL: `pg_dump -Fc` of an exported snapshot
    uploads/<name>       every upload the database copy refers to, from whichever store is
                         configured (a local folder or an S3 bucket)

The database copy is taken first, and the files it names are read from the store afterwards;
uploads are content-addressed and never change, so the archive is one consistent moment. It is
written beside PATH and renamed into place, so PATH is either the previous file or a whole new
archive, never half of one; it is readable by its owner only (it holds personal data).

`flask --app app restore PATH` checks the archive, puts the files back into the store, then
replaces the database (SQLite: backup API into the database file; PostgreSQL: `pg_restore
--clean --if-exists --single-transaction`) and checks the row counts against the manifest. It
refuses a database that holds data unless `--force` is given. Stop the app and the worker first.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from consult import clock, storage
from consult.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
UPLOADS = "uploads/"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class Summary:
    path: Path
    dialect: str
    revision: str | None
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# ------------------------------------------------------------------ helpers


def _tables() -> list[str]:
    return [table.name for table in db.metadata.sorted_tables]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_url(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore, and the environment carrying the password."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _major(text_with_version: str) -> int:
    """15 from "15", "15.20" or "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"."""
    match = re.search(r"(\d+)", text_with_version.split("(PostgreSQL)")[-1])
    return int(match.group(1)) if match else 0


def find_pg_tool(name: str, server_major: int) -> str:
    """The path of pg_dump or pg_restore that can talk to a `server_major` server: PG_BIN_DIR,
    then PATH, then Debian's /usr/lib/postgresql/<version>/bin (newest first)."""
    candidates = []
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        candidates.append(str(Path(configured) / name))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    versioned = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates += sorted(versioned, key=lambda p: _major(Path(p).parts[-3]), reverse=True)
    seen = []
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        try:
            output = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                                    check=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        seen.append(f"{candidate} ({output.strip()})")
        if _major(output) >= server_major:
            return candidate
    found = "; ".join(seen) or "none"
    raise BackupError(f"no {name} for PostgreSQL {server_major} or newer (found: {found}); "
                      "install postgresql-client or set PG_BIN_DIR")


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): "
                          f"{(result.stderr or result.stdout).strip()[-2000:]}")


def _server_major(connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar()) // 10000


# ------------------------------------------------------------------ backup


def _snapshot_sqlite(work: Path) -> tuple[Path, str | None, dict[str, int], list[str]]:
    target = work / SQLITE_FILE
    raw = db.engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(copy)  # all pages in one step: one moment
        finally:
            copy.close()
    finally:
        raw.close()
    copy = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        names = {row[0] for row in copy.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
        rows = {t: copy.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in _tables() if t in names}
        revision = None
        if "alembic_version" in names:
            revision = (copy.execute("SELECT version_num FROM alembic_version").fetchone()
                        or [None])[0]
        files = [r[0] for r in copy.execute("SELECT DISTINCT sha256 FROM attachments")] \
            if "attachments" in names else []
    finally:
        copy.close()
    return target, revision, rows, files


def _snapshot_postgresql(work: Path) -> tuple[Path, str | None, dict[str, int], list[str]]:
    target = work / PG_FILE
    uri, env = _pg_url(db.engine.url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump reads the very snapshot this transaction sees, so the counts and the
            # list of files below describe exactly what is in the dump.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            names = set(inspect(connection).get_table_names())
            rows = {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()
                    for t in _tables() if t in names}
            revision = None
            if "alembic_version" in names:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")).scalar()
            files = list(connection.execute(
                text("SELECT DISTINCT sha256 FROM attachments")).scalars()) \
                if "attachments" in names else []
            pg_dump = find_pg_tool("pg_dump", _server_major(connection))
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                  "--no-privileges", f"--file={target}", f"--dbname={uri}"], env, "pg_dump")
    return target, revision, rows, files


def backup(path: Path) -> Summary:
    """Write the archive to `path` (see the module's description) and say what is in it."""
    path = Path(path)
    if path.is_dir():
        path = path / f"consult-{clock.now():%Y%m%d-%H%M%S}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    dialect = db.engine.dialect.name
    store = storage.current()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".consult-backup-") as work:
        work = Path(work)
        if dialect == "sqlite":
            database, revision, rows, names = _snapshot_sqlite(work)
        elif dialect == "postgresql":
            database, revision, rows, names = _snapshot_postgresql(work)
        else:
            raise BackupError(f"backups of {dialect} databases are not supported")
        summary = Summary(path, dialect, revision, rows)
        partial = work / "archive.tar.gz"
        manifest = {
            "format": FORMAT, "created_at": clock.now().isoformat(), "dialect": dialect,
            "alembic_revision": revision, "rows": rows,
            "database": {"name": database.name, "size": database.stat().st_size,
                         "sha256": _sha256_file(database)},
            "storage": store.backend, "files": [],
        }
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(database, arcname=database.name)
            for name in sorted(set(names)):
                try:
                    with store.open(name) as stream:
                        data = stream.read()
                except storage.StoredFileMissing:
                    summary.missing.append(name)
                    continue
                info = tarfile.TarInfo(UPLOADS + name)
                info.size = len(data)
                info.mode = 0o600
                archive.addfile(info, io.BytesIO(data))
                manifest["files"].append({"name": name, "size": len(data),
                                          "sha256": hashlib.sha256(data).hexdigest()})
                summary.files += 1
                summary.file_bytes += len(data)
            manifest["missing_files"] = summary.missing
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(body))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)  # whole archive or none
    return summary


# ------------------------------------------------------------------ restore


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupError("not a Consult backup: the archive has no manifest.json")
    manifest = json.load(archive.extractfile(member))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def database_has_data() -> bool:
    """True when any of the app's tables holds a row (a migrated but unused database is empty)."""
    with db.engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
        for table in _tables():
            if table in names and connection.execute(
                    text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
                return True
    return False


def _check_archive(archive: tarfile.TarFile, manifest: dict, work: Path) -> Path:
    """Extract the database copy and check every member against the manifest, before anything
    is changed."""
    entry = manifest["database"]
    if entry["name"] not in {SQLITE_FILE, PG_FILE}:
        raise BackupError(f"unexpected database file {entry['name']!r} in the archive")
    archive.extract(entry["name"], work, filter="data")
    database = work / entry["name"]
    if _sha256_file(database) != entry["sha256"]:
        raise BackupError("the database copy in the archive is damaged (checksum mismatch)")
    for item in manifest["files"]:
        storage._check_name(item["name"])
        try:
            member = archive.getmember(UPLOADS + item["name"])
        except KeyError:
            raise BackupError(f"the archive lacks the file {item['name']}")
        digest = hashlib.sha256(archive.extractfile(member).read()).hexdigest()
        if member.size != item["size"] or digest != item["sha256"]:
            raise BackupError(f"the file {item['name']} in the archive is damaged")
    return database


def _restore_files(archive: tarfile.TarFile, manifest: dict) -> int:
    store = storage.current()
    for item in manifest["files"]:
        data = archive.extractfile(UPLOADS + item["name"]).read()
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise BackupError(f"the file {item['name']} in the archive is damaged")
        store.put(item["name"], data)
    return len(manifest["files"])


def _restore_sqlite(database: Path) -> None:
    target = db.engine.url.database
    if not target or target == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: nothing to restore to")
    db.session.remove()
    db.engine.dispose()
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    destination = sqlite3.connect(target, timeout=30)
    try:
        source.backup(destination)  # replaces every page of the target, in one transaction
    finally:
        destination.close()
        source.close()


def _restore_postgresql(database: Path) -> None:
    db.session.remove()
    with db.engine.connect() as connection:
        major = _server_major(connection)
    db.engine.dispose()
    uri, env = _pg_url(db.engine.url)
    pg_restore = find_pg_tool("pg_restore", major)
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", f"--dbname={uri}", str(database)],
         env, "pg_restore")


def restore(path: Path, *, force: bool = False) -> Summary:
    """Put the archive's files into the store and its database in place of the current one."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no such archive: {path}")
    dialect = db.engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="consult-restore-") as work, \
            tarfile.open(path, mode="r:*") as archive:
        manifest = _read_manifest(archive)
        if manifest["dialect"] != dialect:
            raise BackupError(f"the archive holds a {manifest['dialect']} database; "
                              f"DATABASE_URL is {dialect}")
        database = _check_archive(archive, manifest, Path(work))
        if not force and database_has_data():
            raise BackupError("the database is not empty: restoring would replace its data; "
                              "add --force to do so")
        summary = Summary(path, dialect, manifest.get("alembic_revision"))
        summary.files = _restore_files(archive, manifest)
        summary.file_bytes = sum(item["size"] for item in manifest["files"])
        if dialect == "sqlite":
            _restore_sqlite(database)
        else:
            _restore_postgresql(database)
    with db.engine.connect() as connection:
        summary.rows = {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()
                        for t in manifest["rows"]}
    if summary.rows != manifest["rows"]:
        different = sorted(t for t in manifest["rows"]
                           if summary.rows.get(t) != manifest["rows"][t])
        raise BackupError("the restored database does not match the archive's row counts: "
                          + ", ".join(different))
    return summary
