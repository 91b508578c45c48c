"""A real HTTP server for the app under test, and a small client that can forge any header.

The served app is a second app made by `create_app`; its requests use `db.session`, which the
autouse `_transaction` fixture (tests/conftest.py) binds to the test's connection, so the server
sees the test's data and everything it writes is rolled back with the test. Requests are made
one at a time, so the test thread and the server thread never use the connection together.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from consult import create_app
from consult.extensions import db

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NONCE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        return jsonlib.loads(self.body)

    def field(self, pattern: re.Pattern) -> str:
        match = pattern.search(self.text)
        assert match, f"{pattern.pattern} not in the page ({self.status})"
        return match.group(1)


@dataclass
class Client:
    """One visitor: keeps its cookies, sends whatever headers it is told to."""

    port: int
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, form: dict | None = None,
                json: dict | None = None, headers: dict | None = None) -> Reply:
        sent = {**self.headers, **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            # skip_host: the Host header is the test's to choose (or forge).
            connection.putrequest(method, path, skip_host="Host" in sent,
                                  skip_accept_encoding=True)
            for name, value in sent.items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
            return Reply(response.status, dict(response.getheaders()), data)
        finally:
            connection.close()

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> Reply:
        return self.request("POST", path, **kw)


@dataclass
class Served:
    app: object
    port: int

    def client(self, **headers) -> Client:
        return Client(self.port, headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.fixture
def serve():
    """`serve(**config)`: the app with these settings, served over HTTP on a free port."""
    running = []

    def start(**config) -> Served:
        app = create_app({"TESTING": True, "SERVER_NAME": None, **config})
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, name="served-app", daemon=True)
        thread.start()
        running.append((httpd, thread, app))
        return Served(app, httpd.server_port)

    yield start
    for httpd, thread, app in running:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        with app.app_context():
            db.engine.dispose()
