"""Comment counts kept as comments are written (consult/comments/counts.py), never recounted by a
page: they always equal a count of the comments themselves."""

from __future__ import annotations

import random
import re

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
    """PostgreSQL's concurrent writers count on shards picked at random; SQLite, one writer at
    a time, counts an inserted comment by its trigger, on one."""
    c = make.consultation("open", unit=unit)
    for _ in range(40):
        make.comment(c)
    rows = db.session.scalars(db.select(CommentCount)
                              .where(CommentCount.consultation_id == c.id,
                                     CommentCount.version_id == counts.TOTALS)).all()
    assert all(0 <= row.shard < counts.SHARDS for row in rows)
    assert len(rows) > 1 if db.engine.dialect.name == "postgresql" else len(rows) == 1
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
    # On PostgreSQL bulk rows bypass the ORM's bookkeeping; on SQLite the trigger counts them.
    assert comment_counts(c) == ((1, 1) if db.engine.dialect.name == "postgresql" else (6, 6))
    counts.recount(c.id)
    assert comment_counts(c) == (6, 6) and kept(c.id) == counted(c.id)


def counted_by_article(consultation) -> dict[int | None, int]:
    """A plain count of the comments on the current version, by article."""
    rows = db.session.execute(
        db.select(Comment.article_id, db.func.count(Comment.id))
        .where(Comment.consultation_id == consultation.id,
               Comment.version_id == consultation.current_version.id)
        .group_by(Comment.article_id))
    return dict(rows.all())


def test_counts_per_article_follow_every_comment_whatever_its_status(make, editor, unit):
    c = make.consultation("open", unit=unit)
    first = make.comment(c, article=1, status=CommentStatus.PENDING_MODERATION)
    make.comment(c, article=1)
    make.comment(c, article=2, status=CommentStatus.UNVERIFIED)
    make.comment(c)  # on the whole draft
    article = {a.number: a.id for a in c.current_version.articles}
    expected = {article[1]: 2, article[2]: 1, None: 1}
    assert counts.counts_by_article(c.id, c.current_version.id) == expected
    hide_comment(first, "spam", None, actor=editor)  # hidden comments are still received
    db.session.flush()
    assert counts.counts_by_article(c.id, c.current_version.id) == expected \
        == counted_by_article(c)
    assert counts.counts_by_article(c.id, c.current_version.id + 1000) == {}


def test_citizens_comments_on_articles_are_counted_per_article(app, make, unit, post_form):
    c = make.consultation("open", unit=unit)
    article = {a.number: a.id for a in c.current_version.articles}
    client = app.test_client()
    for number in (1, 1, 2):
        response = post_form(client, f"/consultations/{c.id}/comment",
                             {"body": f"关于第{number}条的建议。", "category": "individual",
                              "article": str(number)})
        assert response.status_code == 303
    for number in (2, None):
        response = client.post(f"/api/v1/consultations/{c.id}/comments",
                               json={"body": "总体同意。", "category": "individual",
                                     "article": number})
        assert response.status_code == 201
    assert counts.counts_by_article(c.id, c.current_version.id) == \
        {article[1]: 2, article[2]: 2, None: 1} == counted_by_article(c)


def test_the_contents_list_shows_the_kept_count_of_each_article(client, make, unit):
    c = make.consultation("open", unit=unit)
    for _ in range(3):
        make.comment(c, article=2)
    db.session.commit()
    make.comment(c, article=1)
    db.session.commit()
    page = client.get(f"/consultations/{c.id}", headers={"Accept-Language": "zh-CN"}) \
        .get_data(as_text=True)
    counts_shown = re.findall(r'<span class="toc-count">(\d+) 条意见</span>', page)
    number = [a.number for a in c.current_version.articles]
    expected = [{1: "1", 2: "3"}.get(n, "0") for n in number]
    assert counts_shown == expected * (len(counts_shown) // len(expected)) and counts_shown


def test_random_writes_keep_per_article_counts_equal_to_a_recount(make, editor, unit):
    rng = random.Random(11)
    c = make.consultation("open", unit=unit)
    numbers = [a.number for a in c.current_version.articles] + [None]
    comments = []
    for step in range(80):
        if not comments or rng.random() < 0.6:
            comments.append(make.comment(c, article=rng.choice(numbers),
                                         status=rng.choice(list(CommentStatus))))
        else:
            rng.choice(comments).status = rng.choice(list(CommentStatus))
        if step % 5 == 0:
            db.session.flush()
    db.session.flush()
    kept_now = counts.counts_by_article(c.id, c.current_version.id)
    assert kept_now == counted_by_article(c)
    counts.recount(c.id)
    assert counts.counts_by_article(c.id, c.current_version.id) == kept_now
