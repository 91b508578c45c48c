"""What the rules of a new comment read of its consultation, read in one query and kept.

A citizen's POST needs a handful of the consultation's values (its state, window, settings,
current version and the article named): `comment_target` reads them in one query, with no ORM
object. Each process keeps what it read (`KEPT_TARGETS` at most), so a crowd's POSTs on one
consultation send no query for them at all — on SQLite that query would also sit inside the
write lock, where every millisecond is one that all writers wait (bench/README.md, comment
submission).

A kept copy is never trusted: the comment's INSERT carries `guard_sql`, which re-reads in
the database, in the same statement, every value the rules used. When one has changed (staff
suspended it, changed its moderation, a new draft version…) nothing is inserted and the caller
reads again (`fresh=True`) and applies the rules to what is now true. A refusal drawn from a
kept copy is checked against a fresh read in the same way (consult/comments/services.py), and a
copy is only handed out while it would take a comment from anyone (public, open by the clock,
no account needed): pages that refuse — closed, not found, sign in first — are drawn from the
database.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam

from consult import clock
from consult.consultations.models import (
    Article,
    Consultation,
    DraftVersion,
    Moderation,
    State,
    Verification,
)
from consult.consultations.policy import is_public
from consult.consultations.states import status_of
from consult.extensions import db

# Article numbers are small: a number beyond this is no article (and would not fit SQLite's
# 64-bit integers as a parameter).
MAX_ARTICLE_NUMBER = 2**31 - 1
KEPT_TARGETS = 512  # (consultation, article) pairs a process keeps; then it starts again


@dataclass(frozen=True)
class CommentTarget:
    """What the rules of a new comment read of its consultation, by the names `Consultation`
    gives them — so either can be given to `submit_comment` — read in one query with the
    current version and the article asked for."""

    id: int
    state: State
    opens_at: datetime
    closes_at: datetime
    approved_at: datetime | None
    verification: Verification
    moderation: Moderation
    unit_id: int
    type: str
    version_id: int | None
    article_number: int | None = None  # the article asked for,
    article_id: int | None = None  # and its id in the current version (None: there is none)
    # From this process's copy, not the database: the INSERT checks it (`guard_sql`).
    kept: bool = dataclasses.field(default=False, compare=False)

    @property
    def status(self) -> State:
        return status_of(self.state, self.opens_at, self.closes_at, clock.now())


class _Kept:
    """The targets this process has read, by (consultation id, article number)."""

    def __init__(self) -> None:
        self.targets: dict[tuple[int, int | None], CommentTarget] = {}
        # Consultations whose stored values read back differently from how they are bound
        # (written by hand, say): the guard would never hold, so they are always read.
        self.unguarded: set[int] = set()
        self.lock = threading.Lock()

    def get(self, key) -> CommentTarget | None:
        return self.targets.get(key)

    def keep(self, key, target: CommentTarget) -> None:
        with self.lock:
            if len(self.targets) >= KEPT_TARGETS:
                self.targets.clear()
            self.targets[key] = dataclasses.replace(target, kept=True)

    def forget(self, consultation_id: int | None = None) -> None:
        with self.lock:
            if consultation_id is None:
                self.targets.clear()
                self.unguarded.clear()
            else:
                for key in [k for k in self.targets if k[0] == consultation_id]:
                    del self.targets[key]


_kept = _Kept()


def comment_target(consultation_id: int, article_number: int | None, *,
                   fresh: bool = False) -> CommentTarget | None:
    """The consultation `consultation_id` as the rules of a new comment read it, with its
    current version's id and the id of its article `article_number` (if given); None when
    there is no such consultation (whether it is public is the caller's).

    This process's copy when it has one that would take a comment now (`kept` is then true:
    the INSERT checks it); else one query, no ORM object — and `fresh` always reads.
    """
    if article_number is not None and not 0 <= article_number <= MAX_ARTICLE_NUMBER:
        article_number = None  # refused by `find_article`, without a query
    key = (consultation_id, article_number)
    if not fresh:
        kept = _kept.get(key)
        if kept is not None and _takes_comments(kept):
            return kept
    # On the session's connection: no ORM entity is loaded, so none of the ORM's work is needed
    row = db.session.connection().execute(
        _target_query(article_number is not None),
        {"consultation_id": consultation_id, "article_number": article_number},
    ).first()
    if row is None:
        return None
    target = CommentTarget(**row._mapping, article_number=article_number)
    if _takes_comments(target) and consultation_id not in _kept.unguarded:
        _kept.keep(key, target)
    return target


def _takes_comments(target: CommentTarget) -> bool:
    """Whether the target would take anyone's comment now: only such a copy is handed out."""
    return (is_public(target) and target.status == State.OPEN
            and target.verification != Verification.ACCOUNT)


