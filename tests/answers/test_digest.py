"""The staff daily digest of new comments (F15): one mail a day, each comment counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult.answers.digest import send_digests
from consult.answers.models import DigestRun
from consult.comments.models import CommentStatus
from consult.extensions import db
from consult.mail import OutboxMessage

MORNING = datetime(2025, 3, 10, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai


def _digests():
    return db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.kind == "staff_digest").order_by(OutboxMessage.id)).all()


@pytest.fixture
def setting(make, travel):
    travel(MORNING - timedelta(days=3))
    parent = make.unit("市人民政府办公厅")
    unit = make.unit("市城市管理局", parent=parent)
    other = make.unit("市文化和旅游局")
    editor = make.user("editor", unit, email="editor@city.example", name="冯编辑")
    boss = make.user("approver", parent, email="boss@city.example", name="陈主任")
    legal = make.user("legal_reviewer", unit, email="legal@city.example")
    stranger = make.user("editor", other, email="stranger@city.example")
    mine = make.consultation("open", unit=unit, title="市容环境卫生管理规定（征求意见稿）")
    theirs = make.consultation("open", unit=other, title="旅游市场管理办法（征求意见稿）")
    return locals()


def test_each_staff_member_gets_one_mail_listing_new_comments_per_consultation(make, travel,
                                                                              setting):
    mine, theirs = setting["mine"], setting["theirs"]
    travel(MORNING - timedelta(days=2))
    make.comment(mine, body="很久以前的意见")  # before the first digest's day
    travel(MORNING - timedelta(hours=5))
    make.comment(mine, body="新意见一")
    make.comment(mine, body="新意见二", status=CommentStatus.PENDING_MODERATION)
    make.comment(theirs, body="别的单位的意见")
    travel(MORNING)
    result = send_digests()
    assert sorted(result.recipients) == ["boss@city.example", "editor@city.example",
                                         "stranger@city.example"]
    assert result.sent == 3 and result.nothing_new == 0  # legal reviewers answer nothing
    mails = {m.recipient: m for m in _digests()}
    mail = mails["editor@city.example"]
    assert mail.subject == "新意见提醒：2 条新意见"
    assert "冯编辑，您好" in mail.body
    assert "《市容环境卫生管理规定（征求意见稿）》：新意见 2 条（其中待审核 1 条）" in mail.body
    assert f"/staff/consultations/{mine.id}/comments" in mail.body
    assert "旅游市场" not in mail.body and "很久以前" not in mail.body
    assert "新意见 2 条" in mails["boss@city.example"].body  # the unit above sees it too
    assert "旅游市场管理办法" in mails["stranger@city.example"].body
    assert "市容" not in mails["stranger@city.example"].body


def test_a_second_run_on_the_same_day_sends_nothing_and_the_next_day_starts_where_it_ended(
        make, travel, setting):
    mine = setting["mine"]
    travel(MORNING - timedelta(hours=1))
    make.comment(mine, body="第一天的意见")
    travel(MORNING)
    first = send_digests()
    assert first.sent == 2
    travel(MORNING + timedelta(hours=3))
    make.comment(mine, body="当天稍后的意见")
    again = send_digests()
    assert again.sent == 0 and again.already_sent == 3  # the legal reviewer gets none
    assert len(_digests()) == 2
    travel(MORNING + timedelta(days=1))
    make.comment(mine, body="第二天的意见")
    next_day = send_digests()
    assert next_day.sent == 2
    mail = [m for m in _digests() if m.recipient == "editor@city.example"][-1]
    assert "新意见 2 条" in mail.body  # the later one of day one and day two's: none twice
    runs = db.session.scalars(db.select(DigestRun).where(
        DigestRun.user_id == setting["editor"].id).order_by(DigestRun.day)).all()
    assert [r.comments for r in runs] == [1, 2]
    assert runs[1].since == runs[0].until


def test_nobody_gets_a_mail_about_nothing(travel, setting):
    travel(MORNING)
    result = send_digests()
    assert result.sent == 0 and result.nothing_new == 3
    assert _digests() == []
    assert db.session.scalar(db.select(db.func.count(DigestRun.id))) == 3


def test_inactive_staff_get_no_digest(make, travel, setting):
    setting["editor"].active = False
    travel(MORNING - timedelta(hours=1))
    make.comment(setting["mine"])
    travel(MORNING)
    assert "editor@city.example" not in send_digests().recipients


def test_the_cli_command(app, make, travel, setting):
    travel(MORNING - timedelta(hours=1))
    make.comment(setting["mine"], body="<script>alert(1)</script>")
    travel(MORNING)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["digest", "send"])
    assert result.exit_code == 0, result.output
    assert "queued 2 mails" in result.output
    result = runner.invoke(args=["digest", "send"])
    assert "queued 0 mails" in result.output and "3 had today's digest already" in result.output
