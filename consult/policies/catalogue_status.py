"""A catalogue item's shown status, derived from its consultations (issue 11, 7).

Computed here, above the catalogue (which imports nothing from consultations or policies): an
item with a published policy is 已实施 once the policy is in effect, else 已决策; an item with a
public consultation (scheduled, open, closed, reported) is 征求意见中; an item with none keeps
the status its unit set by hand. `shown_status` decides one item, `status_clause` the same in
SQL for the status filter of the catalogue page and the API.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import and_, exists, func, not_, or_

from consult import clock
from consult.catalogue import queries
from consult.catalogue.models import CatalogueItem, CatalogueStatus
from consult.consultations.models import Consultation, State
from consult.policies.models import Policy

# Stored states of a consultation that went public and was not withdrawn (open and closed are
# stored as scheduled and read off the clock).
ACTIVE = (State.SCHEDULED, State.REPORT_PUBLISHED, State.POLICY_ISSUED)


def _in_effect(policy: Policy, today: date) -> bool:
    return (policy.effective_on or policy.issued_on) <= today


def shown_status(item: CatalogueItem, today: date | None = None) -> CatalogueStatus:
    """The status the public is shown for `item`."""
    today = today or clock.today()
    policies = [c.policy for c in item.consultations
                if c.policy is not None and c.policy.published_at is not None]
    if any(_in_effect(p, today) for p in policies):
        return CatalogueStatus.IMPLEMENTED
    if policies:
        return CatalogueStatus.DECIDED
    if any(c.state in ACTIVE for c in item.consultations):
        return CatalogueStatus.CONSULTING
    return item.status


def status_clause(status: CatalogueStatus, today: date):
    """A WHERE clause on CatalogueItem: the items shown with `status` on `today`."""
    item = CatalogueItem
    with_policy = and_(Consultation.catalogue_item_id == item.id,
                       Policy.consultation_id == Consultation.id,
                       Policy.published_at.is_not(None))
    implemented = exists().where(
        with_policy, func.coalesce(Policy.effective_on, Policy.issued_on) <= today)
    decided = exists().where(with_policy)
    active = exists().where(Consultation.catalogue_item_id == item.id,
                            Consultation.state.in_(ACTIVE))
    by_hand = and_(not_(active), item.status == status)
    if status == CatalogueStatus.IMPLEMENTED:
        return or_(implemented, by_hand)
    if status == CatalogueStatus.DECIDED:
        return or_(and_(decided, not_(implemented)), by_hand)
    if status == CatalogueStatus.CONSULTING:
        return or_(and_(active, not_(decided)), by_hand)
    return by_hand


def public_query(filters: queries.CatalogueFilters):
    """The catalogue's public query with the status filter on the shown status."""
    if filters.status is None:
        return queries.public_query(filters)
    return queries.public_query(replace(filters, status=None)).where(
        status_clause(filters.status, clock.today()))