def stale(target: CommentTarget) -> CommentTarget | None:
    """`target` was kept and the database now says otherwise: forget it and read it again.
    A fresh read equal to the kept one means the guard cannot hold for this consultation
    (its stored values read back differently): it is read every time from now on."""
    _kept.forget(target.id)
    fresh = comment_target(target.id, target.article_number, fresh=True)
    if fresh == target:
        _kept.unguarded.add(target.id)
        _kept.forget(target.id)
        current_app.logger.warning("consultation %s: its kept values never match the stored "
                                   "ones; read on every comment from now on", target.id)
    return fresh


def forget_targets() -> None:
    """Forget every kept target (tests: each begins as a new process would)."""
    _kept.forget()


@functools.cache
def _target_query(with_article: bool):
    C = Consultation
    version = (db.select(DraftVersion.id).where(DraftVersion.consultation_id == C.id)
               .order_by(DraftVersion.number.desc()).limit(1).correlate(C).scalar_subquery())
    columns = [C.id, C.state, C.opens_at, C.closes_at, C.approved_at, C.verification,
               C.moderation, C.unit_id, C.type, version.label("version_id")]
    if with_article:
        columns.append(db.select(Article.id).where(
            Article.version_id == version, Article.number == bindparam("article_number"),
        ).scalar_subquery().label("article_id"))
    return db.select(*columns).where(C.id == bindparam("consultation_id"))


# The guard's parameters: the target's values under their own names, bound with the column's
# type (as they were read). The comment's own consultation_id, version_id and article_id are
# the INSERT's parameters of those names.
_GUARDED = ("state", "opens_at", "closes_at", "approved_at", "verification", "moderation",
            "unit_id", "type")


def guard_values(target: CommentTarget) -> dict:
    values = {f"target_{name}": getattr(target, name) for name in _GUARDED}
    values["target_article_number"] = target.article_number
    return values


def guard_binds(*, with_article: bool) -> list:
    """The guard's parameters with their columns' types (`guard_sql`'s)."""
    table = Consultation.__table__
    binds = [bindparam(f"target_{name}", type_=table.c[name].type) for name in _GUARDED]
    if with_article:
        binds.append(bindparam("target_article_number", type_=Article.__table__.c.number.type))
    return binds


def guard_sql(dialect, *, with_article: bool) -> str:
    """A condition true only while the database still holds what the target says: the
    consultation's values, its newest version, and the article named in that version."""
    quote = dialect.identifier_preparer.quote
    same = "IS" if dialect.name == "sqlite" else "IS NOT DISTINCT FROM"  # NULL = NULL
    c, v, a = (quote(t.__table__.name) for t in (Consultation, DraftVersion, Article))
    nullable = {"approved_at"}
    checks = [f"{c}.{quote('id')} = :consultation_id"] + [
        f"{c}.{quote(name)} {same if name in nullable else '='} :target_{name}"
        for name in _GUARDED
    ]
    checks.append(
        f"(SELECT {v}.{quote('id')} FROM {v} WHERE {v}.{quote('consultation_id')} = "
        f"{c}.{quote('id')} ORDER BY {v}.{quote('number')} DESC LIMIT 1) {same} :version_id")
    sql = f"EXISTS (SELECT 1 FROM {c} WHERE {' AND '.join(checks)})"
    if with_article:
        sql += (f" AND EXISTS (SELECT 1 FROM {a} WHERE {a}.{quote('id')} = :article_id AND "
                f"{a}.{quote('version_id')} = :version_id AND "
                f"{a}.{quote('number')} = :target_article_number)")
    return sql
