"""Browser tests: Debian's Chromium, driven by Playwright, against a real HTTP server.

The server is a separate app on a temporary SQLite file with the demo data, served by
Werkzeug in a daemon thread. Its requests use `db.session`, which the autouse `_transaction`
fixture of tests/conftest.py swaps for one bound to the test's connection, so every test here
runs with `real_session` (a normal scoped session) for as long as the browser talks to it.

Without /usr/bin/chromium or the playwright package the tests skip, unless CI=true.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from consult import create_app
from consult.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
DEMO_PASSWORD = "demo-password-2026"


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


_APPS: dict[str, object] = {}  # base URL → the app serving it (see `live_app`)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The base URL of a live server with the demo data; shut down at the end of the run."""
    from consult.demo import load_demo

    path = tmp_path_factory.mktemp("e2e") / "consult.db"
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SERVER_NAME": None,
        "WTF_CSRF_ENABLED": True, "OUTBOX_BACKGROUND": False,
    })
    swapped = db.session  # whatever a test fixture left there: set up with a session of our own
    db.session = db._make_scoped_session({})
    try:
        with app.app_context():
            db.create_all()
            load_demo()
            db.session.remove()
    finally:
        db.session = swapped
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    _APPS[base] = app
    yield base
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _live_session(real_session):
    """The server thread's requests get a real session while the test runs (see above)."""
    yield


@pytest.fixture
def dialogs():
    """Messages of the JavaScript dialogs (alert, confirm...) opened by the test's pages."""
    return []


@pytest.fixture
def new_page(browser, server, dialogs):
    """`new_page(**context_options)`: a page in a fresh context (own cookies) on the server.
    Any JavaScript dialog fails the test: hostile input must stay text."""
    contexts = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    def make(**options):
        context = browser.new_context(base_url=server, locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not dialogs, f"a JavaScript dialog opened: {dialogs}"


@pytest.fixture
def login():
    """`login(page, email)`: sign in on /login as a member of staff."""

    def sign_in(page, email: str, password: str = DEMO_PASSWORD):
        page.goto("/login")
        page.get_by_label("电子邮箱").fill(email)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_load_state()
        assert "/login" not in page.url, "the demo login failed"

    return sign_in


@pytest.fixture
def live_app(server):
    """The app behind `server`: to run its queued jobs (its tests run no background thread)
    or look at its database."""
    return _APPS[server]
