"""Public JSON API v1 (SPEC §5): consultations, versions, comments, reports, receipts, the
catalogue, policies, interpretations and search, with the OpenAPI 3.1 document of all of it.

Reads are anonymous, cacheable (`ETag`, `If-None-Match` → 304) and open to other sites' scripts
(CORS for GET); lists take `page`/`per_page` (up to 250) and, for incremental sync, a
`modified_since` time. The one write (a citizen's comment) takes no CSRF token because the API
uses no session cookie. Every view names its schemas (`consult.api.spec`): they check the query
string and make the OpenAPI document.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, or_

from consult import clock, ratelimit
from consult.answers.models import Disposition
from consult.answers.services import published_report
from consult.api import schemas, serializers, spec
from consult.catalogue import queries as catalogue_queries
from consult.catalogue.models import CatalogueItem
from consult.comments import services as comments
from consult.comments.models import Comment
from consult.comments.services import received_counts
from consult.comments.targets import comment_target
from consult.consultations import queries
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.errors import NotFound
from consult.extensions import db
from consult.oversight import stats as oversight_stats
from consult.oversight import yearly as oversight_yearly
from consult.policies import catalogue_status
from consult.policies import policy as policies_policy
from consult.policies.models import Interpretation, Policy
from consult.ratelimit import client_key
from consult.search import engine as search_engine
from consult.search import links as search_links
from consult.search.engine import SearchParams
from consult.urls import external_url
from consult.web import commit_now, commits, language

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_MAX_AGE = 60  # seconds a proxy may serve a public read without asking again


@bp.after_request
def _cors(response):
    """Reads are open to scripts of any site (no cookie is involved); writes are not."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _public(payload):
    """A JSON response a shared cache may keep for a minute, with an ETag for revalidation."""
    response = jsonify(payload)
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def _private(payload, status: int = 200):
    """A JSON response about one person's comment: never stored by a cache."""
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # not through a parsed CacheControl object
    return response


def _page(query, params, serialize) -> dict:
    total = db.session.scalar(db.select(func.count()).select_from(query.order_by(None).subquery()))
    offset = (params.page - 1) * params.per_page
    rows = db.session.scalars(query.limit(params.per_page).offset(offset)).all()
    return serializers.page_of(serialize(rows), page=params.page, per_page=params.per_page,
                               total=total)


def _public_consultation(consultation_id: int) -> Consultation:
    """The consultation (with its versions, in the same query), or 404 when it does not exist
    or is not public (drafts, pending)."""
    consultation = db.session.get(Consultation, consultation_id,
                                  options=(db.joinedload(Consultation.versions),))
    if consultation is None or not is_public(consultation):
        raise NotFound(_("找不到该意见征集。"))
    return consultation


@bp.get("/openapi.json")
@spec.operation(summary="This document (OpenAPI 3.1)", query=spec.NoQuery,
                response=spec.OpenApiDocument, tags=("meta",))
def openapi():
    """The OpenAPI 3.1 document of every route of the API."""
    return _public(spec.document(current_app, current_app.config["BASE_URL"]))


@bp.get("/consultations")
@spec.operation(summary="Public consultations, filtered, one page at a time",
                query=spec.ConsultationListQuery, response=spec.ListPage,
                tags=("consultations",))
def list_consultations():
    """Public consultations, filtered by status/unit/type/q (and modified_since)."""
    params = spec.query(spec.ConsultationListQuery)
    C = Consultation
    query = queries.public_list_query(
        params.status, unit_id=params.unit, type_=params.type.value if params.type else None,
        matching=search_engine.matching_consultations(params.q))
    if params.modified_since is not None:
        query = query.where(C.updated_at > params.modified_since)
    query = query.options(
        db.selectinload(C.unit),
        db.selectinload(C.versions),
        db.selectinload(C.policy).selectinload(Policy.interpretations),
    )

    def serialize(consultations):
        counts = received_counts(consultations)
        return [serializers.consultation_item(c, comment_count=counts.get(c.id, 0),
                                              has_report=c.report_published)
                for c in consultations]

    return _public(_page(query, params, serialize))


@bp.get("/consultations/<int:consultation_id>")
@spec.operation(summary="One public consultation with its articles", query=spec.NoQuery,
                response=spec.Item, errors=(400, 404), tags=("consultations",))
def consultation_detail(consultation_id: int):
    """One public consultation with its articles and the links that trace it on."""
    consultation = _public_consultation(consultation_id)
    return _public(serializers.consultation_detail(
        consultation,
        comment_count=comments.received_count(consultation),
        has_report=consultation.report_published,
    ))


@bp.get("/consultations/<int:consultation_id>/versions")
@spec.operation(summary="Every published version of a draft, with its articles",
                query=spec.NoQuery, response=spec.ListPage, errors=(400, 404),
                tags=("consultations",))
