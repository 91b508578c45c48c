"""Comment counts kept, not recounted (SPEC §7: a page with 100 000 comments is no slower).

Every comment written through the ORM moves the count of its *place* — its consultation, status,
version and article (0: the whole draft) — so the consultation's totals and the contents list's
comments per article are both read from the same rows: an INSERT adds one, a change of status
(or, were it ever to happen, of article) moves one from the old place to the new. The changes of
one flush are gathered per place and written at its end, in the same transaction (a 201 still
means the comment and its count are committed), each as one upsert on one of `SHARDS` rows
picked at random, so that a crowd's inserts on PostgreSQL do not queue for one row's lock; the
rows are written in one order, so two transactions never wait for each other in a circle.
Reading a count is a sum over a consultation's rows (at most SHARDS per place: a few thousand
for a draft of a hundred articles, read through the primary key).

A citizen's comment is written by one INSERT without a flush (consult/comments/services.py): it
is counted by `add`, in its transaction too.

Comments are never deleted (SPEC F9). Rows inserted in bulk outside the ORM (benchmarks, the
migrations that introduced the counts) are counted by `recount`.
"""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from consult.comments.models import Comment, CommentCount, CommentStatus
from consult.extensions import db

SHARDS = 16
_DELTAS = "comment_counts.deltas"


def _status(value) -> str:
    return value.value if isinstance(value, CommentStatus) else str(value)


def _place(consultation_id: int, status, version_id: int | None,
           article_id: int | None) -> tuple[int, str, int, int]:
    """The key of a count row: 0 stands for "none" (the whole draft), as keys cannot be NULL."""
    return consultation_id, _status(status), version_id or 0, article_id or 0


def _note(target: Comment, place: tuple, delta: int) -> None:
    deltas = Session.object_session(target).info.setdefault(_DELTAS, Counter())
    deltas[place] += delta


@event.listens_for(Comment, "after_insert")
def _inserted(mapper, connection, target: Comment) -> None:
    _note(target, _place(target.consultation_id, target.status, target.version_id,
                         target.article_id), 1)


_PLACE = ("consultation_id", "status", "version_id", "article_id")


def _before(target: Comment, name: str):
    history = inspect(target).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(target, name)


@event.listens_for(Comment, "after_update")
def _updated(mapper, connection, target: Comment) -> None:
    old = _place(*(_before(target, name) for name in _PLACE))
    new = _place(*(getattr(target, name) for name in _PLACE))
    if old != new:
        _note(target, old, -1)
        _note(target, new, 1)


@event.listens_for(Session, "after_flush")
def _write(session: Session, flush_context) -> None:
    deltas = session.info.pop(_DELTAS, None)
    if not deltas:
        return
    connection = session.connection()
    rows = sorted((*place, random.randrange(SHARDS), delta)
                  for place, delta in deltas.items() if delta)
    if not rows:
        return
    params = [{"consultation_id": c, "status": s, "version_id": v, "article_id": a,
               "shard": shard, "n": delta} for c, s, v, a, shard, delta in rows]
    # One statement (an executemany for several rows): a new comment sends one row.
    connection.execute(_UPSERT, params[0] if len(params) == 1 else params)


# The same SQL on SQLite (3.24+) and PostgreSQL. Written as text: SQLAlchemy cannot cache the
# compiled form of its `on_conflict_do_update` construct, and compiling it again cost more
# than executing it (bench/README.md, comment submission).
_UPSERT = text(
    "INSERT INTO comment_counts (consultation_id, version_id, article_id, status, shard, n) "
    "VALUES (:consultation_id, :version_id, :article_id, :status, :shard, :n) "
    "ON CONFLICT (consultation_id, version_id, article_id, status, shard) "
    "DO UPDATE SET n = comment_counts.n + excluded.n")


def add(connection, comment: Comment) -> None:
    """Count one comment written without the ORM's flush (`consult.comments.services`)."""
    consultation_id, status, version_id, article_id = _place(
        comment.consultation_id, comment.status, comment.version_id, comment.article_id)
    connection.execute(_UPSERT, {"consultation_id": consultation_id, "version_id": version_id,
                                 "article_id": article_id, "status": status,
                                 "shard": random.randrange(SHARDS), "n": 1})


def counts_by_status(consultation_ids) -> dict[int, dict[str, int]]:
    """{consultation id: {status: comments}} for `consultation_ids`, in one small query."""
    ids = list(consultation_ids)
    result: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return result
    rows = db.session.execute(
        db.select(CommentCount.consultation_id, CommentCount.status,
                  db.func.sum(CommentCount.n))
        .where(CommentCount.consultation_id.in_(ids))
        .group_by(CommentCount.consultation_id, CommentCount.status))
    for consultation_id, status, n in rows:
        result[consultation_id][status] = int(n or 0)
    return result


def counts_by_article(consultation_id: int, version_id: int | None) -> dict[int | None, int]:
    """{article id (None: the whole draft): comments received} on one version of a
    consultation, whatever their status, for the contents list of its page."""
    rows = db.session.execute(
        db.select(CommentCount.article_id, db.func.sum(CommentCount.n))
        .where(CommentCount.consultation_id == consultation_id,
               CommentCount.version_id == (version_id or 0))
        .group_by(CommentCount.article_id))
    return {article_id or None: int(n) for article_id, n in rows if n}


def recount(consultation_id: int | None = None) -> None:
    """Count again from the comments themselves (after rows were written in bulk)."""
    where = [] if consultation_id is None else [Comment.consultation_id == consultation_id]
    delete = db.delete(CommentCount)
    if consultation_id is not None:
        delete = delete.where(CommentCount.consultation_id == consultation_id)
    db.session.execute(delete)
    version = db.func.coalesce(Comment.version_id, 0)
    article = db.func.coalesce(Comment.article_id, 0)
    counted = db.select(Comment.consultation_id, Comment.status, version, article,
                        db.literal(0), db.func.count(Comment.id)).where(*where) \
        .group_by(Comment.consultation_id, Comment.status, version, article)
    db.session.execute(db.insert(CommentCount).from_select(
        ["consultation_id", "status", "version_id", "article_id", "shard", "n"], counted))
