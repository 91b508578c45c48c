"""Answering comments and publishing the adoption report."""

import json
from hashlib import sha256

import pytest

from consult.answers import services
from consult.answers.models import DispositionCode
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason
from consult.consultations.models import State
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.mail import OutboxMessage


@pytest.fixture
def closed(make):
    c = make.consultation("closed")
    return c, make.user("approver", c.unit)


def test_answer_needs_a_reason_unless_adopted(make, closed):
    c, approver = closed
    comment = make.comment(c, article=3)
    with pytest.raises(ValidationFailed) as error:
        services.answer_comment(comment, DispositionCode.NOT_ADOPTED, "  ", actor=approver)
    assert error.value.fields.keys() == {"reason"}
    assert comment.disposition is None
    services.answer_comment(comment, DispositionCode.ADOPTED, None, actor=approver)
    assert comment.disposition.code == DispositionCode.ADOPTED


def test_answers_can_be_revised_until_the_report_is_published(make, closed):
    c, approver = closed
    comment = make.comment(c)
    services.answer_comment(comment, DispositionCode.NOT_ADOPTED, "理由一", actor=approver)
    services.answer_comment(comment, DispositionCode.PARTLY_ADOPTED, "理由二", actor=approver)
    assert comment.disposition.code == DispositionCode.PARTLY_ADOPTED
    services.publish_report(c, summary="总结", actor=approver)
    with pytest.raises(Conflict):
        services.answer_comment(comment, DispositionCode.ADOPTED, None, actor=approver)


def test_hidden_and_unverified_comments_need_no_answer(make, closed):
    c, approver = closed
    hidden = make.comment(c, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.SPAM)
    with pytest.raises(Conflict):
        services.answer_comment(hidden, DispositionCode.NOT_ADOPTED, "x", actor=approver)
    make.comment(c, status=CommentStatus.UNVERIFIED)
    assert services.blockers(c) == {}


def test_publishing_is_refused_while_a_comment_is_unanswered(make, closed):
    c, approver = closed
    answered = make.comment(c)
    make.answer(answered, "adopted", None)
    make.comment(c, article=2)
    with pytest.raises(Conflict) as error:
        services.publish_report(c, summary="总结", actor=approver)
    assert error.value.fields == {"unanswered": 1}
    assert c.status == State.CLOSED


def test_publishing_is_refused_while_a_comment_awaits_moderation(make, closed):
    c, approver = closed
    make.comment(c, status=CommentStatus.PENDING_MODERATION)
    with pytest.raises(Conflict):
        services.publish_report(c, summary="总结", actor=approver)


def test_publishing_is_refused_before_the_window_closes(make):
    c = make.consultation("open")
    approver = make.user("approver", c.unit)
    from consult.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        services.publish_report(c, summary="", actor=approver)


def test_report_totals_add_up_and_the_digest_can_be_recomputed(make, closed):
    c, approver = closed
    a = make.comment(c, article=3, category=Category.ENTERPRISE, region="金水区")
    make.answer(a, "adopted", None)
    b = make.comment(c, article=3, channel=Channel.LETTER)
    make.answer(b, "not_adopted", "上位法已有规定。")
    d = make.comment(c)
    make.answer(d, "out_of_scope", "不属于本次征求意见范围。")
    make.comment(c, status=CommentStatus.HIDDEN, hidden_reason=HiddenReason.SPAM)
    make.comment(c, status=CommentStatus.UNVERIFIED)
    report = services.publish_report(c, summary="共收到意见5条。", actor=approver)
    content = report.content
    totals = content["totals"]
    assert totals["received"] == 5
    assert totals["received"] == totals["unverified"] + totals["hidden"] + totals["answered"]
    assert totals["answered"] == sum(totals["by_disposition"].values()) == 3
    assert totals["hidden_by_reason"]["spam"] == 1
    assert totals["by_category"]["enterprise"] == 1 and totals["by_channel"]["letter"] == 1
    assert totals["by_region"]["金水区"] == 1
    article3 = next(r for r in content["by_article"] if r["article"] == 3)
    assert article3["received"] == 2 and article3["by_disposition"]["adopted"] == 1
    hidden_item = next(i for i in content["items"] if i["visibility"] == "hidden")
    assert hidden_item["text"] is None
    without = {k: v for k, v in content.items() if k != "digest"}
    canonical = json.dumps(without, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert content["digest"] == report.digest == sha256(canonical.encode()).hexdigest()
    assert c.status == State.REPORT_PUBLISHED


def test_published_report_is_immutable_and_corrections_are_revisions(make, closed):
    c, approver = closed
    make.answer(make.comment(c), "adopted", None)
    first = services.publish_report(c, summary="第一版", actor=approver)
    db.session.commit()
    first.summary = "偷偷修改"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        services.publish_report(c, summary="第二版", actor=approver)
    second = services.publish_report(c, summary="第二版", actor=approver,
                                     correction_note="更正第三条的答复理由。")
    assert second.revision == 2 and services.published_report(c) == second


def test_commenters_who_asked_are_told_when_the_report_is_published(make, closed):
    c, approver = closed
    make.answer(make.comment(c, email="wang@example.org", notify=True), "not_adopted", "理由")
    make.answer(make.comment(c, email="zhao@example.org", notify=False), "adopted", None)
    services.publish_report(c, summary="总结", actor=approver)
    mails = db.session.scalars(db.select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["wang@example.org"]
    assert "不予采纳" in mails[0].body and "理由" in mails[0].body
