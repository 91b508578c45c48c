"""The search page (`/search`, F19): everything public, ranked, with filters."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask import request as flask_request
from flask_sqlalchemy.pagination import Pagination

from consult import clock
from consult.consultations.models import ConsultationType
from consult.consultations.queries import public_units
from consult.search import links, params
from consult.search.engine import MAX_RESULTS, STATUSES, search
from consult.search.models import Kind

bp = Blueprint("search", __name__)

PER_PAGE = 20


class ResultsPagination(Pagination):
    """Flask-SQLAlchemy's pagination (for the shared macro) over one page of ranked results."""

    def __init__(self, results):
        self._items, self._total = results.hits, results.shown_total
        per_page = results.params.per_page
        super().__init__(page=results.params.page, per_page=per_page, max_per_page=per_page,
                         error_out=False)

    def _query_items(self) -> list:
        return self._items

    def _query_count(self) -> int:
        return self._total


@bp.get("/search")
def index():
    """Search drafts, articles, reports, comments, policies and interpretations."""
    query = params.parse(flask_request.args, default_per_page=PER_PAGE, truncate=True)
    results = search(query) if query.q else None
    hits = results.hits if results else []
    return render_template(
        "search/index.html", query=query, results=results, hits=hits,
        hit_links=links.links(hits), titles=links.consultation_titles(hits),
        pagination=ResultsPagination(results) if results else None,
        filters=dict(query.filters(), q=query.q), kinds=list(Kind), units=public_units(),
        types=list(ConsultationType), statuses=STATUSES, max_results=MAX_RESULTS,
        years=range(clock.today().year, clock.today().year - 10, -1),
    )
