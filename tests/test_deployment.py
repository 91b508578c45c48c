"""The shipped nginx config (docs/deploy/nginx-consult.conf) is valid for Debian's nginx and does
what docs/deployment.md says: anonymous pages cached only when the app marks them public, never
with a cookie either way, X-Forwarded-For set by nginx alone, HSTS, IPv6, the body limit."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from consult.config import Config
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "docs" / "deploy" / "nginx-consult.conf"
START_SECONDS = 30


def test_the_body_limit_matches_the_apps():
    size = re.search(r"client_max_body_size (\d+)m;", SHIPPED.read_text())
    assert size and int(size.group(1)) * 1024 * 1024 == Config.MAX_CONTENT_LENGTH


@pytest.fixture(scope="module")
def nginx_binary():
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                       else None)
    if found is None:
        if IN_CI:
            pytest.fail("nginx is not installed (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed")
    return found


class Backend(http.server.BaseHTTPRequestHandler):
    """A stand-in for the app: answers by path, counts what reaches it."""

    hits: dict[str, int] = {}
    forwarded: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Backend.hits[self.path] = Backend.hits.get(self.path, 0) + 1
        Backend.forwarded.append(self.headers.get("X-Forwarded-For", ""))
        body = f"{self.path} #{Backend.hits[self.path]}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/public"):
            self.send_header("Cache-Control", "public, max-age=300")
            self.send_header("ETag", '"v1"')
        if self.path.startswith("/with-cookie"):
            self.send_header("Cache-Control", "public, max-age=300")
            self.send_header("Set-Cookie", "session=abc; HttpOnly; Path=/")
        if self.path.startswith("/private"):
            self.send_header("Cache-Control", "private, no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
        return sock.getsockname()[1]


def site_config(tmp: Path, backend_port: int, http_port: int, https_port: int) -> str:
    """The shipped file with only the machine-specific parts swapped for the test's."""
    text = SHIPPED.read_text()
    text = text.replace("/var/cache/nginx/consult", str(tmp / "cache"))
    text = text.replace("/var/log/nginx/consult", str(tmp / "logs"))
    text = text.replace("/etc/nginx/tls/consult.example.gov.cn.fullchain.pem", str(tmp / "c.pem"))
    text = text.replace("/etc/nginx/tls/consult.example.gov.cn.key", str(tmp / "k.pem"))
    text = re.sub(r"server 10\.0\.0\.11:8000", f"server 127.0.0.1:{backend_port}", text)
    text = re.sub(r"\s*server 10\.0\.0\.12:8000[^;]*;", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen [::]:80;", f"listen [::1]:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = text.replace("listen [::]:443 ssl http2;", f"listen [::1]:{https_port} ssl http2;")
    directives = re.sub(r"#[^\n]*", "", text)
    assert "10.0.0." not in directives and "/var/" not in directives
    assert "/etc/" not in directives
    return text


@pytest.fixture(scope="module")
def nginx(nginx_binary, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    (tmp / "logs").mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=consult.example.gov.cn", "-keyout", str(tmp / "k.pem"),
                    "-out", str(tmp / "c.pem")], check=True, capture_output=True)
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    (tmp / "site.conf").write_text(site_config(tmp, backend.server_port, http_port, https_port))
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(f"{name}_temp_path {tmp / name};\n"
                         for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp / "nginx.conf").write_text(
        f"{user}pid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'};\n"
        f"events {{}}\nhttp {{\naccess_log {tmp / 'access.log'};\n{temp_paths}"
        f"include {tmp / 'site.conf'};\n}}\n")
    command = [nginx_binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr and "test is successful" in check.stderr
    with open(tmp / "stderr.log", "wb") as stderr:
        process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=stderr)
    deadline = time.monotonic() + START_SECONDS
    while True:  # readiness, not a timed assertion
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"nginx did not start: {(tmp / 'stderr.log').read_text()}")
            time.sleep(0.1)
    yield {"http": http_port, "https": https_port}
    process.terminate()
    process.wait(timeout=30)
    backend.shutdown()
    backend.server_close()


def fetch(url: str, **headers):
    headers.setdefault("Host", "consult.example.gov.cn")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         NoRedirect())
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_shipped_config_passes_nginx_t(nginx):
    assert nginx["https"]  # `nginx -t` ran in the fixture


def test_http_redirects_to_https_on_ipv4_and_ipv6(nginx):
    for host in ("127.0.0.1", "[::1]"):
        status, headers, _ = fetch(f"http://{host}:{nginx['http']}/consultations")
        assert status == 301 and headers["Location"].startswith("https://")


def test_a_public_page_is_cached_with_hsts_on_both_address_families(nginx):
    base = f"https://127.0.0.1:{nginx['https']}"
    first = fetch(f"{base}/public-page")
    second = fetch(f"https://[::1]:{nginx['https']}/public-page")
    assert first[0] == second[0] == 200
    assert first[1]["X-Cache-Status"] == "MISS" and second[1]["X-Cache-Status"] == "HIT"
    assert Backend.hits["/public-page"] == 1
    assert second[2] == b"/public-page #1"
    assert "max-age=63072000" in second[1]["Strict-Transport-Security"]


def test_a_request_with_a_session_cookie_is_never_served_from_or_stored_in_the_cache(nginx):
    base = f"https://127.0.0.1:{nginx['https']}"
    fetch(f"{base}/public-two")  # cached for anonymous visitors
    status, headers, body = fetch(f"{base}/public-two", Cookie="session=someone")
    assert headers["X-Cache-Status"] == "BYPASS" and body == b"/public-two #2"
    assert fetch(f"{base}/public-two")[2] == b"/public-two #1"  # the cookie's answer not kept
    fetch(f"{base}/public-three", Cookie="session=someone")
    assert fetch(f"{base}/public-three")[2] == b"/public-three #2"  # nothing was stored


def test_responses_with_set_cookie_or_without_public_cache_control_are_never_cached(nginx):
    base = f"https://127.0.0.1:{nginx['https']}"
    for path in ("/with-cookie", "/private", "/plain"):
        fetch(f"{base}{path}")
        status, headers, body = fetch(f"{base}{path}")
        assert status == 200 and body == f"{path} #2".encode(), path
        assert Backend.hits[path] == 2


def test_the_app_sees_the_client_address_set_by_nginx_not_a_forged_one(nginx):
    Backend.forwarded.clear()
    fetch(f"https://127.0.0.1:{nginx['https']}/private?xff", **{"X-Forwarded-For": "6.6.6.6"})
    assert Backend.forwarded == ["127.0.0.1"]


def test_an_oversize_body_is_refused_by_nginx(nginx):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(
        f"https://127.0.0.1:{nginx['https']}/consultations/1/comment", method="POST",
        data=b"x" * (Config.MAX_CONTENT_LENGTH + 1))
    try:
        urllib.request.urlopen(request, context=context, timeout=30)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    except OSError:  # nginx may close the connection while the body is still being sent
        status = 413
    assert status == 413
    assert "/consultations/1/comment" not in Backend.hits
