"""Public pages: the policy library, a policy in articles with its history and downloads, what
the comments changed, and interpretations — linked to the draft and report (F16–F18)."""

from __future__ import annotations

import logging

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from consult.extensions import db
from consult.paging import bad_parameter, int_param, page_number
from consult.policies import changes, documents, files, queries, standing
from consult.policies import policy as policies_policy
from consult.policies.models import Interpretation, Policy
from consult.policies.services import competition_review_state
from consult.policies.timeline import timeline_of
from consult.policies.trace import trace_of
from consult.policies.views import bp
from consult.web import paginate, public_or_404

log = logging.getLogger(__name__)
QUERY_MAX_LENGTH = 100
PREPARING_RETRY_SECONDS = 10
FAILED_RETRY_SECONDS = 600


def _choice(name: str, allowed: list) -> str | None:
    value = request.args.get(name, "").strip() or None
    if value is not None and value not in {str(v) for v in allowed}:
        raise bad_parameter(name, _("参数 %(name)s 的取值无效。", name=name))
    return value


@bp.get("/policies")
def index():
    """The policy library: filters by unit, type, year and validity, and a few words."""
    unit_id = int_param("unit")
    type_ = _choice("type", queries.TYPES)
    validity = _choice("validity", queries.VALIDITIES)
    year = int_param("year", minimum=1949, maximum=9999)
    q = request.args.get("q", "").strip()[:QUERY_MAX_LENGTH] or None
    page_number()  # 400 for a page that is not a page number, before any query
    query = queries.library_query(unit_id=unit_id, type_=type_, year=year, validity=validity,
                                  q=q).options(db.selectinload(Policy.unit),
                                               db.selectinload(Policy.changes))
    pagination = paginate(query, per_page=current_app.config["PER_PAGE"])
    filters = {k: v for k, v in {"unit": unit_id, "type": type_, "year": year,
                                 "validity": validity, "q": q}.items() if v}
    return render_template(
        "policies/index.html", pagination=pagination, policies=pagination.items,
        filters=filters, unit_id=unit_id, type_=type_, year=year, validity=validity, q=q or "",
        units=queries.library_units(), years=queries.library_years(), types=queries.TYPES,
        validities=queries.VALIDITIES, validity_of=standing.validity,
    )


@bp.get("/policies/number/<path:document_number>")
def by_number(document_number: str):
    """The permalink of a policy by its 文号 (郑政〔2026〕12号; [] or （） brackets do too)."""
    policy = queries.by_number(document_number)
    if policy is None:
        return render_template("policies/not_found.html", number=document_number), 404
    return redirect(url_for(".detail", policy_id=policy.id), 301)


def _article_groups(articles):
    groups: list[tuple] = []
    for article in articles:
        key = (article.chapter, article.section)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(article)
        else:
            groups.append((key, [article]))
    return [(chapter, section, items) for (chapter, section), items in groups]


@bp.get("/policies/<int:policy_id>")
def detail(policy_id: int):
    """A policy: its facts, validity and history both ways, its text in articles, downloads,
    and the links to its draft, report and interpretations."""
    policy = public_or_404(Policy, policy_id, policies_policy.is_public)
    trace = trace_of(policy.consultation, policy)
    comparison = changes.compare(policy) if trace["consultation"] is not None else None
    return render_template(
        "policies/detail.html", policy=policy, trace=trace,
        validity=standing.validity(policy), history=standing.history(policy),
        replaced_by=standing.replaced_by(policy), filing=standing.filing_state(policy),
        filing_due=standing.filing_due_on(policy),
        competition=competition_review_state(policy),
        interpretation_due=standing.interpretation_due_on(policy),
        article_groups=_article_groups(policy.articles), comparison=comparison,
        decision_timeline=timeline_of(policy.consultation, policy),
    )


@bp.get("/policies/<int:policy_id>/changes")
def changes_page(policy_id: int):
    """What the comments changed: the last draft and the final text article by article, with
    the adopted answers behind each change."""
    policy = public_or_404(Policy, policy_id, policies_policy.is_public)
    trace = trace_of(policy.consultation, policy)
    comparison = changes.compare(policy) if trace["consultation"] is not None else None
    return render_template("policies/changes.html", policy=policy, trace=trace,
                           comparison=comparison, answer_text=changes.answer_text)


def _headers(response, etag: str):
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/policies/<int:policy_id>.docx")
def docx(policy_id: int):
    """The policy as a Word document (written per request: milliseconds)."""
    policy = public_or_404(Policy, policy_id, policies_policy.is_public)
    etag = files.etag_for(policy, "docx", str(get_locale()))
    if request.if_none_match and etag in request.if_none_match:
        return _headers(make_response("", 304), etag)
    response = make_response(documents.policy_docx(policy))
    response.headers["Content-Type"] = documents.CONTENT_TYPES["docx"]
    response.headers["Content-Disposition"] = documents.content_disposition(policy, "docx")
    return _headers(response, etag)


@bp.get("/policies/<int:policy_id>.pdf")
def pdf(policy_id: int):
    """The policy as PDF, built once per language by a job (202 with Retry-After until then)."""
    policy = public_or_404(Policy, policy_id, policies_policy.is_public)
    locale = str(get_locale())
    etag = files.etag_for(policy, "pdf", locale)
    if request.if_none_match and etag in request.if_none_match:
        return _headers(make_response("", 304), etag)
    built = files.built_file(policy, "pdf", locale, with_data=True)
    if built is not None:
        response = make_response(built.data)
        response.headers["Content-Type"] = built.content_type
        response.headers["Content-Disposition"] = built.content_disposition
        return _headers(response, etag)
    busy = False
    try:
        with db.session.begin_nested():
            job = files.request_build(policy, "pdf", locale)
        db.session.commit()
    except OperationalError:  # SQLite busy with a writer: ask again soon
        db.session.rollback()
        job, busy = None, True
    if busy:
        log.info("policy %s: pdf build not queued, the database is busy", policy_id)
        status, retry = 503, PREPARING_RETRY_SECONDS
    else:
        status, retry = (202, PREPARING_RETRY_SECONDS) if job else (503, FAILED_RETRY_SECONDS)
    response = make_response(render_template(
        "policies/preparing.html", policy=policy, job=job, refresh=retry), status)
    response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/interpretations/<int:interpretation_id>")
def interpretation(interpretation_id: int):
    """An interpretation, linked back to its policy and the draft."""
    item = public_or_404(Interpretation, interpretation_id,
                         policies_policy.is_public_interpretation)
    trace = trace_of(item.policy.consultation, item.policy)
    return render_template("policies/interpretation.html", interpretation=item,
                           policy=item.policy, trace=trace)