def list_versions(consultation_id: int):
    """The draft's versions, first to last (a revised draft is a new version)."""
    consultation = _public_consultation(consultation_id)
    items = [serializers.version(consultation, v) for v in consultation.versions]
    return _public(serializers.page_of(items, page=1, per_page=max(len(items), 1),
                                       total=len(items)))


@bp.get("/consultations/<int:consultation_id>/versions/<int:number>")
@spec.operation(summary="One published version of a draft", query=spec.NoQuery,
                response=spec.Version,
                errors=(400, 404), tags=("consultations",))
def version_detail(consultation_id: int, number: int):
    """Version `number` of the draft, with its articles and changelog."""
    consultation = _public_consultation(consultation_id)
    found = next((v for v in consultation.versions if v.number == number), None)
    if found is None:
        raise NotFound(_("该意见征集没有这一版本。"))
    return _public(serializers.version(consultation, found))


@bp.get("/consultations/<int:consultation_id>/comments")
@spec.operation(summary="Published comments (masked), with answers once the report is out",
                query=spec.CommentListQuery, response=spec.ListPage, errors=(400, 404),
                tags=("comments",))
def list_comments(consultation_id: int):
    """Published comments (masked); `modified_since`: made, verified or answered after it."""
    consultation = _public_consultation(consultation_id)
    params = spec.query(spec.CommentListQuery)
    query = comments.public_comments_query(consultation)
    if params.modified_since is not None:
        since = params.modified_since
        answered = db.select(Disposition.comment_id).where(Disposition.answered_at > since)
        query = query.where(or_(Comment.created_at > since, Comment.verified_at > since,
                                Comment.id.in_(answered)))
    query = query.options(db.selectinload(Comment.article), db.selectinload(Comment.version),
                          db.selectinload(Comment.disposition))
    report = published_report(consultation)
    return _public(_page(query, params, lambda rows: [
        serializers.public_comment(comment, report=report) for comment in rows]))


@bp.post("/consultations/<int:consultation_id>/comments")
@spec.operation(summary="Submit a comment (Idempotency-Key for safe retries)",
                body=spec.CommentBody, response=spec.Created, status=201,
                errors=(400, 404, 409, 413, 422), tags=("comments",))
@commits
def submit_comment(consultation_id: int):
    """A citizen's comment; a retry with the same Idempotency-Key answers the same again. The
    201 is made once the comment is committed (`commit_now`; else `@commits` rolls back)."""
    # What the rules read of the consultation, with the article the body names: one query.
    consultation = comment_target(consultation_id, _article_named())
    if consultation is None or not is_public(consultation):
        raise NotFound(_("找不到该意见征集。"))
    key = schemas.idempotency_key()
    data = schemas.comment_input(schemas.json_object())
    # The key's client: the rate-limit client (an IPv4 address or IPv6 /64).
    gate = ratelimit.comment_gate(ratelimit.comment_person(email=data.email))
    comment, _created = comments.submit_comment(consultation, data, idempotency_key=key,
                                                client=f"api:{client_key()}",
                                                must_verify=gate.verify, language=language())
    tracking_no, status = comment.tracking_no, comment.status
    commit_now()  # the 201 is decided: the answer is made outside SQLite's write lock
    response = _private({
        "tracking_no": tracking_no,
        "status": status.value,
        "receipt_url": external_url("comments.receipt", tracking_no=tracking_no),
    }, 201)
    response.headers["Location"] = external_url("api.receipt", tracking_no=tracking_no)
    return response


def _article_named() -> int | None:
    """The article number in the posted JSON, if it is one (the body is checked afterwards)."""
    payload = request.get_json(silent=True)
    article = payload.get("article") if isinstance(payload, dict) else None
    return article if isinstance(article, int) and not isinstance(article, bool) else None


@bp.get("/consultations/<int:consultation_id>/report")
@spec.operation(summary="The newest published revision of the adoption report",
                query=spec.NoQuery, response=spec.Report, errors=(400, 404),
                tags=("reports",))
def report(consultation_id: int):
    """The newest published revision of the adoption report, exactly as frozen (with digest)."""
    consultation = _public_consultation(consultation_id)
    published = published_report(consultation)
    if published is None or published.content is None:
        raise NotFound(_("该意见征集的采纳情况报告尚未发布。"))
    return _public(published.content)


@bp.get("/receipts/<tracking_no>")
@spec.operation(summary="A comment's receipt: state, masked text, answer",
                query=spec.NoQuery, response=spec.Receipt, errors=(400, 404),
                tags=("comments",))
