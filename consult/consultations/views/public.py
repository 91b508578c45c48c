"""Public pages: the list of consultations (SPEC §5 filters) and a consultation with its draft."""

from __future__ import annotations

from itertools import groupby

from flask import abort, current_app, render_template, request, url_for

from consult import clock, pagecache
from consult.comments.models import Comment
from consult.comments.services import (
    article_counts,
    comment_counts,
    public_comments_query,
    public_text,
    received_counts,
)
from consult.consultations import queries
from consult.consultations.models import Consultation, ConsultationType, State
from consult.consultations.policy import is_public
from consult.consultations.views import bp
from consult.extensions import db
from consult.paging import int_param, page_number
from consult.policies.timeline import timeline_of
from consult.policies.trace import trace_of
from consult.search import engine as search_engine
from consult.web import paginate, public_or_404

COMMENTS_PER_PAGE = 50
QUERY_MAX_LENGTH = 100


def days_left(consultation: Consultation) -> int:
    """Whole local days until the window closes: 0 on its last day."""
    return (clock.local_date(consultation.closes_at) - clock.today()).days


@bp.app_context_processor
def _public_helpers():
    return {"days_left": days_left}


@bp.get("/consultations")
@pagecache.page(params=("status", "unit", "type", "q", "page"))
def index():
    """Consultations, filtered by status (open by default), unit, type and a text search."""
    status = request.args.get("status", "").strip() or "open"
    if status not in queries.LIST_FILTERS:
        abort(400)
    type_ = request.args.get("type", "").strip() or None
    if type_ is not None and type_ not in {t.value for t in ConsultationType}:
        abort(400)
    unit_id = int_param("unit")
    page_number()  # 400 for a page that is not a page number, before any query
    q = request.args.get("q", "").strip()[:QUERY_MAX_LENGTH] or None

    pagination = paginate(
        queries.public_list_query(status, unit_id=unit_id, type_=type_,
                                  matching=search_engine.matching_consultations(q)).options(
            db.selectinload(Consultation.unit), db.selectinload(Consultation.policy)),
        per_page=current_app.config["PER_PAGE"],
    )
    pagecache.follows_every_consultation()
    filters = {k: v for k, v in
               {"status": status, "unit": unit_id, "type": type_, "q": q}.items() if v}
    return render_template(
        "consultations/index.html", pagination=pagination, consultations=pagination.items,
        counts=received_counts(pagination.items),
        status=status, unit_id=unit_id, type_=type_, q=q or "", filters=filters,
        units=queries.public_units(), statuses=queries.LIST_FILTERS, types=list(ConsultationType),
    )


def _article_groups(articles):
    """Articles grouped by (chapter, section), keeping the text's order."""
    return [
        (chapter, section, list(items))
        for (chapter, section), items in groupby(articles, key=lambda a: (a.chapter, a.section))
    ]


def _catalogue_url(consultation: Consultation) -> str | None:
    """A link to the consultation's catalogue item, once the item is in the public catalogue."""
    item = consultation.catalogue_item
    if item is None or item.published_at is None:
        return None
    return url_for("catalogue.detail", item_id=item.id)


@bp.get("/consultations/<int:consultation_id>")
@pagecache.page(params=("page",), consultation="consultation_id")
def detail(consultation_id: int):
    """A consultation: its window, explanation, articles, published comments and trace links."""
    consultation = public_or_404(Consultation, consultation_id, is_public)
    page_number()
    pagecache.follows(consultation)
    version = consultation.current_version
    articles = version.articles if version else []
    received, published = comment_counts(consultation)
    comments = paginate(
        public_comments_query(consultation).options(
            db.selectinload(Comment.article), db.selectinload(Comment.disposition)
        ),
        per_page=COMMENTS_PER_PAGE, count=False,
    )
    comments.total = published  # kept, not counted
    return render_template(
        "consultations/detail.html",
        consultation=consultation,
        status=consultation.status,
        is_open=consultation.status == State.OPEN,
        version=version,
        article_groups=_article_groups(articles),
        comment_count=received,
        article_counts=article_counts(consultation, version.id if version else None),
        comments=comments,
        public_text=public_text,
        trace=trace_of(consultation),
        catalogue_url=_catalogue_url(consultation),
        decision_timeline=timeline_of(consultation),
    )
