"""Keeping the search index current: in the same transaction as the change, in one place.

After every flush, `_after_flush` looks at what the flush wrote — consultations, versions,
articles, reports, comments, policies, interpretations — and rewrites the index rows of what
changed (`sync`), on the same connection, so a commit that publishes a comment or a report
publishes its index row with it and a rollback takes both back. What is not public is removed
(or never written): the rows are built by queries that select public things only.

The one exception is a citizen's comment published at once (consult/comments/services.py
`_insert`, without a flush): it is saved with no row, waiting among the `UnindexedComment`s,
and its row is written after the commit, in batches with the others waiting
(`index_pending_comments`, run by consult/search/indexer.py): found by search a second or so
later, and not in the POST.

`reindex` rebuilds the whole index in batches (`flask --app app search reindex`): after an
upgrade from a release without search, or to apply a changed tokenizer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    ARRAY,
    Integer,
    any_,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Session

from consult import clock, database, signals
from consult.answers.models import Report
from consult.comments.masking import mask
from consult.comments.models import Comment, CommentStatus, UnindexedComment
from consult.consultations.models import Article, Consultation, DraftVersion
from consult.consultations.policy import is_public
from consult.consultations.queries import public_clause
from consult.extensions import db
from consult.policies.models import Interpretation, Policy
from consult.search.models import Kind, SearchDocument
from consult.textfold import search_tokens

BATCH = 2000
DOCS = SearchDocument.__table__
WAITING = UnindexedComment.__table__

# Attributes of a consultation whose change touches its own rows (title, texts) or, for the
# second set, every row that belongs to it (visibility, unit, type).
_CONSULTATION_TEXT = {"title", "summary", "explanation", "report_published_at", "opens_at"}
_CONSULTATION_SCOPE = {"state", "approved_at", "unit_id", "type"}


@dataclass
class Pending:
    """What a flush changed, as ids to re-index."""

    consultations: set[int] = field(default_factory=set)  # its own row, articles, report
    consultation_comments: set[int] = field(default_factory=set)  # every comment of it
    comments: set[int] = field(default_factory=set)
    new_comments: list[Comment] = field(default_factory=list)  # never indexed yet
    policies: set[int] = field(default_factory=set)  # with their interpretations
    interpretations: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any((self.consultations, self.consultation_comments, self.comments,
                    self.new_comments, self.policies, self.interpretations))


def _changed(obj, names: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _collect(session: Session) -> Pending:
    pending = Pending()
    new, dirty, deleted = session.new, session.dirty, session.deleted
    for obj in (*new, *dirty, *deleted):
        if isinstance(obj, Comment):
            if obj in new:
                if obj.status == CommentStatus.PUBLISHED:
                    pending.new_comments.append(obj)
            elif obj in deleted or _changed(obj, {"status", "body", "created_at"}):
                pending.comments.add(obj.id)
        elif isinstance(obj, Consultation):
            if obj in new or obj in deleted or _changed(obj, _CONSULTATION_SCOPE):
                pending.consultations.add(obj.id)
                pending.consultation_comments.add(obj.id)
            elif _changed(obj, _CONSULTATION_TEXT):
                pending.consultations.add(obj.id)
        elif isinstance(obj, DraftVersion):
            pending.consultations.add(obj.consultation_id)
        elif isinstance(obj, Article):
            version = session.get(DraftVersion, obj.version_id)
            if version is not None:
                pending.consultations.add(version.consultation_id)
        elif isinstance(obj, Report):
            pending.consultations.add(obj.consultation_id)
        elif isinstance(obj, Policy):
            pending.policies.add(obj.id)
        elif isinstance(obj, Interpretation):
            pending.interpretations.add(obj.id)
    return pending


def _after_flush(session: Session, flush_context) -> None:
    pending = _collect(session)
    if pending:
        sync(session, pending)


# session.info: the ids of the comments this transaction wrote that wait for their rows (the
# indexer is woken with them after its commit: consult/search/indexer.py).
PENDING_KEY = "search_index_pending"
PENDING_BATCH = 500


@signals.comment_submitted.connect
def _comment_submitted(comment: Comment, *, session: Session, **_) -> None:
    """A citizen's comment written without a flush (consult/comments/services.py): published
    at once, it waits for its row (`UnindexedComment`), written after the commit."""
    if comment.status == CommentStatus.PUBLISHED:
        session.info.setdefault(PENDING_KEY, []).append(comment.id)


def install() -> None:
    """Keep the index current on every session (called once by `create_app`)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# ------------------------------------------------------------------ building the rows


