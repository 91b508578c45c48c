"""Public JSON API v1 (SPEC §5): consultations, comments, reports and receipts.

Reads are anonymous and cacheable by a reverse proxy; the one write (a citizen's comment) takes
no CSRF token because the API uses no session cookie.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func

from consult import clock, ratelimit
from consult.answers.services import published_report
from consult.api import schemas, serializers
from consult.catalogue import queries as catalogue_queries
from consult.catalogue.models import CatalogueItem
from consult.comments import services as comments
from consult.comments.models import Comment
from consult.comments.services import received_counts
from consult.consultations import queries
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.errors import NotFound
from consult.extensions import db
from consult.oversight import stats as oversight_stats
from consult.oversight import yearly as oversight_yearly
from consult.policies import catalogue_status
from consult.policies.models import Policy
from consult.ratelimit import client_key
from consult.urls import external_url
from consult.web import commits, language

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_MAX_AGE = 60  # seconds a proxy may serve a public read without asking again


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
    response.cache_control.no_store = True
    return response


def _public_consultation(consultation_id: int) -> Consultation:
    """The consultation (with its versions, in the same query), or 404 when it does not exist
    or is not public (drafts, pending)."""
    consultation = db.session.get(Consultation, consultation_id,
                                  options=(db.joinedload(Consultation.versions),))
    if consultation is None or not is_public(consultation):
        raise NotFound(_("找不到该意见征集。"))
    return consultation


@bp.get("/consultations")
def list_consultations():
    """Public consultations, filtered by status/unit/type/q, one page at a time."""
    params = schemas.parse_list_params(request.args)
    C = Consultation
    query = queries.public_list_query(params.status, unit_id=params.unit_id,
                                      type_=params.type, q=params.q)
    total = db.session.scalar(db.select(func.count()).select_from(query.order_by(None).subquery()))
    page = params.page
    consultations = db.session.scalars(
        query.limit(page.per_page).offset(page.offset).options(
            db.selectinload(C.unit),
            db.selectinload(C.versions),
            db.selectinload(C.policy).selectinload(Policy.interpretations),
        )
    ).all()
    counts = received_counts(consultations)
    items = [
        serializers.consultation_item(c, comment_count=counts.get(c.id, 0),
                                      has_report=c.report_published)
        for c in consultations
    ]
    return _public(serializers.page_of(items, page=page.page, per_page=page.per_page,
                                       total=total))


@bp.get("/consultations/<int:consultation_id>")
def consultation_detail(consultation_id: int):
    """One public consultation with its articles and the links that trace it on."""
    consultation = _public_consultation(consultation_id)
    return _public(serializers.consultation_detail(
        consultation,
        comment_count=comments.received_count(consultation),
        has_report=consultation.report_published,
    ))


@bp.get("/consultations/<int:consultation_id>/comments")
def list_comments(consultation_id: int):
    """Published comments (masked), with their answers once the report is out."""
    consultation = _public_consultation(consultation_id)
    page = schemas.parse_page(request.args)
    query = comments.public_comments_query(consultation)
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.limit(page.per_page).offset(page.offset).options(
            db.selectinload(Comment.article),
            db.selectinload(Comment.version),
            db.selectinload(Comment.disposition),
        )
    ).all()
    report = published_report(consultation)
    items = [serializers.public_comment(comment, report=report) for comment in rows]
    return _public(serializers.page_of(items, page=page.page, per_page=page.per_page,
                                       total=total))


@bp.post("/consultations/<int:consultation_id>/comments")
@commits
def submit_comment(consultation_id: int):
    """A citizen's comment; a retry with the same Idempotency-Key answers the same again. The
    201 goes out once the comment is committed (`@commits`)."""
    consultation = _public_consultation(consultation_id)
    key = schemas.idempotency_key()
    data = schemas.comment_input(schemas.json_object())
    # The key's client: the rate-limit client (an IPv4 address or IPv6 /64).
    gate = ratelimit.comment_gate(ratelimit.comment_person(email=data.email))
    comment, _created = comments.submit_comment(consultation, data, idempotency_key=key,
                                                client=f"api:{client_key()}",
                                                must_verify=gate.verify, language=language())
    tracking_no, status = comment.tracking_no, comment.status
    response = _private({
        "tracking_no": tracking_no,
        "status": status.value,
        "receipt_url": external_url("comments.receipt", tracking_no=tracking_no),
    }, 201)
    response.headers["Location"] = external_url("api.receipt", tracking_no=tracking_no)
    return response


@bp.get("/consultations/<int:consultation_id>/report")
def report(consultation_id: int):
    """The newest published revision of the adoption report, exactly as frozen (with digest)."""
    consultation = _public_consultation(consultation_id)
    published = published_report(consultation)
    if published is None or published.content is None:
        raise NotFound(_("该意见征集的采纳情况报告尚未发布。"))
    return _public(published.content)


@bp.get("/receipts/<tracking_no>")
def receipt(tracking_no: str):
    """A comment's receipt: its state, masked text and answer — never the contact data."""
    comment = comments.get_by_tracking_no(tracking_no)
    return _private(serializers.receipt(
        comment, report=published_report(comment.consultation)
    ))


@bp.get("/catalogue")
def list_catalogue():
    """The published catalogue of decisions, filtered by year (default: this year), unit,
    status and method, with each item's public consultations and its changes since publication."""
    filters = catalogue_queries.parse_filters(request.args)
    page = schemas.parse_page(request.args)
    query = catalogue_status.public_query(filters)
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.limit(page.per_page).offset(page.offset).options(
            db.selectinload(CatalogueItem.unit),
            db.selectinload(CatalogueItem.consultations),
            db.selectinload(CatalogueItem.changes),
        )
    ).all()
    return _public(serializers.page_of(
        [serializers.catalogue_item(item) for item in items],
        page=page.page, per_page=page.per_page, total=total,
    ))


@bp.get("/stats")
def stats():
    """Every figure of the statistics page (F22), with its filters `year` and `unit`."""
    return _public(oversight_stats.figures(oversight_stats.filters_from(request.args)))


@bp.get("/stats/yearly")
def stats_yearly():
    """Each unit's yearly figures (F23): `year` (this year by default) and `unit`."""
    filters = oversight_stats.filters_from(request.args)
    return _public(oversight_yearly.figures(filters.year or clock.today().year, filters.unit_id))
