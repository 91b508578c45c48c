"""Operations on the catalogue of decisions (F1). Each takes the actor, flushes, never commits.

A published catalogue is versioned: after `publish_item`, every edit and every status change
leaves a `CatalogueChange` (what went from what to what, and why) that the public pages show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock
from consult.auth.models import Unit, User
from consult.catalogue.models import (
    CatalogueChange,
    CatalogueItem,
    CatalogueStatus,
    ParticipationMethod,
)
from consult.errors import InvalidTransition, ValidationFailed
from consult.extensions import db

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "create_catalogue_item": _l("新增决策事项"),
    "edit_catalogue_item": _l("修改决策事项"),
    "publish_catalogue_item": _l("公布决策事项"),
    "catalogue_status": _l("更新状态"),
})

YEAR_MIN, YEAR_MAX = 2000, 2100
TITLE_MAX = 300
REASON_MAX = 2_000

# The one way an item moves: planned → consulting → decided → implemented, never back.
STATUS_ORDER = (
    CatalogueStatus.PLANNED,
    CatalogueStatus.CONSULTING,
    CatalogueStatus.DECIDED,
    CatalogueStatus.IMPLEMENTED,
)
TRANSITIONS = {a: b for a, b in zip(STATUS_ORDER, STATUS_ORDER[1:], strict=False)}

# The fields of an item whose changes after publication are recorded, in display order.
TRACKED = ("title", "year", "legal_basis", "methods", "planned_start", "planned_end")


@dataclass
class ItemInput:
    """What a unit enters for a catalogue item (already type-checked by the form)."""

    year: int
    title: str
    legal_basis: str | None = None
    methods: list[str] = field(default_factory=list)
    planned_start: date | None = None
    planned_end: date | None = None


def next_status(status: CatalogueStatus) -> CatalogueStatus | None:
    return TRANSITIONS.get(CatalogueStatus(status))


def _json_value(value):
    """A field's value as the change record (and the API) keeps it."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, CatalogueStatus):
        return value.value
    return value


def _clean(data: ItemInput) -> dict:
    """The input checked against the domain's rules, as the item's field values."""
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = _("请填写决策事项名称。")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("名称不能超过 %(n)d 个字。", n=TITLE_MAX)
    if not isinstance(data.year, int) or not YEAR_MIN <= data.year <= YEAR_MAX:
        errors["year"] = _("请填写有效的年度。")
    known = [m.value for m in ParticipationMethod]
    methods = [str(m) for m in data.methods or []]
    if not methods:
        errors["methods"] = _("请至少选择一种参与方式。")
    elif any(m not in known for m in methods):
        errors["methods"] = _("参与方式无效。")
    if data.planned_start and data.planned_end and data.planned_end < data.planned_start:
        errors["planned_end"] = _("计划完成时间不能早于计划开始时间。")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    return {
        "title": title,
        "year": data.year,
        "legal_basis": (data.legal_basis or "").strip() or None,
        "methods": [m for m in known if m in methods],  # one order, no repeats
        "planned_start": data.planned_start,
        "planned_end": data.planned_end,
    }


def next_number(year: int) -> int:
    """The number the next item of `year` gets (2026-00N)."""
    highest = db.session.scalar(
        db.select(db.func.max(CatalogueItem.number)).where(CatalogueItem.year == year)
    )
    return (highest or 0) + 1


def _record_change(item: CatalogueItem, changes: dict, *, actor: User, reason: str | None):
    entry = CatalogueChange(item=item, at=clock.now(), actor_id=getattr(actor, "id", None),
                            changes=changes, reason=reason)
    db.session.add(entry)
    return entry


def create_item(unit: Unit, data: ItemInput, *, actor: User) -> CatalogueItem:
    """Add an unpublished item to the unit's catalogue of `data.year`, numbered within the year."""
    values = _clean(data)
    item = CatalogueItem(unit=unit, status=CatalogueStatus.PLANNED,
                         number=next_number(values["year"]), **values)
    db.session.add(item)
    audit.record(actor, "create_catalogue_item", item)
    return item


