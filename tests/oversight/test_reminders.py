"""Reminders (issue 14): once on the right working day (holidays and make-up days included),
then weekly while the cause lasts, never twice in a week, to the unit's editors and approvers;
the platform office's weekly summary; optional ones switched off by a unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from consult import clock, mail
from consult.errors import Conflict
from consult.extensions import db
from consult.jobs import queue as jobs
from consult.jobs import schedule
from consult.jobs.models import Job, JobStatus
from consult.oversight import reminders
from consult.oversight.reminders import SentReminder
from consult.policies import services as policy_services
from consult.policies.models import Interpretation, Policy
from tests.conftest import csrf_from

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    """Freeze the clock at `hour` local time on `day`."""
    moment = datetime.combine(day, time(hour), ZONE).astimezone(UTC)
    clock.freeze(moment)
    return moment


def sent(cause: str | None = None) -> list[SentReminder]:
    query = db.select(SentReminder).order_by(SentReminder.id)
    if cause:
        query = query.where(SentReminder.cause == cause)
    return db.session.scalars(query).all()


def mails(kind: str = "reminder") -> list[mail.OutboxMessage]:
    return db.session.scalars(db.select(mail.OutboxMessage).where(
        mail.OutboxMessage.kind == kind).order_by(mail.OutboxMessage.id)).all()


@pytest.fixture
def late(make, unit):
    """Closed on Monday 31 August 2026 with one comment unanswered: its report is due on
    Wednesday 30 September, the eve of the National Day holiday (1–7 October)."""
    at(date(2026, 8, 20))
    consultation = make.consultation(
        "closed", unit, opens_at=clock.start_of_day(date(2026, 8, 1)),
        closes_at=clock.end_of_day(date(2026, 8, 31)))
    make.comment(consultation)
    return consultation


@pytest.fixture
def staff(make, unit):
    return [make.user("editor", unit, email="editor@unit.example"),
            make.user("approver", unit, email="approver@unit.example")]


def test_report_due_begins_three_working_days_before_skipping_the_mid_autumn_holiday(
        late, staff):
    at(date(2026, 9, 23))  # Wednesday: four working days before the 30th
    reminders.send_due()
    assert sent("report_due") == []
    at(date(2026, 9, 24))  # Thursday: 28, 29, 30 are the three working days left (25–27 off)
    reminders.send_due()
    [row] = sent("report_due")
    assert row.period == "2026-09-24+0" and row.recipients == 2
    assert {m.recipient for m in mails() if "即将到期" in m.subject} == \
        {"editor@unit.example", "approver@unit.example"}
    reminders.send_due()  # a second run that day, or another worker
    at(date(2026, 9, 28))  # the next working day
    reminders.send_due()
    assert len(sent("report_due")) == 1


def test_an_overdue_report_is_told_on_the_first_working_day_then_weekly(late, staff):
    at(date(2026, 10, 1))  # overdue from today, but a public holiday
    result = reminders.send_due()
    assert result.not_a_working_day and sent() == []
    at(date(2026, 10, 8))  # Thursday, the first working day after the holiday
    reminders.send_due()
    [row] = sent("report_overdue")
    assert row.period == "2026-10-01+0"
    message = next(m for m in mails() if "逾期" in m.subject)
    assert "已逾期 8 天" in message.body and "/staff/consultations/" in message.body
    at(date(2026, 10, 10))  # a make-up working day (Saturday): the same week, nothing new
    assert not reminders.send_due().not_a_working_day
    assert len(sent("report_overdue")) == 1
    at(date(2026, 10, 15))  # a week later, still overdue
    reminders.send_due()
    assert [r.period for r in sent("report_overdue")] == ["2026-10-01+0", "2026-10-01+1"]
    assert "每周发送一次，直至办结" in [m for m in mails() if "逾期" in m.subject][-1].body
    late.report_published_at = clock.now()  # the cause ends
    late.state = "report_published"
    db.session.flush()
    at(date(2026, 10, 22))
    reminders.send_due()
    assert len(sent("report_overdue")) == 2


def test_several_workers_send_one_reminder(late, staff):
    at(date(2026, 10, 8))
    db.session.add(SentReminder(cause="report_overdue", object_type="consultations",
                                object_id=late.id, period="2026-10-01+0",
                                unit_id=late.unit_id))  # another worker was first
    db.session.flush()
    reminders.send_due()
    assert len(sent("report_overdue")) == 1
    assert not any("逾期" in m.subject for m in mails())


def test_two_workers_racing_for_one_reminder_send_it_once(late, staff, monkeypatch):
    """Both read "none sent yet"; the unique row lets only the first one's mail out."""
    at(date(2026, 10, 8))
    reminders.send_due()
    assert len(sent("report_overdue")) == 1
    before = len(mails())
    monkeypatch.setattr(reminders, "next_period",
                        lambda cause, obj, began, today: f"{began.isoformat()}+0")
    reminders.send_due()  # the slower worker, which read before the first one wrote
    assert len(sent("report_overdue")) == 1 and len(mails()) == before


