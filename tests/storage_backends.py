"""Both file-storage backends for tests: a local folder, and a real S3 API server process.

The S3 server is moto in server mode (`moto_server`), started once per run on a free loopback
port; every test gets its own key prefix in one bucket, so tests never see each other's files.
Use the `storage_backend` fixture (parametrized: local, s3) or `s3_store` (S3 only).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from consult import storage

MOTO_START_SECONDS = 30  # how long a cold moto_server may take to import and answer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_server_command() -> list[str]:
    beside_python = Path(sys.executable).with_name("moto_server")
    found = str(beside_python) if beside_python.exists() else shutil.which("moto_server")
    if not found:
        pytest.fail("moto_server is not installed (requirements-dev.txt: moto[server])")
    return [found]


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """The URL of a moto S3 server process of this test run (stopped at the end)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*_moto_server_command(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + MOTO_START_SECONDS
    while True:  # waiting for readiness, not asserting on time
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
            break
        except urllib.error.HTTPError:  # it answers
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN", "AWS_PROFILE")}
    os.environ.update(AWS_ACCESS_KEY_ID="consult-test", AWS_SECRET_ACCESS_KEY="consult-test")
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def s3_bucket(moto_endpoint):
    """One bucket for the run's S3 tests."""
    import boto3

    name = f"consult-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1") \
        .create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str, **extra) -> dict:
    return {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket,
            "S3_REGION": "us-east-1", "S3_KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}/",
            "S3_PRESIGN_SECONDS": 0, **extra}


class Store:
    """The configured store as a test sees it: names, bytes, and a way to plant a file."""

    def __init__(self, app, backend: str, path: Path | None = None):
        self.app = app
        self.backend = backend
        self.path = path  # the folder, for the local backend

    @property
    def store(self):
        return storage.for_app(self.app)

    def names(self) -> list[str]:
        return sorted(item.name for item in self.store.list())

    def read(self, name: str) -> bytes:
        with self.store.open(name) as stream:
            return stream.read()

    def put(self, name: str, data: bytes) -> None:
        self.store.put(name, data)


def configure(app, monkeypatch, backend: str, tmp_path: Path, request) -> Store:
    """Point the app at a fresh store of `backend` for one test."""
    if backend == "local":
        monkeypatch.setitem(app.config, "STORAGE_BACKEND", "local")
        monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
        return Store(app, "local", tmp_path)
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    for key, value in s3_settings(endpoint, bucket).items():
        monkeypatch.setitem(app.config, key, value)
    return Store(app, "s3")


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, app, tmp_path, monkeypatch) -> Store:
    """Each test using it runs twice: files in a local folder, then in an S3 bucket."""
    return configure(app, monkeypatch, request.param, tmp_path, request)
