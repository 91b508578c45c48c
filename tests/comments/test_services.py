"""Receiving comments: statuses, windows, articles, idempotency, receipts, masking, tracking."""

import pytest

from consult.comments import services
from consult.comments.masking import MARK
from consult.comments.models import Category, Comment, CommentStatus
from consult.comments.tracking import ALPHABET, new_tracking_no, normalize
from consult.consultations.models import Moderation, Verification
from consult.errors import NotFound, ValidationFailed, WindowClosed
from consult.extensions import db
from consult.mail import OutboxMessage


def data(**kw):
    values = dict(body="建议第三条增加听证程序。", category=Category.INDIVIDUAL)
    values.update(kw)
    return services.CommentInput(**values)


def count():
    return db.session.scalar(db.select(db.func.count(Comment.id)))


def test_comment_on_article_three_is_published_with_a_tracking_number(make):
    c = make.consultation("open")
    comment, created = services.submit_comment(c, data(article_number=3))
    assert created and comment.status == CommentStatus.PUBLISHED
    assert comment.article.label == "第三条" and comment.version == c.current_version
    assert normalize(comment.tracking_no) == comment.tracking_no


def test_whole_draft_comment_has_no_article(make):
    comment, _ = services.submit_comment(make.consultation("open"), data())
    assert comment.article is None


@pytest.mark.parametrize("setting, expected", [
    ({"moderation": Moderation.PRE}, CommentStatus.PENDING_MODERATION),
    ({"verification": Verification.EMAIL}, CommentStatus.UNVERIFIED),
])
def test_status_follows_the_consultation_settings(make, setting, expected):
    c = make.consultation("open", **setting)
    comment, _ = services.submit_comment(c, data(email="a@example.org"))
    assert comment.status == expected


@pytest.mark.parametrize("state", ["scheduled", "closed", "report_published", "withdrawn"])
def test_closed_windows_refuse_comments(make, state):
    c = make.consultation(state)
    with pytest.raises(WindowClosed):
        services.submit_comment(c, data())
    assert count() == 0


@pytest.mark.parametrize("body", ["", "   ", "字" * 10_001])
def test_blank_or_oversize_bodies_are_refused(make, body):
    with pytest.raises(ValidationFailed) as error:
        services.submit_comment(make.consultation("open"), data(body=body))
    assert "body" in error.value.fields
    assert count() == 0


def test_ten_thousand_characters_are_accepted(make):
    comment, _ = services.submit_comment(make.consultation("open"), data(body="字" * 10_000))
    assert len(comment.body) == 10_000


def test_unknown_article_is_refused(make):
    with pytest.raises(ValidationFailed) as error:
        services.submit_comment(make.consultation("open"), data(article_number=99))
    assert error.value.code == "unknown_article"


def test_same_idempotency_key_makes_one_comment(make):
    c = make.consultation("open")
    first, created = services.submit_comment(c, data(), idempotency_key="key-1")
    again, created_again = services.submit_comment(c, data(), idempotency_key="key-1")
    assert created and not created_again and again.id == first.id
    assert count() == 1


def test_identical_texts_from_separate_submissions_stay_separate(make):
    c = make.consultation("open")
    services.submit_comment(c, data())
    services.submit_comment(c, data())
    assert count() == 2


def test_receipt_mail_is_queued_in_the_same_transaction(make):
    comment, _ = services.submit_comment(make.consultation("open"), data(email="li@example.org"))
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.recipient == "li@example.org" and comment.tracking_no in message.body
    assert message.sent_at is None


def test_no_mail_without_an_email(make):
    services.submit_comment(make.consultation("open"), data())
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0


def test_name_is_published_only_with_consent(make):
    c = make.consultation("open")
    named, _ = services.submit_comment(c, data(display_name="张三", publish_name=True))
    private, _ = services.submit_comment(c, data(display_name="李四", publish_name=False))
    assert named.public_name == "张三" and private.public_name is None


def test_lookup_by_tracking_number_tolerates_case_and_hyphens(make):
    comment, _ = services.submit_comment(make.consultation("open"), data())
    typed = comment.tracking_no.replace("-", "").lower()
    assert services.get_by_tracking_no(typed) == comment
    with pytest.raises(NotFound):
        services.get_by_tracking_no("ABCD-EFGH-JKMN")


def test_tracking_numbers_are_readable_and_checked():
    numbers = {new_tracking_no() for _ in range(500)}
    assert len(numbers) == 500
    for number in numbers:
        assert len(number) == 14 and number[4] == number[9] == "-"
        assert all(ch in ALPHABET for ch in number.replace("-", ""))
        assert not set(number) & set("01OIL")
    one = next(iter(numbers))
    wrong = one[:-1] + next(ch for ch in ALPHABET if ch != one[-1])
    assert normalize(wrong) is None  # a mistyped character fails the check


def test_public_text_masks_and_hides(make):
    c = make.consultation("open")
    shown = make.comment(c, body="电话13800138000")
    hidden = make.comment(c, body="广告", status=CommentStatus.HIDDEN)
    assert services.public_text(shown) == f"电话{MARK}"
    assert services.public_text(hidden) is None