def test_a_cause_that_begins_in_a_holiday_is_told_when_work_resumes_then_a_week_later(
        late, staff):
    """Overdue from 1 October (in the holiday): told on Thursday 8 October, when work resumes,
    then not before a week has passed since that reminder."""
    for day in (date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 12), date(2026, 10, 14)):
        at(day)
        reminders.send_due()
        assert len(sent("report_overdue")) == 1, day
    at(date(2026, 10, 15))
    reminders.send_due()
    assert len(sent("report_overdue")) == 2


def test_a_unit_can_switch_off_the_optional_reminder_only(app, late, staff, client_as, unit):
    approver = staff[1]
    client = client_as(approver)
    page = client.get("/staff/reminders")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/staff/reminders", data={
        "csrf_token": token, "unit_id": unit.id, "cause": "window_closed", "on": "0"})
    assert response.status_code == 303
    statutory = client.post("/staff/reminders", data={
        "csrf_token": token, "unit_id": unit.id, "cause": "report_overdue", "on": "0"})
    assert statutory.status_code == 303
    with pytest.raises(Conflict):
        reminders.switch(unit, "report_overdue", on=False, actor=approver)
    editor_client = client_as(staff[0])
    editor_token = csrf_from(editor_client.get("/staff/reminders").get_data(as_text=True))
    assert editor_client.post("/staff/reminders", data={
        "csrf_token": editor_token, "unit_id": unit.id, "cause": "window_closed",
        "on": "1"}).status_code == 403  # editors see, approvers decide
    at(date(2026, 10, 8))
    result = reminders.send_due()
    assert result.skipped_off == 1
    assert sent("window_closed") == [] and len(sent("report_overdue")) == 1


def test_the_window_closed_reminder(late, staff):
    at(date(2026, 9, 1))  # Tuesday, the day after the window closed
    reminders.send_due()
    [row] = sent("window_closed")
    assert row.period == "2026-09-01+0"
    assert "1 条意见尚未答复" in next(m for m in mails() if "已截止" in m.subject).body


def test_a_policy_without_interpretation_after_three_working_days(make, unit, staff):
    at(date(2026, 11, 2))
    policy = Policy(unit=unit, title="某某管理办法", document_number="测〔2026〕1号",
                    issued_on=date(2026, 11, 2), text="正文", published_at=clock.now())
    db.session.add(policy)
    db.session.flush()
    at(date(2026, 11, 5))  # Thursday: the third working day, still in time
    reminders.send_due()
    assert sent("interpretation_missing") == []
    at(date(2026, 11, 6))
    reminders.send_due()
    assert len(sent("interpretation_missing")) == 1
    db.session.add(Interpretation(policy=policy, title="解读", body="解读",
                                  published_at=clock.now()))
    db.session.flush()
    at(date(2026, 11, 13))
    reminders.send_due()
    assert len(sent("interpretation_missing")) == 1


def test_the_weekly_summary_goes_to_the_platform_office_once_a_week(late, staff, make):
    admin = make.user(admin=True, email="office@platform.example")
    at(date(2026, 10, 8))
    reminders.send_due()
    [summary] = mails("reminder_summary")
    assert summary.recipient == admin.email
    assert late.title in summary.body and "2026-W41" in summary.subject
    at(date(2026, 10, 9))
    reminders.send_due()
    assert len(mails("reminder_summary")) == 1
    at(date(2026, 10, 12))  # the next ISO week
    reminders.send_due()
    assert len(mails("reminder_summary")) == 2


def test_reminders_are_scheduled_once_a_day_and_run_as_a_job(app, late, staff):
    app.config["REMINDER_HOUR"] = 9
    try:
        at(date(2026, 10, 8), hour=8)
        assert "reminders" not in schedule.tick()
        at(date(2026, 10, 8), hour=10)
        assert "reminders" in schedule.tick()
        assert "reminders" not in schedule.tick()  # a second worker's tick
        assert jobs.run_due() == 1
        job = db.session.scalar(db.select(Job).where(Job.kind == "reminders"))
        assert job.status == JobStatus.DONE and job.result["sent"] >= 1
        at(date(2026, 10, 9), hour=10)
        assert "reminders" in schedule.tick()
    finally:
        app.config["REMINDER_HOUR"] = None


def test_reminders_go_to_the_unit_above_when_the_unit_has_no_staff(make, unit):
    below = make.unit("下属单位", parent=unit)
    make.user("approver", unit, email="above@unit.example")
    at(date(2026, 8, 20))
    consultation = make.consultation("closed", below,
                                     opens_at=clock.start_of_day(date(2026, 8, 1)),
                                     closes_at=clock.end_of_day(date(2026, 8, 31)))
    at(date(2026, 10, 8))
    reminders.send_due()
    assert {m.recipient for m in mails()} == {"above@unit.example"}
    assert sent("report_overdue")[0].object_id == consultation.id


