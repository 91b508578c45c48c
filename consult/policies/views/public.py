"""Public pages: final policies and interpretations, linked to the draft and report (F16–F18)."""

from __future__ import annotations

from flask import abort, current_app, render_template

from consult.consultations.views.public import trace_of
from consult.extensions import db
from consult.paging import page_number
from consult.policies.models import Interpretation, Policy
from consult.policies.views import bp


def _published_policy(policy_id: int) -> Policy:
    policy = db.get_or_404(Policy, policy_id)
    if policy.published_at is None:
        abort(404)
    return policy


@bp.get("/policies")
def index():
    """Published policies, newest first."""
    page = page_number()
    query = (
        db.select(Policy)
        .where(Policy.published_at.is_not(None))
        .order_by(Policy.issued_on.desc(), Policy.published_at.desc(), Policy.id.desc())
        .options(db.selectinload(Policy.unit))
    )
    pagination = db.paginate(query, page=page, per_page=current_app.config["PER_PAGE"],
                             error_out=False, count=True)
    return render_template("policies/index.html", pagination=pagination,
                           policies=pagination.items)


@bp.get("/policies/<int:policy_id>")
def detail(policy_id: int):
    """A policy with its 文号 and dates, linked to its draft, report and interpretations."""
    policy = _published_policy(policy_id)
    trace = trace_of(policy.consultation, policy)
    return render_template("policies/detail.html", policy=policy, trace=trace)


@bp.get("/interpretations/<int:interpretation_id>")
def interpretation(interpretation_id: int):
    """An interpretation, linked back to its policy and the draft."""
    item = db.get_or_404(Interpretation, interpretation_id)
    if item.published_at is None or item.policy.published_at is None:
        abort(404)
    trace = trace_of(item.policy.consultation, item.policy)
    return render_template("policies/interpretation.html", interpretation=item,
                           policy=item.policy, trace=trace)