def _row(kind: Kind, ref_id: int, *, title: str, body: str, consultation_id=None, unit_id=None,
         doc_type=None, dated_at=None) -> dict:
    return {
        "kind": kind, "ref_id": ref_id, "consultation_id": consultation_id, "unit_id": unit_id,
        "doc_type": str(doc_type) if doc_type else None,
        "year": clock.local_date(dated_at).year if dated_at else None,
        "dated_at": dated_at, "title": title or "", "body": body or "",
        "title_tokens": search_tokens(title), "body_tokens": search_tokens(body),
    }


def _consultation_rows(connection, ids: Iterable[int]) -> list[dict]:
    """The public consultations' own rows, their current version's articles and their latest
    published report."""
    ids = list(ids)
    if not ids:
        return []
    C = Consultation
    rows = []
    consultations = connection.execute(
        select(C.id, C.title, C.summary, C.explanation, C.unit_id, C.type, C.opens_at,
               C.report_published_at)
        .where(C.id.in_(ids), public_clause())
    ).all()
    for c in consultations:
        scope = {"consultation_id": c.id, "unit_id": c.unit_id, "doc_type": c.type}
        rows.append(_row(Kind.CONSULTATION, c.id, title=c.title,
                         body="\n".join(t for t in (c.summary, c.explanation) if t),
                         dated_at=c.opens_at, **scope))
        latest = (select(DraftVersion.id).where(DraftVersion.consultation_id == c.id)
                  .order_by(DraftVersion.number.desc()).limit(1).scalar_subquery())
        for a in connection.execute(
            select(Article.id, Article.label, Article.heading, Article.text)
            .where(Article.version_id == latest).order_by(Article.number)
        ):
            title = " ".join(t for t in (a.label, a.heading) if t)
            rows.append(_row(Kind.ARTICLE, a.id, title=title, body=a.text, dated_at=c.opens_at,
                             **scope))
        if c.report_published_at is not None:
            report = connection.execute(
                select(Report.id, Report.summary, Report.correction_note, Report.published_at)
                .where(Report.consultation_id == c.id, Report.published_at.is_not(None))
                .order_by(Report.revision.desc()).limit(1)
            ).first()
            if report is not None:
                rows.append(_row(
                    Kind.REPORT, report.id, title=c.title,
                    body="\n".join(t for t in (report.summary, report.correction_note) if t),
                    dated_at=report.published_at, **scope))
    return rows


def _comment_select():
    C = Consultation
    return (select(Comment.id, Comment.body, Comment.consultation_id, Comment.created_at,
                   C.unit_id, C.type)
            .join(C, C.id == Comment.consultation_id)
            .where(Comment.status == CommentStatus.PUBLISHED, public_clause()))


def _comment_row(comment_id, body, consultation_id, created_at, unit_id, type_) -> dict:
    # The public reads comments masked (consult.comments.masking): so does the index.
    return _row(Kind.COMMENT, comment_id, title="", body=mask(body) or "",
                consultation_id=consultation_id, unit_id=unit_id, doc_type=type_,
                dated_at=created_at)


