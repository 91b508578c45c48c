"""Public pages: final policies and interpretations, linked to the draft and report (F16–F18)."""

from __future__ import annotations

from flask import render_template

from consult.extensions import db
from consult.paging import page_number
from consult.policies import policy as policies_policy
from consult.policies.models import Interpretation, Policy
from consult.policies.trace import trace_of
from consult.policies.views import bp
from consult.web import paginate, public_or_404


@bp.get("/policies")
def index():
    """Published policies, newest first."""
    page_number()  # 400 for a page that is not a page number, before any query
    query = (
        db.select(Policy)
        .where(Policy.published_at.is_not(None))
        .order_by(Policy.issued_on.desc(), Policy.published_at.desc(), Policy.id.desc())
        .options(db.selectinload(Policy.unit))
    )
    pagination = paginate(query)
    return render_template("policies/index.html", pagination=pagination,
                           policies=pagination.items)


@bp.get("/policies/<int:policy_id>")
def detail(policy_id: int):
    """A policy with its 文号 and dates, linked to its draft, report and interpretations."""
    policy = public_or_404(Policy, policy_id, policies_policy.is_public)
    trace = trace_of(policy.consultation, policy)
    return render_template("policies/detail.html", policy=policy, trace=trace)


@bp.get("/interpretations/<int:interpretation_id>")
def interpretation(interpretation_id: int):
    """An interpretation, linked back to its policy and the draft."""
    item = public_or_404(Interpretation, interpretation_id,
                         policies_policy.is_public_interpretation)
    trace = trace_of(item.policy.consultation, item.policy)
    return render_template("policies/interpretation.html", interpretation=item,
                           policy=item.policy, trace=trace)
