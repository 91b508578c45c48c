"""Comment counts kept, not recounted (SPEC §7: a page with 100 000 comments is no slower).

Two kinds of rows in `comment_counts`, both sharded:
- a consultation's totals by status (`version_id` 0): what the pages' "N comments received / M
  published" and the lists read;
- its comments received per article of a version (`status` "*", `article_id` 0 for the whole
  draft): the contents list of its page. Received means whatever the status, so moderation
  never moves these.

Every comment written through the ORM counts: an INSERT adds one to both, a change of status
moves one between its totals (a change of version or article, were it ever to happen, between
articles). The changes of one flush are gathered per row key and written at its end, in the
same transaction (a 201 still means the comment and its counts are committed), each as an upsert
on one of `SHARDS` rows picked at random, so that a crowd's inserts on PostgreSQL do not queue
for one row's lock; the rows are written in one order, so two transactions never wait for each
other in a circle. Reading a count is a small sum: at most SHARDS rows per status, or per
article.

On SQLite, a comment inserted is counted by the database itself, in the INSERT's own statement,
whatever wrote it (`SQLITE_TRIGGER`; one writer at a time there, so one shard). On PostgreSQL a
citizen's comment, written by one INSERT without a flush (consult/comments/services.py), is
counted by that INSERT's statement too (`counted_insert`: a data-modifying WITH, one round
trip), and a comment the ORM inserts by the flush.

Comments are never deleted (SPEC F9). Rows inserted in bulk outside the ORM (benchmarks, the
migrations that introduced the counts) are counted by `recount`.
"""

from __future__ import annotations

import functools
import os
import random
from collections import Counter

from sqlalchemy import DDL, event, inspect, text
from sqlalchemy.orm import Session

from consult.comments.models import Comment, CommentCount, CommentStatus
from consult.extensions import db

SHARDS = 16
_DELTAS = "comment_counts.deltas"


def _status(value) -> str:
    return value.value if isinstance(value, CommentStatus) else str(value)


TOTALS = 0  # the version_id of a consultation's totals by status
ANY_STATUS = "*"  # the status of its per-article rows (comments received)


def _totals(consultation_id: int, status) -> tuple[int, int, int, str]:
    return consultation_id, TOTALS, 0, _status(status)


def _article(consultation_id: int, version_id: int | None,
             article_id: int | None) -> tuple[int, int, int, str]:
    """0 stands for "none" (the whole draft): keys cannot be NULL."""
    return consultation_id, version_id or 0, article_id or 0, ANY_STATUS


def _note(target: Comment, key: tuple, delta: int) -> None:
    deltas = Session.object_session(target).info.setdefault(_DELTAS, Counter())
    deltas[key] += delta


@event.listens_for(Comment, "after_insert")
def _inserted(mapper, connection, target: Comment) -> None:
    if connection.dialect.name == "sqlite":
        return  # counted by its trigger
    _note(target, _totals(target.consultation_id, target.status), 1)
    _note(target, _article(target.consultation_id, target.version_id, target.article_id), 1)


def _before(target: Comment, name: str):
    history = inspect(target).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(target, name)


@event.listens_for(Comment, "after_update")
def _updated(mapper, connection, target: Comment) -> None:
    for key_of, names in ((_totals, ("consultation_id", "status")),
                          (_article, ("consultation_id", "version_id", "article_id"))):
        old = key_of(*(_before(target, name) for name in names))
        new = key_of(*(getattr(target, name) for name in names))
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
    params = [{"consultation_id": c, "version_id": v, "article_id": a, "status": s,
               "shard": shard, "n": delta} for c, v, a, s, shard, delta in rows]
    # One statement (an executemany for several rows): a new comment sends its two rows.
    connection.execute(_UPSERT, params[0] if len(params) == 1 else params)


# The same SQL on SQLite (3.24+) and PostgreSQL. Written as text: SQLAlchemy cannot cache the
# compiled form of its `on_conflict_do_update` construct, and compiling it again cost more
# than executing it (bench/README.md, comment submission).
_COLUMNS = "INSERT INTO comment_counts (consultation_id, version_id, article_id, status, shard, n) "
_ON_CONFLICT = (" ON CONFLICT (consultation_id, version_id, article_id, status, shard) "
                "DO UPDATE SET n = comment_counts.n + excluded.n")
_UPSERT = text(_COLUMNS + "VALUES (:consultation_id, :version_id, :article_id, :status, :shard, :n)"
               + _ON_CONFLICT)
# SQLite: every comment inserted counted in the INSERT's statement — its totals row, then its
# article's row (the order of every writer). Made with the table (and by migration 0015); a
# migration that rebuilds `comments` (Alembic's batch mode on SQLite) must make it again.
SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS comments_counted AFTER INSERT ON comments BEGIN "
    + _COLUMNS + "VALUES (NEW.consultation_id, 0, 0, NEW.status, 0, 1), "
    "(NEW.consultation_id, coalesce(NEW.version_id, 0), coalesce(NEW.article_id, 0), '*', 0, 1)"
    + _ON_CONFLICT + "; END"
)
event.listen(Comment.__table__, "after_create", DDL(SQLITE_TRIGGER).execute_if(dialect="sqlite"))


