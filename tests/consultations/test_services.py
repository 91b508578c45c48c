"""Consultation services: drafting, window rules, approval, return, withdrawal, audit."""

from datetime import timedelta

import pytest

from consult import audit, clock
from consult.consultations import services
from consult.consultations.models import ConsultationType, State
from consult.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import draft_input


def test_create_draft_splits_articles_and_sets_the_window(make):
    editor = make.user("editor")
    unit = editor.memberships[0].unit
    c = services.create_draft(unit, draft_input(), actor=editor)
    assert c.state == State.DRAFT
    assert [a.label for a in c.current_version.articles] == ["第一条", "第二条", "第三条"]
    assert clock.local(c.closes_at).strftime("%H:%M:%S") == "23:59:59"
    assert clock.local(c.opens_at).strftime("%H:%M:%S") == "00:00:00"
    assert [e.action for e in audit.events_for(c)] == ["create"]


@pytest.mark.parametrize("type_, days, ok", [
    (ConsultationType.RULE, 29, False), (ConsultationType.RULE, 30, True),
    (ConsultationType.MAJOR_DECISION, 29, False), (ConsultationType.MAJOR_DECISION, 30, True),
    (ConsultationType.NORMATIVE_DOCUMENT, 6, False),  # never 7 working days
])
def test_minimum_window_in_calendar_days(make, type_, days, ok):
    """Working-day windows (normative documents) are in tests/consultations/test_windows.py."""
    editor = make.user("editor")
    start = clock.today() + timedelta(days=1)
    data = draft_input(type=type_, opens_on=start, closes_on=start + timedelta(days=days - 1))
    if ok:
        services.create_draft(editor.memberships[0].unit, data, actor=editor)
    else:
        with pytest.raises(ValidationFailed) as error:
            services.create_draft(editor.memberships[0].unit, data, actor=editor)
        assert "short_window_reason" in error.value.fields


def test_short_window_with_a_reason_is_kept_for_the_public(make):
    editor = make.user("editor")
    start = clock.today() + timedelta(days=1)
    reason = "因防汛应急需要，缩短征求意见期限。"
    data = draft_input(type=ConsultationType.RULE, opens_on=start,
                       closes_on=start + timedelta(days=9), short_window_reason=reason)
    c = services.create_draft(editor.memberships[0].unit, data, actor=editor)
    assert c.short_window_reason == "因防汛应急需要，缩短征求意见期限。"


def test_window_cannot_end_before_it_starts(make):
    editor = make.user("editor")
    start = clock.today() + timedelta(days=5)
    with pytest.raises(ValidationFailed):
        services.create_draft(editor.memberships[0].unit,
                              draft_input(opens_on=start, closes_on=start - timedelta(days=1)),
                              actor=editor)


def test_empty_text_is_refused(make):
    editor = make.user("editor")
    with pytest.raises(ValidationFailed):
        services.create_draft(editor.memberships[0].unit, draft_input(text="  "), actor=editor)


def test_submit_approve_open_by_the_clock(make, travel):
    unit = make.unit()
    editor, approver = make.user("editor", unit), make.user("approver", unit)
    c = services.create_draft(unit, draft_input(), actor=editor)
    services.submit(c, actor=editor)
    assert c.status == State.PENDING_APPROVAL and c.submitted_by_id == editor.id
    services.approve(c, actor=approver)
    assert c.status == State.SCHEDULED and c.approved_by_id == approver.id
    travel(c.opens_at)
    assert c.status == State.OPEN
    actions = [e.action for e in audit.events_for(c)]
    assert actions == ["create", "submit", "approve"]


def test_nobody_approves_their_own_submission(make):
    unit = make.unit()
    approver = make.user("approver", unit)
    c = services.create_draft(unit, draft_input(), actor=approver)
    services.submit(c, actor=approver)
    with pytest.raises(NotAllowed):
        services.approve(c, actor=approver)
    assert c.state == State.PENDING_APPROVAL


def test_return_needs_a_reason_and_goes_back_to_draft(make):
    unit = make.unit()
    editor, approver = make.user("editor", unit), make.user("approver", unit)
    c = services.create_draft(unit, draft_input(), actor=editor)
    services.submit(c, actor=editor)
    with pytest.raises(ValidationFailed):
        services.return_to_draft(c, actor=approver, reason=" ")
    services.return_to_draft(c, actor=approver, reason="第三条表述不清。")
    assert c.state == State.DRAFT and c.return_reason == "第三条表述不清。"
    assert audit.events_for(c)[-1].reason == "第三条表述不清。"


def test_published_draft_is_not_edited_in_place(make):
    c = make.consultation("open")
    editor = make.user("editor", c.unit)
    with pytest.raises(InvalidTransition):
        services.update_draft(c, draft_input(), actor=editor)


def test_edit_draft_replaces_articles(make):
    editor = make.user("editor")
    c = services.create_draft(editor.memberships[0].unit, draft_input(), actor=editor)
    new_text = "第一条 新的第一条。\n第二条 新的第二条。"
    services.update_draft(c, draft_input(text=new_text), actor=editor)
    assert [a.text for a in c.current_version.articles] == ["新的第一条。", "新的第二条。"]


def test_draft_text_round_trips(make):
    text = "第一章 总则\n第一条 甲。\n第二条 乙。\n第二章 附则\n第三条 丙。"
    c = make.consultation("draft", text=text)
    assert services.draft_text(c) == text
    plan = "一、总体要求\n（一）加强领导\n各单位要加强领导。\n（二）明确分工"
    c2 = make.consultation("draft", text=plan)
    from consult.consultations.parsing import parse_articles

    again = parse_articles(services.draft_text(c2)).articles
    assert [(a.label, a.heading, a.text) for a in again] == [
        (a.label, a.heading, a.text) for a in c2.current_version.articles
    ]


def test_withdraw_needs_a_reason_and_is_public(make):
    c = make.consultation("open")
    approver = make.user("approver", c.unit)
    services.withdraw(c, actor=approver, reason="上位法修改，暂停制定。")
    assert c.status == State.WITHDRAWN and c.withdrawn_reason == "上位法修改，暂停制定。"
