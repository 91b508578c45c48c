"""/admin/settings (saved values override the environment, never below SPEC §6) and the audit
log (filters, export, hash-chain status)."""

from __future__ import annotations

from datetime import date

import pytest

from consult import settings
from consult.audit import AuditEvent
from consult.consultations import windows
from consult.extensions import db
from consult.settings import Setting
from tests.conftest import csrf_from


@pytest.fixture
def admin(make):
    return make.user(admin=True)


@pytest.fixture
def office(client_as, admin):
    return client_as(admin)


def form(**changes) -> dict:
    """The settings form as the page fills it (the current values), with `changes`."""
    data = {"WINDOW_MIN_DAYS-rule": "30", "WINDOW_MIN_DAYS-major_decision": "30",
            "WINDOW_MIN_DAYS-normative_document": "7", "WINDOW_MIN_DAYS-other": "7",
            "WINDOW_BUSINESS_MIN_DAYS": "30",
            "HOLIDAYS": "\n".join(settings.value("HOLIDAYS")),
            "MAKEUP_WORKDAYS": "\n".join(settings.value("MAKEUP_WORKDAYS")),
            "REPORT_DUE_DAYS": "30", "CONTACT_RETENTION_DAYS": "180", "SITE_NAME": "",
            **{key: settings.value(key) for key in (
                "SITE_SPONSOR", "SITE_OPERATOR", "SITE_CONTACT", "SITE_CONTACT_EMAIL",
                "SITE_ID_CODE", "SITE_ICP", "SITE_PSB")}}
    data.update(changes)
    return data


def save(client, data):
    token = csrf_from(client.get("/admin/settings").get_data(as_text=True))
    return client.post("/admin/settings", data={"csrf_token": token, **data})


def test_the_page_shows_the_defaults(office):
    html = office.get("/admin/settings").get_data(as_text=True)
    assert 'name="WINDOW_MIN_DAYS-rule"' in html and 'value="30"' in html


def test_saving_overrides_the_environment_and_is_audited(office, admin, client):
    response = save(office, form(**{"REPORT_DUE_DAYS": "20", "WINDOW_MIN_DAYS-other": "10",
                                    "SITE_SPONSOR": "某市人民政府",
                                    "SITE_ICP": "京ICP备00000000号"}))
    assert response.status_code == 303
    settings.forget()
    assert settings.value("REPORT_DUE_DAYS") == 20
    assert windows.minimum("other").days == 10
    assert windows.minimum("rule").days == 30
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.actor_id == admin.id)
                                .order_by(AuditEvent.seq)).all()
    assert sorted(e.detail["key"] for e in events) == ["REPORT_DUE_DAYS", "SITE_ICP",
                                                        "SITE_SPONSOR", "WINDOW_MIN_DAYS"]
    due = next(e for e in events if e.detail["key"] == "REPORT_DUE_DAYS")
    assert (due.detail["before"], due.detail["after"]) == (30, 20)
    footer = client.get("/").get_data(as_text=True)
    assert "某市人民政府" in footer and "京ICP备00000000号" in footer
    # back to the default: the override goes
    assert save(office, form(**{"WINDOW_MIN_DAYS-other": "10", "SITE_SPONSOR": "某市人民政府",
                                "SITE_ICP": "京ICP备00000000号"})).status_code == 303
    assert db.session.get(Setting, "REPORT_DUE_DAYS") is None
    assert db.session.scalar(db.select(AuditEvent.action).order_by(AuditEvent.seq.desc())
                             .limit(1)) == "reset_setting"


@pytest.mark.parametrize("changes, field", [
    ({"WINDOW_MIN_DAYS-rule": "29"}, "WINDOW_MIN_DAYS-rule"),  # below the statutory 30
    ({"WINDOW_MIN_DAYS-normative_document": "5"}, "WINDOW_MIN_DAYS-normative_document"),
    ({"WINDOW_BUSINESS_MIN_DAYS": "20"}, "WINDOW_BUSINESS_MIN_DAYS"),
    ({"WINDOW_MIN_DAYS-other": "abc"}, "WINDOW_MIN_DAYS-other"),
    ({"REPORT_DUE_DAYS": "0"}, "REPORT_DUE_DAYS"),
    ({"REPORT_DUE_DAYS": "３０"}, "REPORT_DUE_DAYS"),
    ({"CONTACT_RETENTION_DAYS": "-1"}, "CONTACT_RETENTION_DAYS"),
    ({"HOLIDAYS": "2026-10-01\n2026-13-01"}, "HOLIDAYS"),
    ({"SITE_NAME": "x" * 61}, "SITE_NAME"),
])
def test_bad_values_save_nothing(office, changes, field):
    before = db.session.scalar(db.select(db.func.count(AuditEvent.id)))
    response = save(office, form(**{"REPORT_DUE_DAYS": "25", **changes}))
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Setting.key))) == 0  # all or nothing
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == before


def test_a_saved_holiday_calendar_moves_working_day_deadlines(office):
    monday = date(2026, 12, 7)
    assert windows.add_working_days(monday, 1) == date(2026, 12, 8)
    holidays = form()["HOLIDAYS"] + "\n2026-12-08"
    assert save(office, form(HOLIDAYS=holidays)).status_code == 303
    settings.forget()
    assert windows.add_working_days(monday, 1) == date(2026, 12, 9)


def test_the_audit_log_filters_exports_and_verifies(office, admin, make):
    other = make.unit("市人社局")
    save(office, form(REPORT_DUE_DAYS="21"))
    html = office.get("/admin/audit?action=change_setting").get_data(as_text=True)
    assert "修改平台设置" in html and "REPORT_DUE_DAYS" in html
    assert "REPORT_DUE_DAYS" not in office.get(
        f"/admin/audit?unit={other.id}").get_data(as_text=True)
    csv = office.get(f"/admin/audit.csv?actor={admin.id}")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    text = csv.get_data().decode("utf-8-sig")
    assert "change_setting" in text and text.count("\r\n") == 2  # the header and one row
    verify = office.get("/admin/audit/verify").get_data(as_text=True)
    assert "哈希链完整" in verify
    for bad in ("since=2026-02-30", "until=yesterday", "actor=abc",
                "since=2026-05-01&until=2026-04-01"):
        assert office.get(f"/admin/audit?{bad}").status_code == 400, bad
