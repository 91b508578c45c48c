"""Public pages: the published adoption report, rendered from its frozen content (F14)."""

from __future__ import annotations

from flask import abort, make_response, render_template, request
from flask_login import current_user

from consult import pagecache
from consult.answers import report_page
from consult.answers.models import UNSPECIFIED_REGION, DispositionCode
from consult.answers.services import published_report
from consult.answers.views import bp
from consult.comments.models import Category, Channel, HiddenReason
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.extensions import db
from consult.policies.changes import change_links
from consult.policies.timeline import timeline_of
from consult.policies.trace import trace_of


@bp.get("/consultations/<int:consultation_id>/report")
@pagecache.page(params=("q", "article", "disposition", "page"), consultation="consultation_id")
def report(consultation_id: int):
    """The adoption report: totals with charts, per-article answers, and every item grouped by
    article, searchable (`q`), filtered (`article`, `disposition`) and paginated; 404 until
    published."""
    consultation = db.get_or_404(Consultation, consultation_id)
    if not is_public(consultation):
        abort(404)
    published = published_report(consultation)
    if published is None or not published.digest:
        abort(404)
    trace = trace_of(consultation)
    # Nothing personal on an anonymous reader's page: it may be kept by proxies, and a reader
    # who has it is answered 304 before any rendering.
    etag = None if current_user.is_authenticated else report_page.page_etag(published, trace)
    if etag and etag in request.if_none_match:
        response = make_response("", 304)
    else:
        response = make_response(_render(consultation, published, trace))
    if etag:
        response.set_etag(etag)
        response.cache_control.public = True
        response.cache_control.max_age = 60
    return response


def _render(consultation: Consultation, published, trace) -> str:
    """The page for the request's filters, from the revision's cached derived view."""
    view = report_page.prepared(published)  # parsed once per revision and process
    content = view.content
    filters = report_page.Filters.from_args(request.args)
    pagination = report_page.ListPagination(report_page.matching(view, filters),
                                            report_page.page_number(request.args))
    totals = content["totals"]
    by_region = sorted(totals.get("by_region", {}).items(),
                       key=lambda pair: (pair[0] == UNSPECIFIED_REGION, -pair[1], pair[0]))
    return render_template(
        "answers/report.html",
        consultation=consultation,
        report=published,
        content=content,
        totals=totals,
        by_region=by_region,
        unspecified_region=UNSPECIFIED_REGION,
        groups=report_page.grouped(view, pagination.items),
        articles=list(view.groups.values()),
        article_choices=report_page.article_choices(view),
        pagination=pagination,
        filters=filters,
        charts=report_page.page_charts(view),
        timeline=view.timeline,
        multiple_versions=len({row["version"] for row in content.get("by_article", [])}) > 1,
        dispositions=[d.value for d in DispositionCode],
        categories=[c.value for c in Category],
        channels=[c.value for c in Channel],
        hidden_reasons=[r.value for r in HiddenReason],
        trace=trace,
        decision_timeline=timeline_of(consultation),
        change_links=change_links(consultation),
    )
