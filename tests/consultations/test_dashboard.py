"""The unit's workspace (`/staff`): consultations by state, comments awaiting moderation or an
answer, windows closing this week, reports overdue, and legal reviews pending."""

from __future__ import annotations

import re
from datetime import timedelta

from consult import clock, workspace
from consult.answers.services import publish_report
from consult.comments.models import CommentStatus
from consult.consultations.legal import review
from consult.consultations.models import LegalDecision


def _now_plus(days: float):
    return clock.now() + timedelta(days=days)


def _cell_counts(html: str, consultation_id: int) -> list[str]:
    """The number cells of a consultation's row in the dashboard table."""
    row = re.search(rf'<tr>\s*<td><a href="/staff/consultations/{consultation_id}">.*?</tr>',
                    html, re.S)
    assert row, consultation_id
    return re.findall(r'<td class="num">\s*(?:<a[^>]*>)?(\d+)', row.group(0))


def test_consultations_by_state_with_moderation_and_answers_waiting(client_as, make, unit,
                                                                    approver):
    draft = make.consultation("draft", unit=unit, title="草稿甲")
    open_ = make.consultation("open", unit=unit, title="征集中乙")
    closed = make.consultation("closed", unit=unit, title="已截止丙")
    make.consultation("open", title="别的单位的征集")
    for _ in range(2):
        make.comment(open_, article=1, status=CommentStatus.PENDING_MODERATION)
    make.comment(open_, article=2)
    make.comment(closed, article=1)
    answered = make.comment(closed, article=2)
    make.answer(answered)

    html = client_as(approver).get("/staff").get_data(as_text=True)
    assert "别的单位的征集" not in html
    for title, state in (("草稿甲", "status-draft"), ("征集中乙", "status-open"),
                         ("已截止丙", "status-closed")):
        assert title in html and f'id="{state}"' in html
    # received, awaiting moderation, awaiting an answer
    assert _cell_counts(html, open_.id) == ["3", "2", "1"]
    assert _cell_counts(html, closed.id) == ["2", "0", "1"]
    assert _cell_counts(html, draft.id) == ["0", "0", "0"]
    assert f"/staff/consultations/{open_.id}/moderation?status=pending" in html
    assert f"/staff/consultations/{closed.id}/comments?answered=unanswered" in html
    assert workspace.moderation_counts([open_.id, closed.id]) == {open_.id: 2}


def test_windows_closing_this_week(client_as, make, unit, approver):
    soon = make.consultation("open", unit=unit, title="三天后截止",
                             closes_at=clock.end_of_day(clock.today() + timedelta(days=3)))
    today = make.consultation("open", unit=unit, title="今天截止",
                              closes_at=clock.end_of_day(clock.today()))
    make.consultation("open", unit=unit, title="二十天后截止", closes_at=_now_plus(20))
    make.consultation("open", title="别的单位明天截止", closes_at=_now_plus(1))
    html = client_as(approver).get("/staff").get_data(as_text=True)
    section = html.split('id="closing-soon"', 1)[1].split("</ul>", 1)[0]
    assert "今天截止" in section and "三天后截止" in section
    assert "二十天后截止" not in section and "别的单位明天截止" not in section
    assert section.index("今天截止") < section.index("三天后截止")
    assert [c.id for c in workspace.closing_soon([soon, today])] == [today.id, soon.id]


def test_reports_overdue_after_the_configured_days(client_as, make, app, unit, approver,
                                                    monkeypatch):
    late = make.consultation("closed", unit=unit, title="四十天前截止",
                             opens_at=_now_plus(-70), closes_at=_now_plus(-40))
    recent = make.consultation("closed", unit=unit, title="五天前截止",
                               opens_at=_now_plus(-35), closes_at=_now_plus(-5))
    done = make.consultation("closed", unit=unit, title="已反馈的",
                             opens_at=_now_plus(-80), closes_at=_now_plus(-50))
    publish_report(done, summary="无意见。", actor=approver)
    policy_first = make.consultation("policy_issued", unit=unit, title="先出台后反馈",
                                     opens_at=_now_plus(-90), closes_at=_now_plus(-60))

    html = client_as(approver).get("/staff").get_data(as_text=True)
    section = html.split('id="reports-overdue"', 1)[1].split("</ul>", 1)[0]
    assert "四十天前截止" in section and "先出台后反馈" in section
    assert "五天前截止" not in section and "已反馈的" not in section
    assert "已逾期 10 天" in section  # 40 days after closing, 30 allowed
    assert f"/staff/consultations/{late.id}/report" in section
    assert [o.consultation for o in workspace.overdue_reports([late, recent, done, policy_first])
            ] == [policy_first, late]

    monkeypatch.setitem(app.config, "REPORT_DUE_DAYS", 3)
    html = client_as(approver).get("/staff").get_data(as_text=True)
    section = html.split('id="reports-overdue"', 1)[1].split("</ul>", 1)[0]
    assert "五天前截止" in section and "已逾期 2 天" in section


def test_legal_reviews_pending(client_as, make, unit, approver):
    legal_office = make.unit("市司法局", is_legal_office=True)
    reviewer = make.user("legal_reviewer", legal_office)
    rule = make.consultation("closed", unit=unit, type="rule", title="待审的规章")
    make.consultation("report_published", type="major_decision", title="别的单位的重大决策")
    make.consultation("closed", unit=unit, type="normative_document")

    html = client_as(reviewer).get("/staff").get_data(as_text=True)
    assert "待合法性审核：2 项" in html and "/staff/legal" in html
    html = client_as(approver).get("/staff").get_data(as_text=True)
    assert "等待合法性审核：1 项" in html

    review(rule, LegalDecision.APPROVED, "同意。", actor=reviewer)
    html = client_as(reviewer).get("/staff").get_data(as_text=True)
    assert "待合法性审核：1 项" in html
    assert "等待合法性审核" not in client_as(approver).get("/staff").get_data(as_text=True)


def test_a_quiet_workspace_shows_no_reminders(client_as, make, unit, approver):
    make.consultation("open", unit=unit, closes_at=_now_plus(20))
    html = client_as(approver).get("/staff").get_data(as_text=True)
    assert "待办提醒" not in html
