"""Comment counts kept, not recounted (SPEC §7: a page with 100 000 comments is no slower).

Every comment written through the ORM moves its consultation's count for its status: an INSERT
adds one, a change of status moves one from the old status to the new. The changes of one flush
are gathered per (consultation, status) and written at its end, in the same transaction (a 201
still means the comment and its count are committed), each as one upsert on one of `SHARDS`
rows picked at random, so that a crowd's inserts on PostgreSQL do not queue for one row's lock;
the rows are written in one order, so two transactions never wait for each other in a circle.
Reading a count is the sum of at most SHARDS rows per status.

A citizen's comment is written by one INSERT without a flush (consult/comments/services.py): it
is counted by `add`, in its transaction too.

Comments are never deleted (SPEC F9). Rows inserted in bulk outside the ORM (benchmarks, the
migration that introduced the counts) are counted by `recount`.
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


def _note(target: Comment, status, delta: int) -> None:
    deltas = Session.object_session(target).info.setdefault(_DELTAS, Counter())
    deltas[(target.consultation_id, _status(status))] += delta


@event.listens_for(Comment, "after_insert")
def _inserted(mapper, connection, target: Comment) -> None:
    _note(target, target.status, 1)


@event.listens_for(Comment, "after_update")
def _updated(mapper, connection, target: Comment) -> None:
    history = inspect(target).attrs.status.history
    if history.added and history.deleted and history.added[0] != history.deleted[0]:
        _note(target, history.deleted[0], -1)
        _note(target, history.added[0], 1)


@event.listens_for(Session, "after_flush")
def _write(session: Session, flush_context) -> None:
    deltas = session.info.pop(_DELTAS, None)
    if not deltas:
        return
    connection = session.connection()
    rows = sorted((consultation_id, status, random.randrange(SHARDS), delta)
                  for (consultation_id, status), delta in deltas.items() if delta)
    if not rows:
        return
    params = [{"consultation_id": c, "status": s, "shard": shard, "n": delta}
              for c, s, shard, delta in rows]
    # One statement (an executemany for several rows): a new comment sends one row.
    connection.execute(_UPSERT, params[0] if len(params) == 1 else params)


# The same SQL on SQLite (3.24+) and PostgreSQL. Written as text: SQLAlchemy cannot cache the
# compiled form of its `on_conflict_do_update` construct, and compiling it again cost more
# than executing it (bench/README.md, comment submission).
_UPSERT = text(
    "INSERT INTO comment_counts (consultation_id, status, shard, n) "
    "VALUES (:consultation_id, :status, :shard, :n) "
    "ON CONFLICT (consultation_id, status, shard) DO UPDATE SET n = comment_counts.n + excluded.n")


def add(connection, consultation_id: int, status) -> None:
    """Count one comment written without the ORM's flush (`consult.comments.services`)."""
    connection.execute(_UPSERT, {"consultation_id": consultation_id, "status": _status(status),
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


def recount(consultation_id: int | None = None) -> None:
    """Count again from the comments themselves (after rows were written in bulk)."""
    where = [] if consultation_id is None else [Comment.consultation_id == consultation_id]
    delete = db.delete(CommentCount)
    if consultation_id is not None:
        delete = delete.where(CommentCount.consultation_id == consultation_id)
    db.session.execute(delete)
    counted = db.select(Comment.consultation_id, Comment.status, db.literal(0),
                        db.func.count(Comment.id)).where(*where) \
        .group_by(Comment.consultation_id, Comment.status)
    db.session.execute(db.insert(CommentCount).from_select(
        ["consultation_id", "status", "shard", "n"], counted))