def receipt(tracking_no: str):
    """A comment's receipt: its state, masked text and answer — never the contact data."""
    comment = comments.get_by_tracking_no(tracking_no)
    return _private(serializers.receipt(
        comment, report=published_report(comment.consultation)
    ))


@bp.get("/catalogue")
@spec.operation(summary="The published catalogue of decisions", query=spec.CatalogueQuery,
                response=spec.ListPage, tags=("catalogue",))
def list_catalogue():
    """The published catalogue of decisions, filtered by year (default: this year), unit,
    status and method, with each item's public consultations and its changes since publication."""
    params = spec.query(spec.CatalogueQuery)
    filters = catalogue_queries.parse_filters(request.args)
    query = catalogue_status.public_query(filters).options(
        db.selectinload(CatalogueItem.unit),
        db.selectinload(CatalogueItem.consultations),
        db.selectinload(CatalogueItem.changes),
    )
    return _public(_page(query, params, lambda items: [
        serializers.catalogue_item(item) for item in items]))


@bp.get("/policies")
@spec.operation(summary="Published final policies, newest first", query=spec.PolicyListQuery,
                response=spec.ListPage, tags=("policies",))
def list_policies():
    """Published policies (filters: unit, year issued, modified_since)."""
    params = spec.query(spec.PolicyListQuery)
    P = Policy
    query = (db.select(P).where(P.published_at.is_not(None))
             .order_by(P.issued_on.desc(), P.published_at.desc(), P.id.desc())
             .options(db.selectinload(P.unit), db.selectinload(P.interpretations),
                      db.selectinload(P.consultation)))
    if params.unit is not None:
        query = query.where(P.unit_id == params.unit)
    if params.year is not None:
        query = query.where(func.extract("year", P.issued_on) == params.year)
    if params.modified_since is not None:
        newer = db.select(Interpretation.policy_id).where(
            Interpretation.published_at > params.modified_since)
        query = query.where(or_(P.published_at > params.modified_since, P.id.in_(newer)))
    return _public(_page(query, params, lambda rows: [
        serializers.policy_item(p) for p in rows]))


@bp.get("/policies/<int:policy_id>")
@spec.operation(summary="One published policy with its text", query=spec.NoQuery,
                response=spec.Item, errors=(400, 404), tags=("policies",))
def policy_detail(policy_id: int):
    policy = db.session.get(Policy, policy_id)
    if policy is None or not policies_policy.is_public(policy):
        raise NotFound(_("找不到该政策文件。"))
    return _public(serializers.policy_detail(policy))


@bp.get("/interpretations/<int:interpretation_id>")
@spec.operation(summary="One published interpretation", query=spec.NoQuery,
                response=spec.Item, errors=(400, 404), tags=("policies",))
def interpretation_detail(interpretation_id: int):
    item = db.session.get(Interpretation, interpretation_id)
    if item is None or not policies_policy.is_public_interpretation(item):
        raise NotFound(_("找不到该政策解读。"))
    return _public(serializers.interpretation(item))


@bp.get("/search")
@spec.operation(summary="Full-text search over everything public, ranked",
                query=spec.SearchQuery, response=spec.SearchPage, tags=("search",))
def search():
    """Everything public that matches `q`, ranked, with filters and highlighted snippets."""
    params = spec.query(spec.SearchQuery)
    query = SearchParams(q=params.q, kind=params.kind, unit_id=params.unit,
                         type=params.type.value if params.type else None, status=params.status,
                         year=params.year, page=params.page, per_page=params.per_page)
    results = search_engine.search(query)
    urls = search_links.links(results.hits, external=True)
    items = [serializers.search_hit(hit, url)
             for hit, url in zip(results.hits, urls, strict=True)]
    payload = serializers.page_of(items, page=query.page, per_page=query.per_page,
                                  total=results.shown_total)
    payload["more"] = results.more_than  # over MAX_RESULTS matches: only those are served
    return _public(payload)


@bp.get("/stats")
@spec.operation(summary="Every figure of the statistics page (F22)", query=spec.StatsQuery,
                response=spec.Figures, errors=(400, 404), tags=("stats",))
def stats():
    """Every figure of the statistics page (F22), with its filters `year` and `unit`."""
    spec.query(spec.StatsQuery)
    return _public(oversight_stats.figures(oversight_stats.filters_from(request.args)))


@bp.get("/stats/yearly")
@spec.operation(summary="Each unit's yearly figures (F23)", query=spec.StatsQuery,
                response=spec.Figures, errors=(400, 404), tags=("stats",))
def stats_yearly():
    """Each unit's yearly figures (F23): `year` (this year by default) and `unit`."""
    spec.query(spec.StatsQuery)
    filters = oversight_stats.filters_from(request.args)
    return _public(oversight_yearly.figures(filters.year or clock.today().year, filters.unit_id))
