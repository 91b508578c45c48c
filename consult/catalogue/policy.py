"""Who may manage the catalogue of decisions (role × unit × published or not).

Units keep their own items and the platform office (admin) keeps the whole catalogue with them
(SPEC §2). Editors and approvers of a unit draft its items; once an item is published, changing
it is a public act, so publishing and every later change need an approver of the unit or admin.
"""

from __future__ import annotations

from flask_babel import gettext as _

from consult.auth.models import Unit
from consult.catalogue.models import CatalogueItem
from consult.catalogue.services import next_status
from consult.errors import InvalidTransition
from consult.extensions import db
from consult.permissions import Perm, Rule, has_permission, is_admin, require, unit_ids_with


def _unit_of(item_or_unit) -> Unit:
    return item_or_unit.unit if isinstance(item_or_unit, CatalogueItem) else item_or_unit


def is_public(item: CatalogueItem) -> bool:
    return item.published_at is not None


def can_view_staff(user, item: CatalogueItem) -> bool:
    return is_admin(user) or has_permission(user, Perm.VIEW_STAFF, item.unit)


def can_create(user, unit: Unit | None = None) -> bool:
    """Editors and approvers (of `unit`, or of any unit when None), and the platform office."""
    return is_admin(user) or has_permission(user, Perm.EDIT_DRAFT, unit)


def can_manage(user, item_or_unit) -> bool:
    """May edit the item (or the unit's items): its editors while a draft, approvers after."""
    if is_admin(user):
        return True
    if isinstance(item_or_unit, CatalogueItem) and is_public(item_or_unit):
        return has_permission(user, Perm.APPROVE, item_or_unit.unit)
    return has_permission(user, Perm.EDIT_DRAFT, _unit_of(item_or_unit))


def can_publish(user, item: CatalogueItem) -> bool:
    """Approvers of the unit, or the platform office, while the item is unpublished."""
    return not is_public(item) and (
        is_admin(user) or has_permission(user, Perm.APPROVE, item.unit)
    )


def can_set_status(user, item: CatalogueItem) -> bool:
    return next_status(item.status) is not None and can_manage(user, item)


PUBLISH = Rule(
    allows=can_publish, state_allows=lambda item: not is_public(item),
    conflict=lambda item: InvalidTransition(_("该决策事项已公布。"), code="already_published"),
    concerned=can_manage,
)


def require_publish(user, item: CatalogueItem) -> None:
    """403 for those who may not publish it; 409 for its keepers once it is published."""
    require(PUBLISH, user, item)


def unit_ids_for_create(user) -> set[int] | None:
    """Ids of the units the user may add items to; None means every unit (platform office)."""
    if is_admin(user):
        return None
    return unit_ids_with(user, Perm.EDIT_DRAFT)


def staff_query(user):
    """Items the user may see in the staff workspace (published or not), newest year first."""
    query = db.select(CatalogueItem).order_by(
        CatalogueItem.year.desc(), CatalogueItem.number.asc().nulls_last(), CatalogueItem.id
    )
    if is_admin(user):
        return query
    ids = unit_ids_with(user, Perm.VIEW_STAFF)
    return query.where(CatalogueItem.unit_id.in_(ids or {-1}))
