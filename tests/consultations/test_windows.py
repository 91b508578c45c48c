"""Comment-window rules (F4, SPEC §6): 30 days for rules and major decisions, 7 working days for
normative documents (30 days when they concern business activity), working days that skip
weekends and holidays and count make-up days (调休), and a shorter window only with a reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from consult import clock
from consult.config import _calendar
from consult.consultations import services, windows
from consult.consultations.models import Consultation, ConsultationType, State
from consult.errors import ValidationFailed
from consult.extensions import db
from tests.conftest import staff_post
from tests.factories import draft_form

RULE = ConsultationType.RULE
MAJOR = ConsultationType.MAJOR_DECISION
NORMATIVE = ConsultationType.NORMATIVE_DOCUMENT
D = date.fromisoformat


@pytest.fixture
def september_2026(travel):
    """Just before the 2026 Mid-Autumn and National Day holidays."""
    return travel(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))


# --- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize("day, working", [
    ("2026-09-18", True),    # Friday
    ("2026-09-19", False),   # Saturday
    ("2026-09-20", True),    # Sunday, but a make-up working day for National Day (调休)
    ("2026-09-25", False),   # Friday, Mid-Autumn Festival
    ("2026-10-01", False),   # National Day
    ("2026-10-07", False),   # Wednesday, still the National Day holiday
    ("2026-10-08", True),    # Thursday, back to work
    ("2026-10-10", True),    # Saturday, make-up working day
    ("2026-10-11", False),   # Sunday
    ("2026-01-04", True),    # Sunday, make-up working day for New Year's Day
    ("2026-02-14", True),    # Saturday, make-up working day for the Spring Festival
    ("2026-02-17", False),   # Spring Festival
])
def test_working_days_follow_the_2026_calendar(day, working):
    assert windows.is_working_day(D(day)) is working


def test_counting_days_includes_both_ends():
    assert windows.calendar_days(D("2026-03-02"), D("2026-03-02")) == 1
    assert windows.calendar_days(D("2026-03-02"), D("2026-03-31")) == 30
    assert windows.working_days(D("2026-03-02"), D("2026-03-08")) == 5  # Mon–Sun
    assert windows.working_days(D("2026-03-07"), D("2026-03-08")) == 0  # a weekend


def test_the_calendar_is_configurable(app, monkeypatch):
    monkeypatch.setitem(app.config, "HOLIDAYS", ["2026-03-04"])
    monkeypatch.setitem(app.config, "MAKEUP_WORKDAYS", ["2026-03-07"])
    assert not windows.is_working_day(D("2026-03-04"))
    assert windows.is_working_day(D("2026-03-07"))
    # Mon–Sun: five weekdays, less the holiday, plus the make-up Saturday.
    assert windows.working_days(D("2026-03-02"), D("2026-03-08")) == 5
    monkeypatch.setitem(app.config, "HOLIDAYS", [])
    monkeypatch.setitem(app.config, "MAKEUP_WORKDAYS", [])
    assert windows.is_working_day(D("2026-10-01"))  # no holidays configured: a Thursday


def test_calendar_from_the_environment_or_a_file(monkeypatch, tmp_path):
    monkeypatch.setenv("HOLIDAYS", "2027-01-01, 2027-02-05,")
    assert _calendar("HOLIDAYS", "holidays", "") == ["2027-01-01", "2027-02-05"]
    monkeypatch.setenv("HOLIDAYS", "2027-13-01")
    with pytest.raises(ValueError, match="HOLIDAYS"):
        _calendar("HOLIDAYS", "holidays", "")
    monkeypatch.delenv("HOLIDAYS")
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"holidays": ["2028-01-01"], "makeup_workdays": ["2028-01-08"]}))
    assert _calendar("HOLIDAYS", "holidays", str(path)) == ["2028-01-01"]
    assert _calendar("MAKEUP_WORKDAYS", "makeup_workdays", str(path)) == ["2028-01-08"]
    shipped = _calendar("HOLIDAYS", "holidays", str(tmp_path / "missing.json"))
    assert "2026-10-01" in shipped and "2026-02-17" in shipped


# --- the minimum per type ----------------------------------------------------------------------


def test_minimum_per_type_and_its_unit():
    assert windows.minimum(RULE) == windows.Minimum(30, working=False)
    assert windows.minimum(MAJOR) == windows.Minimum(30, working=False)
    assert windows.minimum(NORMATIVE) == windows.Minimum(7, working=True)
    assert windows.minimum(NORMATIVE, concerns_business=True) == windows.Minimum(30, False)
    assert windows.minimum(RULE, concerns_business=True) == windows.Minimum(30, False)
    assert windows.minimum(RULE).describe() == "不少于 30 日"
    assert windows.minimum(NORMATIVE).describe() == "不少于 7 个工作日"


@pytest.mark.parametrize("type_", [RULE, MAJOR])
def test_rules_and_major_decisions_need_30_calendar_days(type_):
    start = D("2026-03-02")
    windows.check(type_, start, start + timedelta(days=29))
    with pytest.raises(ValidationFailed) as error:
        windows.check(type_, start, start + timedelta(days=28))
    assert "不少于 30 日" in error.value.message
    assert "short_window_reason" in error.value.fields


def test_a_normative_document_needs_7_working_days_across_a_weekend():
    windows.check(NORMATIVE, D("2026-03-02"), D("2026-03-10"))  # Mon → next Tue: 7
    with pytest.raises(ValidationFailed) as error:
        windows.check(NORMATIVE, D("2026-03-02"), D("2026-03-09"))  # 6 working days
    assert "不少于 7 个工作日" in error.value.message
    assert "2026-03-10" in error.value.message  # the earliest possible closing date


def test_a_window_across_a_weekend_a_holiday_and_a_make_up_day():
    # Fri 18 Sep 2026 … Mon 28 Sep: Fri 18, Sun 20 (调休), Mon 21–Thu 24, Mon 28 = 7 working
    # days; Sat 19 and Sat–Sun 26–27 are weekends and Fri 25 is the Mid-Autumn Festival.
    assert windows.working_days(D("2026-09-18"), D("2026-09-28")) == 7
    windows.check(NORMATIVE, D("2026-09-18"), D("2026-09-28"))
    with pytest.raises(ValidationFailed):
        windows.check(NORMATIVE, D("2026-09-18"), D("2026-09-27"))


def test_a_window_across_the_national_day_holiday():
    # Mon 28 Sep – Wed 30 Sep (3), 1–7 Oct off, Thu 8, Fri 9, Sat 10 (调休), Mon 12 = 7.
    start = D("2026-09-28")
    assert windows.earliest_close(windows.minimum(NORMATIVE), start) == D("2026-10-12")
    assert windows.working_days(start, D("2026-10-11")) == 6
    windows.check(NORMATIVE, start, D("2026-10-12"))
    with pytest.raises(ValidationFailed) as error:
        windows.check(NORMATIVE, start, D("2026-10-11"))
    assert "本次为 6 个工作日" in error.value.message
    assert "2026-10-12" in error.value.message


def test_business_activity_needs_30_calendar_days():
    start = D("2026-03-02")
    windows.check(NORMATIVE, start, start + timedelta(days=13))  # 10 working days: enough
    with pytest.raises(ValidationFailed) as error:
        windows.check(NORMATIVE, start, start + timedelta(days=13), concerns_business=True)
    assert "不少于 30 日" in error.value.message
    windows.check(NORMATIVE, start, start + timedelta(days=29), concerns_business=True)


def test_a_short_window_needs_a_reason_and_blank_is_no_reason():
    start = D("2026-03-02")
    with pytest.raises(ValidationFailed):
        windows.check(RULE, start, start + timedelta(days=9), short_window_reason="   ")
    rule = windows.check(RULE, start, start + timedelta(days=9),
                         short_window_reason="防汛应急，须尽快施行。")
    assert rule.days == 30


def test_a_window_cannot_end_before_it_starts():
    with pytest.raises(ValidationFailed) as error:
        windows.check(RULE, D("2026-03-10"), D("2026-03-09"))
    assert "closes_on" in error.value.fields


def test_the_services_use_the_rules(make, september_2026):
    editor = make.user("editor")
    data = services.DraftInput(
        title="关于规范网络交易经营活动的通知（征求意见稿）", type=NORMATIVE, summary="摘要",
        explanation="", opens_on=D("2026-09-28"), closes_on=D("2026-10-12"),
        text="第一条 总则。\n第二条 适用范围。",
    )
    c = services.create_draft(editor.memberships[0].unit, data, actor=editor)
    assert not c.concerns_business
    data.concerns_business = True
    with pytest.raises(ValidationFailed) as error:
        services.update_draft(c, data, actor=editor)
    assert "不少于 30 日" in error.value.message


# --- through the staff form and the public page -----------------------------------------------


def _count() -> int:
    return db.session.scalar(db.select(db.func.count(Consultation.id)))


def test_the_form_counts_working_days_around_national_day(client_as, post_form, editor, unit,
                                                           september_2026):
    client = client_as(editor)
    short = draft_form(unit, opens_on="2026-09-28", closes_on="2026-10-11")
    response = post_form(client, "/staff/consultations/new", short)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "不少于 7 个工作日" in html and "2026-10-12" in html
    assert _count() == 0
    response = post_form(client, "/staff/consultations/new",
                         draft_form(unit, opens_on="2026-09-28", closes_on="2026-10-12"))
    assert response.status_code == 302
    assert _count() == 1


def test_the_business_checkbox_asks_for_30_days(client_as, post_form, editor, unit,
                                                 september_2026):
    client = client_as(editor)
    data = draft_form(unit, opens_on="2026-09-28", closes_on="2026-10-12", concerns_business="y")
    response = post_form(client, "/staff/consultations/new", data)
    assert response.status_code == 422
    assert "不少于 30 日" in response.get_data(as_text=True)
    data["closes_on"] = "2026-10-27"
    response = post_form(client, "/staff/consultations/new", data)
    assert response.status_code == 302
    c = db.session.scalars(db.select(Consultation)).one()
    assert c.concerns_business is True
    edit = client.get(f"/staff/consultations/{c.id}/edit").get_data(as_text=True)
    assert 'name="concerns_business"' in edit and "checked" in edit
    detail = client.get(f"/staff/consultations/{c.id}").get_data(as_text=True)
    assert "不少于 30 日" in detail


def test_a_short_working_day_window_shows_its_reason_publicly(
        client_as, post_form, editor, approver, unit, september_2026, travel):
    client = client_as(editor)
    reason = "上级要求 10 月底前出台，<script>alert(1)</script>"
    response = post_form(client, "/staff/consultations/new", draft_form(
        unit, opens_on="2026-09-28", closes_on="2026-10-09", short_window_reason=reason))
    assert response.status_code == 302
    c = db.session.scalars(db.select(Consultation)).one()
    assert staff_post(client, f"/staff/consultations/{c.id}/submit").status_code == 302
    approving = staff_post(client_as(approver), f"/staff/consultations/{c.id}/approve")
    assert approving.status_code == 302
    travel(datetime(2026, 9, 29, 2, 0, tzinfo=UTC))
    assert c.status == State.OPEN
    html = client_as().get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "征求意见期限少于规定期限的理由" in html
    assert "上级要求 10 月底前出台，&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_submit_rechecks_the_window_with_the_calendar(client_as, make, editor, unit,
                                                       september_2026):
    c = make.consultation("draft", unit=unit, opens_at=clock.start_of_day(D("2026-09-28")),
                          closes_at=clock.end_of_day(D("2026-10-11")))
    response = staff_post(client_as(editor), f"/staff/consultations/{c.id}/submit")
    assert response.status_code == 422
    assert "不少于 7 个工作日" in response.get_data(as_text=True)
    assert c.state == State.DRAFT