def shards(*, grouped: bool = False) -> dict[str, int]:
    """The shard rows a new comment's counts go to: the parameters of `counted_insert`.

    `grouped`: the comment is written in a `database.WriteGroup`, whose transaction holds the
    rows of all its comments until it commits. Such comments count on their process's own
    shard: at random, two groups of two processes would take each other's rows in another
    order and wait for each other in a circle (PostgreSQL breaks it after a second)."""
    if grouped:
        shard = _process_shard()
        return {"shard": shard, "article_shard": shard}
    return {"shard": random.randrange(SHARDS), "article_shard": random.randrange(SHARDS)}


@functools.cache
def _shard_of(pid: int) -> int:
    return random.Random(pid).randrange(SHARDS)


def _process_shard() -> int:
    return _shard_of(os.getpid())


def counted_by_insert(dialect) -> bool:
    """Whether a citizen's comment INSERT is the counting statement (`counted_insert`):
    PostgreSQL, whose WITH may hold an INSERT; on SQLite the trigger counts a plain INSERT."""
    return dialect.name == "postgresql"


def counted_insert(insert: str, *also: str) -> str:
    """PostgreSQL: `insert` (an INSERT INTO comments … without RETURNING) that also counts the
    comment it inserts and returns its id — nothing, when it inserted none. Parameters
    `shard` and `article_shard` (`shards()`); the rows in the order of every writer.
    `also`: more data-modifying statements on what it inserted (`inserted`: id, status, …),
    run by the same statement."""
    more = "".join(f", also_{n} AS ({statement})" for n, statement in enumerate(also))
    return (f"WITH inserted AS ({insert} "
            "RETURNING id, consultation_id, version_id, article_id, status), "
            f"counted AS ({_COLUMNS}"
            "SELECT consultation_id, 0, 0, status, CAST(:shard AS SMALLINT), 1 FROM inserted "
            "UNION ALL SELECT consultation_id, coalesce(version_id, 0), coalesce(article_id, 0), "
            f"'*', CAST(:article_shard AS SMALLINT), 1 FROM inserted{_ON_CONFLICT}){more} "
            "SELECT id FROM inserted")


def counts_by_status(consultation_ids) -> dict[int, dict[str, int]]:
    """{consultation id: {status: comments}} for `consultation_ids`, in one small query."""
    ids = list(consultation_ids)
    result: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return result
    rows = db.session.execute(
        db.select(CommentCount.consultation_id, CommentCount.status,
                  db.func.sum(CommentCount.n))
        .where(CommentCount.consultation_id.in_(ids), CommentCount.version_id == TOTALS)
        .group_by(CommentCount.consultation_id, CommentCount.status))
    for consultation_id, status, n in rows:
        result[consultation_id][status] = int(n or 0)
    return result


def counts_by_article(consultation_id: int, version_id: int | None) -> dict[int | None, int]:
    """{article id (None: the whole draft): comments received} on one version of a
    consultation, whatever their status, for the contents list of its page."""
    if not version_id:
        return {}
    rows = db.session.execute(
        db.select(CommentCount.article_id, db.func.sum(CommentCount.n))
        .where(CommentCount.consultation_id == consultation_id,
               CommentCount.version_id == version_id, CommentCount.status == ANY_STATUS)
        .group_by(CommentCount.article_id))
    return {article_id or None: int(n) for article_id, n in rows if n}


def recount(consultation_id: int | None = None) -> None:
    """Count again from the comments themselves (after rows were written in bulk)."""
    where = [] if consultation_id is None else [Comment.consultation_id == consultation_id]
    delete = db.delete(CommentCount)
    if consultation_id is not None:
        delete = delete.where(CommentCount.consultation_id == consultation_id)
    db.session.execute(delete)
    columns = ["consultation_id", "version_id", "article_id", "status", "shard", "n"]
    by_status = db.select(Comment.consultation_id, db.literal(TOTALS), db.literal(0),
                          Comment.status, db.literal(0), db.func.count(Comment.id)) \
        .where(*where).group_by(Comment.consultation_id, Comment.status)
    version = db.func.coalesce(Comment.version_id, 0)
    article = db.func.coalesce(Comment.article_id, 0)
    by_article = db.select(Comment.consultation_id, version, article, db.literal(ANY_STATUS),
                           db.literal(0), db.func.count(Comment.id)) \
        .where(*where).group_by(Comment.consultation_id, version, article)
    for counted in (by_status, by_article):
        db.session.execute(db.insert(CommentCount).from_select(columns, counted))
