"""Production serving: gunicorn.conf.py loads, and gunicorn serves the app with it on IPv4 and
IPv6 from one dual-stack socket; a file store that cannot be used stops the start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from consult import create_app
from consult.extensions import db

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
START_SECONDS = 60  # how long a cold start on a busy machine may take (readiness, not a check)


def gunicorn_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GUNICORN_", "WEB_CONCURRENCY", "BIND", "PORT",
                                "FORWARDED_ALLOW_IPS", "STORAGE_BACKEND", "S3_"))}
    env.update(SECRET_KEY="serving-test", OUTBOX_BACKGROUND="false", RATELIMIT_ENABLED="false",
               DATABASE_URL=f"sqlite:///{tmp_path / 'site.db'}",
               UPLOAD_DIR=str(tmp_path / "uploads"))
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def print_config(tmp_path, **extra) -> dict[str, str]:
    output = subprocess.run(
        [GUNICORN, "--config", "gunicorn.conf.py", "--print-config"], cwd=ROOT,
        env=gunicorn_env(tmp_path, **extra), capture_output=True, text=True, check=True,
    ).stdout
    settings = {}
    for line in output.splitlines():
        name, _, value = line.partition("=")
        settings[name.strip()] = value.strip()
    return settings


def test_the_config_loads_with_its_defaults(tmp_path):
    settings = print_config(tmp_path, PORT="8123")
    assert settings["worker_class"] == "gthread"
    assert int(settings["workers"]) >= 2 and settings["threads"] == "8"
    assert settings["bind"] == "['[::]:8123']"  # one socket, IPv4 and IPv6 (Linux default)
    assert settings["forwarded_allow_ips"] == "[]"  # no proxy is trusted unless named
    assert settings["accesslog"] == "-"
    assert int(settings["max_requests"]) > 0 and int(settings["max_requests_jitter"]) > 0
    assert int(settings["graceful_timeout"]) > 0 and int(settings["timeout"]) > 0
    assert settings["control_socket_disable"] == "True"


def test_the_environment_overrides_it(tmp_path):
    settings = print_config(
        tmp_path, WEB_CONCURRENCY="3", GUNICORN_THREADS="4", FORWARDED_ALLOW_IPS="10.0.0.5",
        BIND="127.0.0.1:9001,[::1]:9001", GUNICORN_ACCESS_LOG=str(tmp_path / "access.log"),
        GUNICORN_TIMEOUT="90",
    )
    assert (settings["workers"], settings["threads"], settings["timeout"]) == ("3", "4", "90")
    assert settings["forwarded_allow_ips"] == "['10.0.0.5']"
    assert settings["bind"] == "['127.0.0.1:9001', '[::1]:9001']"
    assert settings["accesslog"] == str(tmp_path / "access.log")


def free_dual_stack_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
        return sock.getsockname()[1]


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_serving(process, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            get(url)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)


def stop(process) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture
def site_database(tmp_path, real_session):
    """A migrated-looking SQLite file for the served app."""
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'site.db'}"})
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def test_gunicorn_serves_healthz_on_ipv4_and_ipv6_with_an_access_log(tmp_path, site_database):
    port = free_dual_stack_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [GUNICORN, "--config", "gunicorn.conf.py"], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT,
            env=gunicorn_env(tmp_path, PORT=str(port), WEB_CONCURRENCY="1",
                             GUNICORN_THREADS="2"),
        )
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}/healthz", log)
        for host in ("127.0.0.1", "[::1]"):
            status, body = get(f"http://{host}:{port}/healthz")
            assert status == 200, (host, body)
            assert json.loads(body)["database"] == "ok"
    finally:
        code = stop(process)
    assert code == 0  # a graceful stop
    text = log.read_text()
    assert f"Listening at: http://[::]:{port}" in text
    assert "Using worker: gthread" in text
    lines = [line for line in text.splitlines() if '"GET /healthz HTTP/1.1" 200' in line]
    # One [::] socket took both: IPv4 clients show as IPv4-mapped addresses (the rate limits
    # read them as the IPv4 address, consult/ratelimit.py).
    assert any(line.startswith("::ffff:127.0.0.1 ") for line in lines), text
    assert any(line.startswith("::1 ") for line in lines), text


def test_gunicorn_refuses_to_start_when_the_s3_bucket_is_missing(tmp_path, moto_endpoint,
                                                                 site_database):
    log = tmp_path / "gunicorn.log"
    env = gunicorn_env(tmp_path, PORT=str(free_dual_stack_port()), WEB_CONCURRENCY="1",
                       STORAGE_BACKEND="s3",
                       S3_BUCKET="consult-missing-at-start", S3_ENDPOINT_URL=moto_endpoint)
    with open(log, "wb") as out:
        process = subprocess.Popen([GUNICORN, "--config", "gunicorn.conf.py"], cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        code = process.wait(timeout=START_SECONDS)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail(f"gunicorn kept running:\n{log.read_text()[-3000:]}")
    assert code != 0
    text = log.read_text()
    assert "bucket 'consult-missing-at-start'" in text and "does not exist" in text
    assert "Worker failed to boot" in text


def test_a_worker_replaced_later_serves_on_through_an_object_store_outage(app, monkeypatch,
                                                                          moto_endpoint):
    import runpy
    from types import SimpleNamespace

    from tests.storage_backends import s3_settings

    for key, value in s3_settings(moto_endpoint, "consult-gone-later").items():
        monkeypatch.setitem(app.config, key, value)
    hook = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"]
    errors = []

    def worker(age):
        return SimpleNamespace(age=age, cfg=SimpleNamespace(workers=2), wsgi=app,
                               log=SimpleNamespace(error=lambda *a: errors.append(a[0] % a[1:])))

    with pytest.raises(RuntimeError, match="consult-gone-later"):
        hook(worker(age=2))  # at start: gunicorn stops
    hook(worker(age=7))  # a replacement, hours later: logged, serving on
    assert len(errors) == 1 and "consult-gone-later" in errors[0] and "503" in errors[0]