def _new_comment_rows(session: Session, comments: list[Comment]) -> list[dict]:
    """Rows of comments published as they were made, mostly without a query: the
    consultation is in the session already (the comment's view loaded it)."""
    rows = []
    for comment in comments:
        consultation = session.identity_map.get(
            inspect(Consultation).identity_key_from_primary_key((comment.consultation_id,)))
        if consultation is None:
            consultation = session.get(Consultation, comment.consultation_id)
        if consultation is None or not is_public(consultation):
            continue
        rows.append(_comment_row(comment.id, comment.body, comment.consultation_id,
                                 comment.created_at, consultation.unit_id, consultation.type))
    return rows


def index_pending_comments(limit: int = PENDING_BATCH, *, bind=None,
                           among: Iterable[int] | None = None) -> int:
    """Write the rows of up to `limit` comments waiting for theirs (`UnindexedComment`) and
    take them off the list, in a transaction of its own (on `bind`: the session's engine, or
    the test's connection); how many comments were taken. `among`: only comments of these ids (a
    process's indexer takes the comments its own requests made, so that several processes do
    not each build the rows of every comment waiting, to find the others have claimed them).

    The rows are built first, before the writing transaction, their parameters made ready for
    the driver: the masked text and the tokens are most of the work, and SQLite's write lock is
    not held meanwhile. The transaction then
    claims the waiting comments (PostgreSQL: FOR UPDATE SKIP LOCKED, so that processes and
    hosts share the work and never take one comment twice), reads them again by key and then
    their consultations (FOR SHARE: a consultation withdrawn meanwhile waits, or is seen), builds
    again the few whose text or consultation changed, deletes any row they have (a second run
    changes nothing) and inserts the rows of those still public, in one executemany.
    """
    bind = bind if bind is not None else db.session.get_bind()
    among = list(among) if among is not None else None
    prepared = _prepared_document(bind.dialect)
    with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
        with session.begin():
            connection = session.connection()
            candidates = sorted(among)[:limit] if among is not None else list(connection.scalars(
                select(WAITING.c.comment_id).order_by(WAITING.c.comment_id).limit(limit)))
            built = {c[0]: (c, prepared.parameters(_comment_row(*c)))
                     for c in _public_comments(connection, candidates)}
        with database.writing(), session.begin():
            connection = session.connection()
            ids = _claim_pending(connection, limit, among)
            if not ids:
                return 0
            connection.execute(delete(DOCS).where(DOCS.c.kind == Kind.COMMENT,
                                                  _among(connection, DOCS.c.ref_id, ids)))
            rows = []
            for c in _public_comments(connection, ids, lock=True):
                found = built.get(c[0])
                rows.append(found[1] if found and found[0] == c
                            else prepared.parameters(_comment_row(*c)))
            if rows:
                connection.exec_driver_sql(prepared.sql, rows)
    return len(ids)


def _public_comments(connection, ids: list[int], *, lock: bool = False) -> list[tuple]:
    """The arguments of `_comment_row` for those of the comments `ids` that are published on
    a public consultation: the comments read by key alone, then their consultations (`lock`:
    FOR SHARE, so that a consultation withdrawn meanwhile waits, or is seen).

    Two plain reads rather than `_comment_select`'s join: with statistics from before a
    crowd's comments (a new consultation, a new database), PostgreSQL's planner took the
    join through the consultation's index and read every one of its comments to find a
    batch's (2–40 ms a batch at 4 000–20 000 comments, growing with them); a read of
    `comments` by key alone, without even its status, has no other index to take."""
    if not ids:
        return []
    comments = connection.execute(
        select(Comment.id, Comment.body, Comment.consultation_id, Comment.created_at,
               Comment.status).where(_among(connection, Comment.id, ids))).all()
    C = Consultation
    public = select(C.id, C.unit_id, C.type).where(
        C.id.in_(sorted({c.consultation_id for c in comments})), public_clause())
    if lock:
        public = public.with_for_update(read=True)
    consultations = {k.id: k for k in connection.execute(public)}
    return [(c.id, c.body, c.consultation_id, c.created_at, k.unit_id, k.type)
            for c in sorted(comments, key=lambda c: c.id) if c.status == CommentStatus.PUBLISHED
            and (k := consultations.get(c.consultation_id)) is not None]


