"""The public catalogue of decisions (F1): who decides what this year, and how to take part."""

from __future__ import annotations

from flask import render_template, request

from consult.catalogue import policy, queries
from consult.catalogue.models import CatalogueItem, CatalogueStatus, ParticipationMethod
from consult.catalogue.views import bp
from consult.consultations.policy import is_public as consultation_is_public
from consult.extensions import db
from consult.paging import page_number
from consult.policies import catalogue_status
from consult.web import paginate, public_or_404


def public_consultations(item: CatalogueItem) -> list:
    """The item's consultations that the public may open (never drafts)."""
    return [c for c in item.consultations if consultation_is_public(c)]


@bp.get("/catalogue")
def index():
    """The published catalogue of a year (the current one by default), filtered."""
    filters = queries.parse_filters(request.args)
    page_number()  # 400 for a page that is not a page number, before any query
    query = catalogue_status.public_query(filters).options(
        db.selectinload(CatalogueItem.unit),
        db.selectinload(CatalogueItem.consultations),
        db.selectinload(CatalogueItem.changes),
    )
    pagination = paginate(query)
    return render_template(
        "catalogue/index.html",
        pagination=pagination, items=pagination.items, filters=filters,
        args=filters.as_args(), years=queries.public_years(filters.year),
        units=queries.public_units(),
        statuses=list(CatalogueStatus), methods=list(ParticipationMethod),
        changes=queries.recent_changes(filters.year),
        public_consultations=public_consultations, shown_status=catalogue_status.shown_status,
    )


@bp.get("/catalogue/<int:item_id>")
def detail(item_id: int):
    """A published item with its consultations and every change made after publication."""
    item = public_or_404(CatalogueItem, item_id, policy.is_public)
    return render_template("catalogue/detail.html", item=item,
                           consultations=public_consultations(item),
                           shown_status=catalogue_status.shown_status)
