"""Where uploaded files live: one interface, two backends.

`current()` gives the configured backend: a local directory (STORAGE_BACKEND=local, the
default, under UPLOAD_DIR) or an S3-compatible object store (STORAGE_BACKEND=s3, for several app
hosts). Both keep opaque names (uploads use the file's SHA-256) and offer the same five
operations: put, open, stat/exists, delete and list (the orphan cleanup of `privacy purge` and
`flask backup` walk the list). Neither knows about attachments, owners or permissions:
authorization stays in the views, safe download headers in `consult.uploads`.

An object store that cannot be reached, or whose bucket is missing, raises StorageUnavailable
(503 with Retry-After) rather than a 500; `check()` says so at start-up (gunicorn.conf.py).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app
from flask_babel import gettext as _

from consult.errors import Unavailable

# Names are relative keys: letters, digits, '.', '_', '-' and '/' between parts, never '..'.
NAME_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
CHUNK = 64 * 1024


class StorageUnavailable(Unavailable):
    """The file store cannot be used right now (object store down, bucket missing)."""

    code = "storage_unavailable"
    retry_after = 30
    detail = ""  # for the log and start-up errors; never shown to visitors


class StoredFileMissing(LookupError):
    """A name that the store does not hold."""


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    modified_at: datetime  # timezone-aware UTC


def _check_name(name: str) -> str:
    if not NAME_RE.match(name) or len(name) > 512:
        raise ValueError(f"not a storage name: {name!r}")
    return name


def _unavailable(detail: str) -> StorageUnavailable:
    current_app.logger.error("file storage unavailable: %s", detail)
    error = StorageUnavailable(_("文件存储暂时不可用，请稍后再试。"))
    error.detail = detail
    return error


class LocalStorage:
    """Files in one directory (UPLOAD_DIR), written atomically and flushed to disk."""

    backend = "local"

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def describe(self) -> str:
        return f"directory {self.directory}"

    def _path(self, name: str) -> Path:
        return self.directory / _check_name(name)

    def check(self) -> None:
        """The directory exists (created if need be) and can be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _unavailable(f"{self.describe()}: {error}") from error
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise _unavailable(f"{self.describe()} is not writable")

    def put(self, name: str, data: bytes, *, content_type: str | None = None) -> None:
        """Write `data` under `name`; a reader never sees a half-written file."""
        path = self._path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())  # on disk before the row that names it commits
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise _unavailable(f"{self.describe()}: cannot write {name}: {error}") from error

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._path(name), "rb")  # noqa: SIM115 (the response closes it)
        except FileNotFoundError as error:
            raise StoredFileMissing(name) from error

    def stat(self, name: str) -> StoredObject | None:
        try:
            info = self._path(name).stat()
        except FileNotFoundError:
            return None
        return StoredObject(name, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

    def exists(self, name: str) -> bool:
        return self.stat(name) is not None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def list(self) -> Iterator[StoredObject]:
        """Every stored file (temporary files of writes in progress left out), by name."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.rglob("*")):
            name = path.relative_to(self.directory).as_posix()
            if path.is_file() and NAME_RE.match(name) and not path.name.startswith("."):
                info = path.stat()
                yield StoredObject(name, info.st_size,
                                   datetime.fromtimestamp(info.st_mtime, UTC))

    def download_url(self, name: str, **_headers) -> str | None:
        """Local files are always served by the app."""
        return None


class _ObjectStream:
    """An object's body as a plain readable stream (no fileno: never handed to sendfile)."""

    def __init__(self, body):
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return self._body.read(None if size is None or size < 0 else size)

    def __iter__(self):
        return self._body.iter_chunks(CHUNK)

    def close(self) -> None:
        self._body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, OSS/COS S3 APIs), under a key
    prefix. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
    AWS_PROFILE, an instance role)."""

    backend = "s3"

    def __init__(self, client, *, bucket: str, endpoint_url: str | None, prefix: str = "",
                 presign_seconds: int = 0):
        if not bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        self.client = client
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.presign_seconds = presign_seconds

    @staticmethod
    def make_client(endpoint_url: str | None, region: str | None, addressing_style: str):
        """A boto3 S3 client (thread-safe once made) with short timeouts and a few retries."""
        import boto3
        from botocore.config import Config as BotoConfig

        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            config=BotoConfig(
                signature_version="s3v4", connect_timeout=5, read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": addressing_style},
            ),
        )

    def describe(self) -> str:
        where = self.endpoint_url or "AWS S3"
        return f"bucket {self.bucket!r} at {where}" + (f", prefix {self.prefix!r}"
                                                       if self.prefix else "")

    def _key(self, name: str) -> str:
        return self.prefix + _check_name(name)

    def _error(self, error: Exception, doing: str) -> StorageUnavailable:
        from botocore.exceptions import ClientError

        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket" or (code == "404" and doing == "check"):
                return _unavailable(f"{self.describe()}: the bucket does not exist ({doing})")
            return _unavailable(f"{self.describe()}: {doing}: {error}")
        return _unavailable(f"{self.describe()}: {doing}: {error}")

    def _call(self, doing: str, method: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as error:
            raise self._error(error, doing) from error

    def check(self) -> None:
        """The bucket exists and these credentials reach it."""
        self._call("check", "head_bucket")

    def put(self, name: str, data: bytes, *, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self._call(f"put {name}", "put_object", Key=self._key(name), Body=data, **extra)

    def open(self, name: str) -> _ObjectStream:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise StoredFileMissing(name) from error
            raise self._error(error, f"get {name}") from error
        except BotoCoreError as error:
            raise self._error(error, f"get {name}") from error
        return _ObjectStream(answer["Body"])

    def stat(self, name: str) -> StoredObject | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise self._error(error, f"head {name}") from error
        except BotoCoreError as error:
            raise self._error(error, f"head {name}") from error
        return StoredObject(name, head["ContentLength"], head["LastModified"].astimezone(UTC))

    def exists(self, name: str) -> bool:
        return self.stat(name) is not None

    def delete(self, name: str) -> None:
        self._call(f"delete {name}", "delete_object", Key=self._key(name))

    def list(self) -> Iterator[StoredObject]:
        """Every object under the prefix (nothing outside it), by name."""
        from botocore.exceptions import BotoCoreError, ClientError

        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix):]
                    if NAME_RE.match(name):
                        yield StoredObject(name, item["Size"],
                                           item["LastModified"].astimezone(UTC))
        except (BotoCoreError, ClientError) as error:
            raise self._error(error, "list") from error

    def download_url(self, name: str, *, content_type: str, content_disposition: str,
                     cache_control: str) -> str | None:
        """A short-lived presigned GET with the download headers, when S3_PRESIGN_SECONDS > 0."""
        if self.presign_seconds <= 0:
            return None
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=self.presign_seconds,
            Params={"Bucket": self.bucket, "Key": self._key(name),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition,
                    "ResponseCacheControl": cache_control},
        )


Storage = LocalStorage | S3Storage
_lock = threading.Lock()


def _settings(config) -> tuple:
    backend = config.get("STORAGE_BACKEND", "local")
    if backend == "local":
        return ("local", str(config["UPLOAD_DIR"]))
    if backend == "s3":
        return ("s3", config.get("S3_BUCKET") or "", config.get("S3_ENDPOINT_URL") or None,
                config.get("S3_REGION") or None, config.get("S3_KEY_PREFIX") or "",
                int(config.get("S3_PRESIGN_SECONDS") or 0),
                config.get("S3_ADDRESSING_STYLE") or "auto")
    raise RuntimeError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")


def for_app(app: Flask) -> Storage:
    """The app's storage for its current configuration (one client per setting, reused)."""
    settings = _settings(app.config)
    stores = app.extensions.setdefault("consult_storage", {})
    store = stores.get(settings)
    if store is None:
        with _lock:  # boto3 sessions are not thread-safe while they are being made
            store = stores.get(settings)
            if store is None:
                if settings[0] == "local":
                    store = LocalStorage(settings[1])
                else:
                    _, bucket, endpoint, region, prefix, presign, style = settings
                    clients = app.extensions.setdefault("consult_s3_clients", {})
                    client = clients.get((endpoint, region, style))
                    if client is None:
                        client = S3Storage.make_client(endpoint, region, style)
                        clients[(endpoint, region, style)] = client
                    store = S3Storage(client, bucket=bucket, endpoint_url=endpoint,
                                      prefix=prefix, presign_seconds=presign)
                stores[settings] = store
    return store


def current() -> Storage:
    return for_app(current_app)


def check(app: Flask) -> None:
    """Fail clearly at start-up when the configured storage cannot be used."""
    with app.app_context():
        store = for_app(app)
        try:
            store.check()
        except StorageUnavailable as error:
            raise RuntimeError(f"file storage is not usable: {error.detail}") from error