@functools.cache
def _prepared_document(dialect) -> database.Prepared:
    """The INSERT of one index row, its parameters made ready with the row, before the write
    transaction (`database.prepare`)."""
    columns = [column for column in DOCS.columns if column.key != "id"]
    return database.prepare(
        insert(DOCS).values({c.key: bindparam(c.key, type_=c.type) for c in columns}), dialect)


def _among(connection, column, ids: list[int]):
    """`column IN ids` for a batch of ids: on PostgreSQL `= ANY` of one array parameter (the
    expansion of a batch's IN list into its parameters, on each execution, was a tenth of the
    indexer's CPU)."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def _claim_pending(connection, limit: int, among: list[int] | None = None) -> list[int]:
    """Take up to `limit` waiting comments (of the ids `among`, if given) off the list, oldest
    first; their ids. A write first: SQLite's write lock is taken (or waited for) before
    anything is read."""
    waiting = select(WAITING.c.comment_id)
    if among is not None:
        waiting = waiting.where(_among(connection, WAITING.c.comment_id, among))
    # Materialized, so that PostgreSQL picks (and locks) once (as consult/jobs/queue.py).
    picked = (waiting.order_by(WAITING.c.comment_id).limit(limit)
              .with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED"))
    return list(connection.scalars(
        delete(WAITING).where(WAITING.c.comment_id.in_(select(picked.c.comment_id)))
        .returning(WAITING.c.comment_id)))


def comments_waiting(created_before) -> bool:
    """Whether a comment made before `created_before` still waits for its row (the indexer
    that should have written it died, or failed)."""
    # The oldest on the list is the one of the lowest id (ids are given in the order of the
    # INSERTs), found by key: a join would let the planner walk the comments.
    oldest = select(func.min(WAITING.c.comment_id)).scalar_subquery()
    return db.session.scalar(select(Comment.id).where(
        Comment.id == oldest, Comment.created_at < created_before)) is not None


def _policy_rows(connection, policy_ids: Iterable[int], interpretation_ids: Iterable[int]):
    P, I = Policy, Interpretation  # noqa: E741
    rows = []
    policy_ids, interpretation_ids = list(policy_ids), list(interpretation_ids)
    if policy_ids:
        for p in connection.execute(
            select(P.id, P.title, P.document_number, P.text, P.unit_id, P.consultation_id,
                   P.issued_on, P.published_at, Consultation.type)
            .outerjoin(Consultation, Consultation.id == P.consultation_id)
            .where(P.id.in_(policy_ids), P.published_at.is_not(None))
        ):
            rows.append(_row(Kind.POLICY, p.id, title=f"{p.title} {p.document_number}",
                             body=p.text, consultation_id=p.consultation_id, unit_id=p.unit_id,
                             doc_type=p.type, dated_at=p.published_at))
    if interpretation_ids:
        for i in connection.execute(
            select(I.id, I.title, I.body, I.published_at, P.unit_id, P.consultation_id,
                   Consultation.type)
            .join(P, P.id == I.policy_id)
            .outerjoin(Consultation, Consultation.id == P.consultation_id)
            .where(I.id.in_(interpretation_ids), I.published_at.is_not(None),
                   P.published_at.is_not(None))
        ):
            rows.append(_row(Kind.INTERPRETATION, i.id, title=i.title, body=i.body,
                             consultation_id=i.consultation_id, unit_id=i.unit_id,
                             doc_type=i.type, dated_at=i.published_at))
    return rows


def _replace(connection, kinds_refs: list[tuple[Kind, list[int]]], rows: list[dict]) -> None:
    for kind, refs in kinds_refs:
        for start in range(0, len(refs), BATCH):
            connection.execute(delete(DOCS).where(DOCS.c.kind == kind,
                                                  DOCS.c.ref_id.in_(refs[start:start + BATCH])))
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(DOCS), rows[start:start + BATCH])


def sync(session: Session, pending: Pending) -> None:
    """Rewrite the index rows of what `pending` names, on the session's connection."""
    connection = session.connection()
    D = DOCS.c
    if pending.consultations:
        ids = sorted(pending.consultations)
        connection.execute(delete(DOCS).where(
            D.consultation_id.in_(ids),
            D.kind.in_([Kind.CONSULTATION, Kind.ARTICLE, Kind.REPORT])))
        _replace(connection, [], _consultation_rows(connection, ids))
    # One row per comment, whichever way it came: its consultation rebuilt, itself changed, or
    # new in this flush (a new consultation's first comments come all three ways at once).
    comment_rows: dict[int, dict] = {}
    if pending.consultation_comments:
        ids = sorted(pending.consultation_comments)
        connection.execute(delete(DOCS).where(D.consultation_id.in_(ids),
                                              D.kind == Kind.COMMENT))
        for c in connection.execute(_comment_select().where(Comment.consultation_id.in_(ids))):
            comment_rows[c.id] = _comment_row(*c)
        # The policy may follow the consultation's unit and type as well.
        pending.policies.update(connection.scalars(
            select(Policy.id).where(Policy.consultation_id.in_(ids))))
    comment_ids = sorted(pending.comments - comment_rows.keys())
    if comment_ids:
        for c in connection.execute(_comment_select().where(Comment.id.in_(comment_ids))):
            comment_rows[c.id] = _comment_row(*c)
    fresh = [c for c in pending.new_comments if c.id not in comment_rows]
    for row in _new_comment_rows(session, fresh):
        comment_rows.setdefault(row["ref_id"], row)
    # Their rows are written here: none waits for the indexer (SQLite's trigger listed every
    # published comment inserted: consult/comments/models.py `UnindexedComment`).
    new_ids = [c.id for c in pending.new_comments]
    for start in range(0, len(new_ids), BATCH):
        connection.execute(delete(WAITING).where(
            WAITING.c.comment_id.in_(new_ids[start:start + BATCH])))
    _replace(connection, [(Kind.COMMENT, comment_ids)], list(comment_rows.values()))
    if pending.policies or pending.interpretations:
        policies = sorted(pending.policies)
        interpretations = set(pending.interpretations)
        if policies:
            interpretations.update(connection.scalars(
                select(Interpretation.id).where(Interpretation.policy_id.in_(policies))))
        interpretations = sorted(interpretations)
        _replace(connection, [(Kind.POLICY, policies), (Kind.INTERPRETATION, interpretations)],
                 _policy_rows(connection, policies, interpretations))


