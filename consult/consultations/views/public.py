"""Public pages: the list of consultations (SPEC §5 filters) and a consultation with its draft."""

from __future__ import annotations

from itertools import groupby

from flask import abort, current_app, render_template, request, url_for

from consult import clock
from consult.answers.services import published_report
from consult.auth.models import Unit
from consult.comments.models import Comment
from consult.comments.services import public_comments_query, public_text, received_count
from consult.consultations.models import Consultation, ConsultationType, State
from consult.consultations.policy import is_public
from consult.consultations.states import LIST_FILTERS, list_filter, public_clause
from consult.consultations.views import bp
from consult.extensions import db
from consult.paging import int_param, page_number
from consult.policies.services import policy_flags

COMMENTS_PER_PAGE = 50
QUERY_MAX_LENGTH = 100


def days_left(consultation: Consultation) -> int:
    """Whole local days until the window closes: 0 on its last day."""
    return (clock.local_date(consultation.closes_at) - clock.today()).days


@bp.app_context_processor
def _public_helpers():
    return {"days_left": days_left}


def trace_of(consultation: Consultation | None, policy=None) -> dict:
    """What the public may follow from a page: draft, report, policy, interpretations (F18)."""
    if consultation is not None and not is_public(consultation):
        consultation = None
    if policy is None and consultation is not None:
        policy = consultation.policy
    if policy is not None and policy.published_at is None:
        policy = None
    report = published_report(consultation) if consultation is not None else None
    return {
        "consultation": consultation,
        "report": report,
        "policy": policy,
        "interpretations": [i for i in policy.interpretations if i.published_at]
        if policy else [],
        "flags": policy_flags(policy) if policy else {},
    }


def received_counts(consultations) -> dict[int, int]:
    """Comments received per consultation, in one query for a whole list page."""
    ids = [c.id for c in consultations]
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(Comment.consultation_id, db.func.count(Comment.id))
        .where(Comment.consultation_id.in_(ids))
        .group_by(Comment.consultation_id)
    )
    return {consultation_id: count for consultation_id, count in rows}


def int_arg(name: str, *, minimum: int | None = None) -> int | None:
    """An optional integer query parameter; one that is not one, or out of range, is 400."""
    return int_param(name, minimum=minimum or 0)


def public_list_query(status: str, *, unit_id: int | None = None, type_: str | None = None,
                      q: str | None = None):
    """Public consultations matching the SPEC §5 filters, in the order a reader expects."""
    now = clock.now()
    query = db.select(Consultation).where(list_filter(status, now))
    if unit_id is not None:
        query = query.where(Consultation.unit_id == unit_id)
    if type_:
        query = query.where(Consultation.type == ConsultationType(type_))
    if q:
        query = query.where(
            db.or_(Consultation.title.icontains(q, autoescape=True),
                   Consultation.summary.icontains(q, autoescape=True))
        )
    if status == "open":
        return query.order_by(Consultation.closes_at, Consultation.id)
    return query.order_by(Consultation.closes_at.desc(), Consultation.id.desc())


@bp.get("/consultations")
def index():
    """Consultations, filtered by status (open by default), unit, type and a text search."""
    status = request.args.get("status", "").strip() or "open"
    if status not in LIST_FILTERS:
        abort(400)
    type_ = request.args.get("type", "").strip() or None
    if type_ is not None and type_ not in {t.value for t in ConsultationType}:
        abort(400)
    unit_id = int_arg("unit")
    page = page_number()
    q = request.args.get("q", "").strip()[:QUERY_MAX_LENGTH] or None

    query = public_list_query(status, unit_id=unit_id, type_=type_, q=q).options(
        db.selectinload(Consultation.unit)
    )
    pagination = db.paginate(
        query, page=page, per_page=current_app.config["PER_PAGE"], error_out=False, count=True
    )
    filters = {k: v for k, v in
               {"status": status, "unit": unit_id, "type": type_, "q": q}.items() if v}
    units = db.session.scalars(
        db.select(Unit)
        .where(db.select(Consultation.id).where(Consultation.unit_id == Unit.id,
                                                public_clause()).exists())
        .order_by(Unit.name)
    ).all()
    return render_template(
        "consultations/index.html", pagination=pagination, consultations=pagination.items,
        counts=received_counts(pagination.items),
        status=status, unit_id=unit_id, type_=type_, q=q or "", filters=filters, units=units,
        statuses=LIST_FILTERS, types=list(ConsultationType),
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
def detail(consultation_id: int):
    """A consultation: its window, explanation, articles, published comments and trace links."""
    consultation = db.get_or_404(Consultation, consultation_id)
    if not is_public(consultation):
        abort(404)
    page = page_number()
    version = consultation.current_version
    articles = version.articles if version else []
    trace = trace_of(consultation)
    comments = db.paginate(
        public_comments_query(consultation).options(
            db.selectinload(Comment.article), db.selectinload(Comment.disposition)
        ),
        page=page, per_page=COMMENTS_PER_PAGE, error_out=False, count=True,
    )
    return render_template(
        "consultations/detail.html",
        consultation=consultation,
        status=consultation.status,
        is_open=consultation.status == State.OPEN,
        version=version,
        article_groups=_article_groups(articles),
        comment_count=received_count(consultation),
        comments=comments,
        public_text=public_text,
        trace=trace,
        catalogue_url=_catalogue_url(consultation),
    )
