"""The security and access logs, kept at least six months (网络安全法 Art 21).

Sign-ins, failures, throttled attempts, sign-outs, ended sessions and permission refusals are
written to the day's security log; every request to the day's access log, with mailed tokens
left out. Files older than the retention are deleted; a retention under 180 days stops the start.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from consult import clock, create_app
from consult.security.log import ACCESS, SECURITY, DailyFileHandler
from tests.conftest import csrf_from
from tests.factories import PASSWORD


@pytest.fixture
def logged_app(tmp_path):
    app = create_app({"TESTING": True, "LOG_DIR": str(tmp_path)})
    yield app
    for logger in (SECURITY, ACCESS):
        for handler in list(logger.handlers):
            if isinstance(handler, DailyFileHandler) and handler.directory == tmp_path:
                logger.removeHandler(handler)
                handler.close()


def _read(tmp_path, name: str) -> str:
    path = tmp_path / f"{name}-{clock.today().isoformat()}.log"
    assert path.exists(), sorted(p.name for p in tmp_path.iterdir())
    return path.read_text(encoding="utf-8")


def _login(client, url, email, password):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def test_sign_ins_failures_sign_outs_and_refusals_are_logged(logged_app, tmp_path, make):
    editor = make.user("editor", email="editor@example.org")
    make.citizen("reader@example.net")
    client = logged_app.test_client()
    assert _login(client, "/login", editor.email, "wrong-password").status_code == 422
    assert _login(client, "/login", editor.email, PASSWORD).status_code == 302
    assert client.get("/staff/security/logins").status_code == 403
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    citizen = logged_app.test_client()
    _login(citizen, "/account/login", "reader@example.net", "wrong-password")

    lines = _read(tmp_path, "security").splitlines()
    events = [line.split(" ")[1] for line in lines]
    assert events == ["login_failed", "login", "refused", "logout", "login_failed"], lines
    assert "account=editor@example.org" in lines[0] and "ip=127.0.0.1" in lines[0]
    assert "status=403" in lines[2] and f"user={editor.id}" in lines[2]
    # A citizen's address is personal data: the log names it by a keyed hash.
    assert "reader@example.net" not in lines[4] and "account=h:" in lines[4]


def test_the_access_log_leaves_mailed_tokens_out(logged_app, tmp_path):
    client = logged_app.test_client()
    client.get("/account/password/SECRET-TOKEN-123?next=/x")
    client.get("/receipts/ZX26-7K3M-9QXD")
    access = _read(tmp_path, "access")
    assert "SECRET-TOKEN-123" not in access and "ZX26-7K3M-9QXD" not in access
    assert "GET /account/password/<token> 400" in access
    assert "GET /receipts/<tracking_no> 404" in access


def test_log_lines_cannot_be_forged_with_newlines(logged_app, tmp_path):
    client = logged_app.test_client()
    _login(client, "/login", "x@example.org\nlogin kind=staff account=admin", "wrong")
    security = _read(tmp_path, "security")
    assert len(security.splitlines()) == 1


def test_each_day_has_its_own_file_and_old_files_are_deleted(tmp_path, travel):
    handler = DailyFileHandler(tmp_path, "security", retention_days=180)
    today = date(2026, 12, 6)
    old = handler.path_for(today - timedelta(days=181))
    kept = handler.path_for(today - timedelta(days=179))  # 180 days old on the second day
    other = tmp_path / "access-2020-01-01.log"
    for path in (old, kept, other):
        path.write_text("x\n")
    logger = logging.getLogger("consult.test.daily")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        travel(clock.start_of_day(today) + timedelta(hours=9))
        logger.warning("first")
        travel(clock.start_of_day(today + timedelta(days=1)) + timedelta(hours=1))
        logger.warning("second")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert not old.exists() and kept.exists() and other.exists()
    assert handler.path_for(today).read_text().endswith(" first\n")
    assert handler.path_for(today + timedelta(days=1)).read_text().endswith(" second\n")


def test_a_retention_under_six_months_stops_the_start():
    with pytest.raises(ValueError, match="180"):
        create_app({"TESTING": True, "LOG_RETENTION_DAYS": 90})


def test_forged_forms_and_foreign_hosts_are_logged(logged_app, tmp_path):
    client = logged_app.test_client()
    client.post("/account/password/SECRET-TOKEN-9", data={"password": "x"})
    client.get("/", headers={"Host": "evil.example"})
    lines = _read(tmp_path, "security").splitlines()
    assert [line.split(" ")[1] for line in lines] == ["csrf_failed", "untrusted_host"]
    assert "path=/account/password/<token>" in lines[0] and "SECRET-TOKEN-9" not in lines[0]
    assert "host=evil.example" in lines[1]


def test_the_access_log_names_who_is_signed_in_and_nobody_without_a_cookie(logged_app, tmp_path,
                                                                          make):
    editor = make.user("editor", email="editor@example.org")
    staff = logged_app.test_client()
    assert _login(staff, "/login", editor.email, PASSWORD).status_code == 302
    staff.get("/staff")
    logged_app.test_client().get("/api/v1/consultations")  # no cookie at all
    lines = _read(tmp_path, "access").splitlines()
    staff_line = next(line for line in lines if " GET /staff " in line)
    api_line = next(line for line in lines if " GET /api/v1/consultations " in line)
    assert f"user={editor.id}" in staff_line
    assert api_line.endswith("user=- citizen=-")