def clear_pending(session: Session) -> int:
    """Empty the list of comments waiting for their rows, before a `reindex` in the same
    transaction writes their rows (a comment committed after this DELETE stays on it, and the
    indexer writes its row later); how many were taken off."""
    return session.connection().execute(delete(WAITING)).rowcount


def reindex(session: Session, *, batch: int = BATCH) -> int:
    """Rebuild the whole index; returns the number of rows written."""
    connection = session.connection()
    connection.execute(delete(DOCS))
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
    written = 0
    consultation_ids = list(connection.scalars(select(Consultation.id).order_by(Consultation.id)))
    for start in range(0, len(consultation_ids), batch):
        rows = _consultation_rows(connection, consultation_ids[start:start + batch])
        _replace(connection, [], rows)
        written += len(rows)
    last = 0
    while True:
        chunk = connection.execute(
            _comment_select().where(Comment.id > last).order_by(Comment.id).limit(batch)).all()
        if not chunk:
            break
        rows = [_comment_row(*c) for c in chunk]
        _replace(connection, [], rows)
        written += len(rows)
        last = chunk[-1].id
    policies = list(connection.scalars(select(Policy.id)))
    interpretations = list(connection.scalars(select(Interpretation.id)))
    rows = _policy_rows(connection, policies, interpretations)
    _replace(connection, [], rows)
    written += len(rows)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    return written
