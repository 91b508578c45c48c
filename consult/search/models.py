"""The search index: one row per public text (F19), and the full-text index beside it.

`search_documents` holds what the public may find — a consultation (title, summary, 起草说明),
each article of its current version, its published adoption report, each published comment
(masked, as the public reads it), each published policy and interpretation — with the tokens of
`consult.textfold.search_tokens`. Nothing that is not public is ever written here: a hidden,
unverified or pending comment, a draft or an unpublished policy has no row at all.

The full-text index is kept by the database, in the same transaction as the row:
- SQLite: an FTS5 table `search_fts` over the two token columns (external content, kept by
  triggers), its tokenizer only splitting at the spaces the app put there;
- PostgreSQL: a generated `tsvector('simple')` column `search_vector` (title tokens weighted A,
  body tokens D) with a GIN index.
Neither is a model (they differ per database): they are created here on `create_all` and in the
migration, and `include_object` keeps them out of the models-versus-migrations comparison.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DDL, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from consult import labels
from consult.extensions import db
from consult.types import UTCDateTime, enum_column


class Kind(enum.StrEnum):
    CONSULTATION = "consultation"
    ARTICLE = "article"
    REPORT = "report"
    COMMENT = "comment"
    POLICY = "policy"
    INTERPRETATION = "interpretation"


KIND_LABELS = labels.define("search_kind", {
    Kind.CONSULTATION: _l("征求意见稿"),
    Kind.ARTICLE: _l("条文"),
    Kind.REPORT: _l("采纳情况"),
    Kind.COMMENT: _l("公众意见"),
    Kind.POLICY: _l("政策文件"),
    Kind.INTERPRETATION: _l("政策解读"),
})


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="kind_ref"),
        Index("ix_search_documents_kind_unit", "kind", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "search_kind"))
    ref_id: Mapped[int]  # the id of the consultation, article, report, comment, policy...
    consultation_id: Mapped[int | None] = mapped_column(index=True)
    unit_id: Mapped[int | None]
    doc_type: Mapped[str | None] = mapped_column(String(40))  # consultation type, if any
    year: Mapped[int | None]
    dated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # what the public reads (masked)
    title_tokens: Mapped[str] = mapped_column(Text, default="")
    body_tokens: Mapped[str] = mapped_column(Text, default="")


# ------------------------------------------------------------------ the full-text index

# `scope` is "c" for a comment, "d" for every other document: a query can ask the FTS index
# for documents only (`scope:d`), whose few rows it finds without walking the comments'.
_SCOPE = "CASE {row}.kind WHEN 'comment' THEN 'c' ELSE 'd' END"
SQLITE_CREATE = [
    # The app's tokens are separated by spaces and hold letters and digits only: unicode61
    # with nothing folded splits them exactly there.
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_tokens, body_tokens, scope, "
    "content='search_documents', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 0\")",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title_tokens, body_tokens, scope) "
    f"VALUES (new.id, new.title_tokens, new.body_tokens, {_SCOPE.format(row='new')}); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_tokens, body_tokens, scope) "
    f"VALUES ('delete', old.id, old.title_tokens, old.body_tokens, {_SCOPE.format(row='old')}); "
    "END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE OF title_tokens, body_tokens, kind "
    "ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_tokens, body_tokens, scope) "
    f"VALUES ('delete', old.id, old.title_tokens, old.body_tokens, {_SCOPE.format(row='old')}); "
    "INSERT INTO search_fts(rowid, title_tokens, body_tokens, scope) "
    f"VALUES (new.id, new.title_tokens, new.body_tokens, {_SCOPE.format(row='new')}); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TABLE IF EXISTS search_fts",
]

POSTGRESQL_CREATE = [
    "ALTER TABLE search_documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title_tokens), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body_tokens), 'D')) STORED",
    "CREATE INDEX ix_search_documents_search_vector ON search_documents "
    "USING gin (search_vector)",
    # Documents other than comments, on their own: found without the comments' posting lists.
    "CREATE INDEX ix_search_documents_search_vector_documents ON search_documents "
    "USING gin (search_vector) WHERE kind <> 'comment'",
]

FULL_TEXT_OBJECTS = {"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize",
                     "search_fts_config", "search_fts_content", "search_vector",
                     "ix_search_documents_search_vector",
                     "ix_search_documents_search_vector_documents"}


def create_full_text_index(connection) -> None:
    """The database's full-text index over `search_documents` (which must exist)."""
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
    for statement in statements.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def drop_full_text_index(connection) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.exec_driver_sql(statement)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's comparison: the full-text index is not a model (see above)."""
    return name not in FULL_TEXT_OBJECTS


_table = SearchDocument.__table__
for _statement in SQLITE_CREATE:
    event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_CREATE:
    event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_DROP:
    event.listen(_table, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