def update_item(item: CatalogueItem, data: ItemInput, *, actor: User,
                reason: str | None = None) -> CatalogueItem:
    """Edit an item; once it is published the change is recorded and needs a reason."""
    values = _clean(data)
    changes = {
        name: [_json_value(getattr(item, name)), _json_value(values[name])]
        for name in TRACKED
        if _json_value(getattr(item, name)) != _json_value(values[name])
    }
    if not changes:
        return item
    reason = (reason or "").strip() or None
    if item.published_at is not None:
        if not reason:
            message = _("已公布的决策事项调整时须填写调整理由（理由将向社会公布）。")
            raise ValidationFailed(message, fields={"reason": message})
        if len(reason) > REASON_MAX:
            message = _("理由不能超过 %(n)d 个字。", n=REASON_MAX)
            raise ValidationFailed(message, fields={"reason": message})
    if values["year"] != item.year:
        item.number = next_number(values["year"])
    for name, value in values.items():
        setattr(item, name, value)
    if item.published_at is not None:
        _record_change(item, changes, actor=actor, reason=reason)
    audit.record(actor, "edit_catalogue_item", item, reason=reason, detail=changes)
    return item


def publish_item(item: CatalogueItem, *, actor: User) -> CatalogueItem:
    """Make the item public; from now on its changes are shown, not silent."""
    if item.published_at is not None:
        raise InvalidTransition(_("该决策事项已公布。"), code="already_published")
    item.published_at = clock.now()
    audit.record(actor, "publish_catalogue_item", item)
    return item


def publish_items(unit: Unit, year: int, *, actor: User) -> list[CatalogueItem]:
    """Publish every unpublished item of the unit's catalogue of `year`."""
    items = db.session.scalars(
        db.select(CatalogueItem)
        .where(CatalogueItem.unit_id == unit.id, CatalogueItem.year == year,
               CatalogueItem.published_at.is_(None))
        .order_by(CatalogueItem.number, CatalogueItem.id)
    ).all()
    for item in items:
        publish_item(item, actor=actor)
    return list(items)


def set_status(item: CatalogueItem, status, *, actor: User,
               reason: str | None = None) -> CatalogueItem:
    """Move the item one step on (planned → consulting → decided → implemented); never back."""
    try:
        target = CatalogueStatus(status)
    except ValueError:
        message = _("决策事项状态无效。")
        raise ValidationFailed(message, fields={"status": message}) from None
    if next_status(item.status) != target:
        raise InvalidTransition(
            _("决策事项只能按“计划中→征求意见中→已决策→已实施”的顺序推进，不能退回或跳过。"),
            code="invalid_transition",
        )
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        message = _("理由不能超过 %(n)d 个字。", n=REASON_MAX)
        raise ValidationFailed(message, fields={"reason": message})
    change = {"status": [item.status.value, target.value]}
    item.status = target
    if item.published_at is not None:
        _record_change(item, change, actor=actor, reason=reason)
    audit.record(actor, "catalogue_status", item, reason=reason, detail=change)
    return item


def related_units(unit: Unit) -> set[int]:
    """Ids of the unit, the units above it and the units below it."""
    return {u.id for u in unit.ancestors_and_self()} | unit.descendant_ids()


def check_item_for_unit(item_id: int | None, unit: Unit) -> CatalogueItem | None:
    """The item a consultation of `unit` may belong to: its own unit's, a parent's or a child's."""
    if item_id is None:
        return None
    item = db.session.get(CatalogueItem, item_id)
    if item is None or item.unit_id not in related_units(unit):
        message = _("所选决策事项不属于本单位或其上下级单位的目录。")
        raise ValidationFailed(message, fields={"catalogue_item_id": message})
    return item


def link_consultation(item: CatalogueItem, consultation, *, actor: User) -> None:
    """Say that `consultation` is the public participation of `item` (F1 ↔ F2 both ways)."""
    check_item_for_unit(item.id, consultation.unit)
    consultation.catalogue_item = item
    audit.record(actor, "link_catalogue_item", consultation, detail={"item_id": item.id})


def unlink_consultation(consultation, *, actor: User) -> None:
    """Take `consultation` out of its catalogue item."""
    if consultation.catalogue_item_id is None:
        return
    detail = {"item_id": consultation.catalogue_item_id}
    consultation.catalogue_item = None
    audit.record(actor, "unlink_catalogue_item", consultation, detail=detail)
