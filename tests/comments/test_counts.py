"""Comment counts kept as comments are written (consult/comments/counts.py), never recounted by a
page: they always equal a count of the comments themselves."""

from __future__ import annotations

import random

from consult.comments import counts
from consult.comments.models import Comment, CommentCount, CommentStatus
from consult.comments.moderation import approve_comment, hide_comment
from consult.comments.services import comment_counts, received_counts
from consult.extensions import db


def counted(consultation_id: int) -> dict[str, int]:
    """A plain count of the comments, by status."""
    rows = db.session.execute(
        db.select(Comment.status, db.func.count(Comment.id))
        .where(Comment.consultation_id == consultation_id).group_by(Comment.status))
    return {str(getattr(status, "value", status)): n for status, n in rows}


def kept(consultation_id: int) -> dict[str, int]:
    return {status: n for status, n in counts.counts_by_status([consultation_id])[consultation_id]
            .items() if n}


def test_new_comments_and_moderation_move_the_counts(make, editor, unit):
    c = make.consultation("open", unit=unit)
    assert comment_counts(c) == (0, 0)
    first = make.comment(c, status=CommentStatus.PENDING_MODERATION)
    make.comment(c)
    make.comment(c)
    assert comment_counts(c) == (3, 2)
    approve_comment(first, actor=editor)
    db.session.flush()
    assert comment_counts(c) == (3, 3)
    hide_comment(first, "spam", None, actor=editor)
    db.session.flush()
    assert comment_counts(c) == (3, 2)
    assert kept(c.id) == counted(c.id) == {"published": 2, "hidden": 1}


def test_a_comment_posted_through_the_form_is_counted_in_its_transaction(app, make, unit,
                                                                         post_form):
    c = make.consultation("open", unit=unit)
    client = app.test_client()
    response = post_form(client, f"/consultations/{c.id}/comment",
                         {"body": "建议增加过渡期。", "category": "individual"})
    assert response.status_code == 303
    assert comment_counts(c) == (1, 1)


def test_a_refused_comment_leaves_the_counts(app, make, unit, post_form):
    c = make.consultation("open", unit=unit)
    response = post_form(app.test_client(), f"/consultations/{c.id}/comment",
                         {"body": "", "category": "individual"})
    assert response.status_code == 422
    assert comment_counts(c) == (0, 0) and kept(c.id) == {}


def test_counts_are_spread_over_shards_and_summed(make, unit):
    c = make.consultation("open", unit=unit)
    for _ in range(40):
        make.comment(c)
    rows = db.session.scalars(db.select(CommentCount)
                              .where(CommentCount.consultation_id == c.id)).all()
    assert len(rows) > 1 and all(0 <= row.shard < counts.SHARDS for row in rows)
    assert sum(row.n for row in rows) == 40 == comment_counts(c)[0]


def test_any_sequence_of_writes_keeps_counts_equal_to_a_recount(make, editor, unit):
    rng = random.Random(7)
    consultations = [make.consultation("open", unit=unit) for _ in range(3)]
    comments = []
    statuses = [CommentStatus.PUBLISHED, CommentStatus.PENDING_MODERATION,
                CommentStatus.UNVERIFIED]
    for step in range(120):
        if not comments or rng.random() < 0.6:
            comments.append(make.comment(rng.choice(consultations), status=rng.choice(statuses)))
        else:
            comment = rng.choice(comments)
            comment.status = rng.choice(list(CommentStatus))
        if step % 7 == 0:
            db.session.flush()
    db.session.flush()
    for c in consultations:
        assert kept(c.id) == counted(c.id)
    totals = received_counts(consultations)
    assert totals == {c.id: sum(counted(c.id).values()) for c in consultations}


def test_recount_rebuilds_counts_of_rows_written_in_bulk(make, unit):
    c = make.consultation("open", unit=unit)
    make.comment(c)
    db.session.execute(db.insert(Comment), [
        {"tracking_no": f"BULK{i}", "consultation_id": c.id, "version_id": c.current_version.id,
         "body": "批量", "category": "individual", "channel": "web", "status": "published"}
        for i in range(5)])
    assert comment_counts(c) == (1, 1)  # bulk rows bypass the ORM's bookkeeping
    counts.recount(c.id)
    assert comment_counts(c) == (6, 6) and kept(c.id) == counted(c.id)