def test_nothing_is_sent_at_a_weekend(late, staff):
    at(date(2026, 10, 17))  # Saturday
    assert reminders.send_due().not_a_working_day
    assert sent() == []
    assert date(2026, 10, 17) + timedelta(days=2) == date(2026, 10, 19)


@pytest.fixture
def unfiled(unit):
    """A normative document issued on Tuesday 1 September 2026 and published, not filed: its
    filing (备案) is due within 30 days, by 1 October (a holiday), late from 2 October."""
    at(date(2026, 9, 1))
    policy = Policy(unit=unit, title="某某补贴办法", document_number="测规〔2026〕3号",
                    type="normative_document", issued_on=date(2026, 9, 1), text="正文",
                    published_at=clock.now())
    db.session.add(policy)
    db.session.flush()
    return policy


def test_a_late_filing_is_told_when_work_resumes_then_weekly_until_filed(unfiled, staff, unit):
    for day in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 7)):
        at(day)  # in time, then the National Day holiday (1–7 October)
        reminders.send_due()
    assert sent("filing_late") == []
    at(date(2026, 10, 8))  # Thursday, the first working day it is late
    reminders.send_due()
    [row] = sent("filing_late")
    assert row.period == "2026-10-02+0" and row.recipients == 2 and row.unit_id == unit.id
    notices = [m for m in mails() if "尚未报送备案" in m.subject]
    assert {m.recipient for m in notices} == {"editor@unit.example", "approver@unit.example"}
    body = notices[0].body
    assert "《某某补贴办法》（测规〔2026〕3号）于 2026-09-01 印发" in body
    assert "应在 2026-10-01 前报送备案，已逾期 7 天" in body
    assert f"/staff/policies/{unfiled.id}" in body
    # Friday is a week after the cause began, but only a day after the reminder; Saturday 10
    # October is a make-up working day in the same week.
    for day in (date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 14)):
        at(day)
        reminders.send_due()
    assert len(sent("filing_late")) == 1
    at(date(2026, 10, 15))
    reminders.send_due()
    assert [r.period for r in sent("filing_late")] == ["2026-10-02+0", "2026-10-02+1"]
    assert "已逾期 14 天" in [m for m in mails() if "尚未报送备案" in m.subject][-1].body
    at(date(2026, 10, 16))
    policy_services.record_filing(unfiled, filed_with="市人民政府", filed_on=date(2026, 10, 16),
                                  filing_number=None, actor=staff[1])
    at(date(2026, 10, 22))
    reminders.send_due()
    assert len(sent("filing_late")) == 2


def test_the_filing_reminder_is_statutory(app, unfiled, staff, unit, client_as):
    """Filing within 30 days is a duty of law (立法法, 法规规章备案审查条例, the province's rules
    on normative documents): no unit can switch its reminder off."""
    assert reminders.CAUSES["filing_late"].statutory
    with pytest.raises(Conflict):
        reminders.switch(unit, "filing_late", on=False, actor=staff[1])
    client = client_as(staff[1])
    page = client.get("/staff/reminders").get_data(as_text=True)
    line = page[page.index("规章、行政规范性文件逾期未报送备案"):][:200]
    assert "法定期限，不能关闭" in line
    token = csrf_from(page)
    client.post("/staff/reminders", data={"csrf_token": token, "unit_id": unit.id,
                                          "cause": "filing_late", "on": "0"})
    at(date(2026, 10, 8))
    assert reminders.send_due().skipped_off == 0
    assert len(sent("filing_late")) == 1


def test_no_filing_reminder_for_what_needs_none_or_is_filed(make, unit, staff):
    at(date(2026, 9, 1))
    cases = {
        "major_decision": dict(type="major_decision"),  # no filing required
        "unpublished": dict(published_at=None),
        "filed": dict(filed_on=date(2026, 9, 20), filed_with="市人民政府"),
        "filed_late": dict(filed_on=date(2026, 10, 5), filed_with="市人民政府"),
    }
    for number, (name, changes) in enumerate(cases.items()):
        db.session.add(Policy(**{
            "unit": unit, "title": name, "document_number": f"测〔2026〕{number + 10}号",
            "type": "normative_document", "issued_on": date(2026, 9, 1), "text": "正文",
            "published_at": clock.now(), **changes}))
    db.session.flush()
    at(date(2026, 10, 8))
    reminders.send_due()
    assert sent("filing_late") == []


def test_the_weekly_summary_lists_late_filings(unfiled, staff, make):
    admin = make.user(admin=True, email="office@platform.example")
    at(date(2026, 10, 8))
    reminders.send_due()
    [summary] = mails("reminder_summary")
    assert summary.recipient == admin.email
    assert "规章、行政规范性文件逾期未报送备案：1 项" in summary.body
    assert "《某某补贴办法》（逾期 7 天）" in summary.body
