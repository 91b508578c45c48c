"""Asking the search index (F19): one interface, SQLite FTS5 or PostgreSQL text search beneath.

`search(params)` answers the top results of a query, ranked, with highlighted snippets. Both
databases see the same tokens (`consult.textfold`): each word of the query is a phrase of
adjacent tokens, every phrase must match. Ranking is the database's relevance (SQLite: BM25
with the title counting ten times the body; PostgreSQL: ts_rank with the title weighted A)
multiplied by the kind's weight — a consultation's or policy's own text above an article, an
article above a comment. Every matching document other than a comment is ranked (they are
few); comments — millions, in time — are ranked among their COMMENT_CANDIDATES newest matches,
read newest first straight from the index (SQLite), or found newest first within bounded
windows of ids (PostgreSQL, `_postgresql_newest_comments`), so that a query's cost follows what
it finds rather than the size of the corpus.
At most MAX_RESULTS results are served in pages; a count beyond says "more than".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import (
    ARRAY,
    Integer,
    and_,
    any_,
    bindparam,
    case,
    column,
    false,
    func,
    literal_column,
    select,
    table,
)

from consult import clock
from consult.consultations.models import Consultation
from consult.consultations.queries import list_filter
from consult.extensions import db
from consult.search.models import Kind, SearchDocument
from consult.textfold import fold, query_phrases, query_terms

MAX_RESULTS = 1000  # ranked results served in pages; a count above it is "more than"
COMMENT_CANDIDATES = 1000  # the newest matching comments that are ranked
RECENT_WINDOW = 20_000  # PostgreSQL: the newest ids walked row by row (see below)
DENSE_IN_WINDOW = 50  # PostgreSQL: a word found this often there is looked for in bands
SNIPPET_LENGTH = 160
MAX_QUERY_LENGTH = 500

# The kind's weight in the ranking: a document's own title and text above its parts, and
# its parts above what the public wrote about it.
KIND_WEIGHTS = {
    Kind.CONSULTATION: 3.0, Kind.POLICY: 3.0, Kind.ARTICLE: 2.0, Kind.INTERPRETATION: 2.0,
    Kind.REPORT: 1.5, Kind.COMMENT: 1.0,
}
STATUSES = ("open", "closed", "reported")
_FTS = table("search_fts", column("rowid"))


@dataclass(frozen=True)
class SearchParams:
    q: str
    kind: Kind | None = None
    unit_id: int | None = None
    type: str | None = None
    status: str | None = None
    year: int | None = None
    page: int = 1
    per_page: int = 20

    def filters(self) -> dict:
        """The filters set, as query-string arguments."""
        values = {"kind": self.kind.value if self.kind else None, "unit": self.unit_id,
                  "type": self.type, "status": self.status, "year": self.year}
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class Hit:
    kind: Kind
    ref_id: int
    consultation_id: int | None
    unit_id: int | None
    title: str
    body: str
    dated_at: datetime | None
    score: float
    title_html: Markup = field(default_factory=Markup)
    snippet_html: Markup = field(default_factory=Markup)


@dataclass
class Results:
    params: SearchParams
    hits: list[Hit]
    total: int  # at most MAX_RESULTS + 1
    searched: bool  # False: the query had no word to look for

    @property
    def more_than(self) -> bool:
        return self.total > MAX_RESULTS

    @property
    def shown_total(self) -> int:
        return min(self.total, MAX_RESULTS)


# ------------------------------------------------------------------ the two databases


def _sqlite_match(phrases, scope: str | None = None) -> str:
    parts = []
    for tokens, prefix in phrases:
        parts.append('"' + " ".join(tokens) + '"' + ("*" if prefix else ""))
    match = "{title_tokens body_tokens} : (" + " AND ".join(parts) + ")"
    return match + (f" AND scope : {scope}" if scope else "")


def _postgresql_query(phrases) -> str:
    parts = []
    for tokens, prefix in phrases:
        quoted = [f"'{t}'" for t in tokens]
        if prefix:
            quoted[-1] += ":*"
        parts.append("(" + " <-> ".join(quoted) + ")")
    return " & ".join(parts)


def _weight():
    D = SearchDocument
    return case(*((D.kind == kind, weight) for kind, weight in KIND_WEIGHTS.items()),
                else_=1.0)


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _matches(phrases, scope: str | None):
    """(condition, score) for the database in use; a higher score is a better match. `scope`:
    "d" documents other than comments, "c" comments only, None everything."""
    if _postgresql():
        query = func.to_tsquery("simple", _postgresql_query(phrases))
        vector = literal_column("search_documents.search_vector")
        condition = vector.op("@@")(query)
        if scope is not None:  # a literal, so that the partial index's predicate is implied
            kind = literal_column("search_documents.kind")
            comment = literal_column("'comment'")
            condition = and_(condition, kind != comment if scope == "d" else kind == comment)
        return condition, func.ts_rank(vector, query) * _weight()
    fts = literal_column("search_fts")
    return (fts.op("MATCH")(_sqlite_match(phrases, scope)),
            -func.bm25(fts, 10.0, 1.0, 0.0) * _weight())


def _base_query(params: SearchParams, phrases, *, scope: str | None = None, columns=None):
    D = SearchDocument
    condition, score = _matches(phrases, scope)
    query = select(*(columns or (D,)), score.label("score")).where(condition)
    if not _postgresql():
        query = query.join(_FTS, _FTS.c.rowid == D.id)
    if params.kind is not None:
        query = query.where(D.kind == params.kind)
    if params.unit_id is not None:
        query = query.where(D.unit_id == params.unit_id)
    if params.type is not None:
        query = query.where(D.doc_type == params.type)
    if params.year is not None:
        query = query.where(D.year == params.year)
    if params.status is not None:
        query = query.where(D.consultation_id.in_(
            select(Consultation.id).where(list_filter(params.status, clock.now()))))
    return query, score


def _candidates(params: SearchParams, phrases) -> tuple[list[tuple[int, float]], bool]:
    """(id, score) of the matches to rank, best first, and whether there were more.

    Documents other than comments (drafts, articles, reports, policies: thousands at most) are
    all ranked; comments, which may be millions, are ranked among their COMMENT_CANDIDATES
    newest matches — read newest first from the index, so a common word costs as much as a
    rare one, whatever the size of the corpus."""
    D = SearchDocument
    found: list[tuple[int, float]] = []
    more = False
    if params.kind is None or params.kind != Kind.COMMENT:
        query, score = _base_query(params, phrases, scope="d", columns=(D.id,))
        found += [(i, float(s)) for i, s in db.session.execute(
            query.order_by(score.desc(), D.id.desc()).limit(MAX_RESULTS + 1))]
    if params.kind is None or params.kind == Kind.COMMENT:
        if _postgresql():
            comments = _postgresql_newest_comments(params, phrases)
        else:
            query, score = _base_query(params, phrases, scope="c", columns=(D.id,))
            comments = db.session.execute(
                query.order_by(_FTS.c.rowid.desc()).limit(COMMENT_CANDIDATES)).all()
        more = len(comments) == COMMENT_CANDIDATES
        found += [(i, float(s)) for i, s in comments]
    found.sort(key=lambda pair: (-pair[1], -pair[0]))
    return found, more or len(found) > MAX_RESULTS


def _postgresql_newest_comments(params: SearchParams, phrases) -> list[tuple[int, float]]:
    """(id, score) of the COMMENT_CANDIDATES newest matching comments, on PostgreSQL.

    `ORDER BY id DESC LIMIT n` alone lets the planner walk the primary key backwards, testing
    every row until n match: quick for a word spread evenly, but a word found only in older
    comments (one consultation's campaign, say) makes it test every newer row first — 8 s at
    a million comments (bench/README.md). So that walk is bounded to the newest RECENT_WINDOW
    ids. What is missing is then looked for below them: a word frequent there, in bands of ids
    sized by its frequency (each four times the one before); a rare one, through the GIN index
    alone (`id + 0` keeps the primary key out of that plan), reading its matches only. The
    relevance is computed for the chosen ids only."""
    D = SearchDocument
    newest_id = db.session.scalar(select(func.max(D.id)))
    if newest_id is None:
        return []
    query, _score = _base_query(params, phrases, scope="c", columns=(D.id,))
    query = query.with_only_columns(D.id)
    top = newest_id - RECENT_WINDOW
    found = list(db.session.scalars(
        query.where(D.id > top).order_by(D.id.desc()).limit(COMMENT_CANDIDATES)))
    missing = COMMENT_CANDIDATES - len(found)
    if missing and top > 0 and len(found) >= DENSE_IN_WINDOW:
        band = 2 * RECENT_WINDOW * missing // len(found)  # twice the ids that should hold them
        while len(found) < COMMENT_CANDIDATES and top > 0:
            bottom = max(top - band, 0)
            found += db.session.scalars(
                query.where(D.id > bottom, D.id <= top).order_by((D.id + 0).desc())
                .limit(COMMENT_CANDIDATES - len(found)))
            top, band = bottom, band * 4
    elif missing and top > 0:
        older = D.id + 0
        found += db.session.scalars(
            query.where(older <= top).order_by(older.desc()).limit(missing))
    if not found:
        return []
    _condition, score = _matches(phrases, "c")
    ids = bindparam("ids", found, type_=ARRAY(Integer))  # one parameter, not a thousand
    return [(i, float(s)) for i, s in db.session.execute(
        select(D.id, score).where(D.id == any_(ids)).order_by(D.id.desc()))]


def search(params: SearchParams) -> Results:
    """The page `params.page` of the ranked results (at most MAX_RESULTS in all)."""
    phrases = query_phrases(params.q[:MAX_QUERY_LENGTH])
    if not phrases:
        return Results(params, [], 0, searched=False)
    ranked, more = _candidates(params, phrases)
    ranked = ranked[:MAX_RESULTS]
    offset = (params.page - 1) * params.per_page
    page = ranked[offset:offset + params.per_page]
    rows = {d.id: d for d in db.session.scalars(
        select(SearchDocument).where(SearchDocument.id.in_([i for i, _s in page])))}
    hits = [Hit(kind=d.kind, ref_id=d.ref_id, consultation_id=d.consultation_id,
                unit_id=d.unit_id, title=d.title, body=d.body, dated_at=d.dated_at, score=s)
            for i, s in page if (d := rows.get(i)) is not None]
    total = MAX_RESULTS + 1 if more else len(ranked)
    terms = query_terms(params.q[:MAX_QUERY_LENGTH])
    for hit in hits:
        hit.title_html = highlight(hit.title, terms, whole=True)
        hit.snippet_html = highlight(hit.body, terms)
    return Results(params, hits, total, searched=True)


def matching_consultations(q: str | None):
    """A subquery of the consultations whose own text, current articles or report match `q`
    (the `/consultations?q=` filter): None without `q`, no consultation when `q` has no word
    to look for."""
    if not q:
        return None
    phrases = query_phrases(q[:MAX_QUERY_LENGTH])
    if not phrases:
        return select(SearchDocument.consultation_id).where(false())
    D = SearchDocument
    query, _score = _base_query(SearchParams(q=q), phrases, scope="d")
    return (query.with_only_columns(D.consultation_id)
            .where(D.kind.in_([Kind.CONSULTATION, Kind.ARTICLE, Kind.REPORT])))


# ------------------------------------------------------------------ snippets


def _folded_positions(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, when folding changed its length, where each folded character
    came from in `text` (None: one to one)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    pieces, origins = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        pieces.append(piece)
        origins.extend([index] * len(piece))
    return "".join(pieces), origins


def highlight(text: str, terms: list[str], *, whole: bool = False) -> Markup:
    """`text` escaped, with the query's words marked (`<mark>`); a window of SNIPPET_LENGTH
    characters around the first match unless `whole`."""
    text = text or ""
    if not terms:
        return escape(text if whole else text[:SNIPPET_LENGTH])
    folded, origins = _folded_positions(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    spans = []
    for match in pattern.finditer(folded):
        start, end = match.start(), match.end()
        if origins is not None:
            start, end = origins[start], origins[end - 1] + 1
        spans.append((start, end))
    if whole:
        window = (0, len(text))
    else:
        first = spans[0][0] if spans else 0
        start = max(0, first - SNIPPET_LENGTH // 4)
        window = (start, min(len(text), start + SNIPPET_LENGTH))
    out = [Markup("…")] if window[0] > 0 else []
    position = window[0]
    for start, end in spans:
        if start < position or start >= window[1]:
            continue
        end = min(end, window[1])
        out.append(escape(text[position:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        position = end
    out.append(escape(text[position:window[1]]))
    if window[1] < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)
