"""The public catalogue's filters (year, unit, status, method), shared by the HTML page and the API.

A filter value the catalogue does not know is a malformed request (400), for people and programs
alike: a typo must not look like an empty catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import String, cast

from consult import clock
from consult.auth.models import Unit
from consult.catalogue.models import (
    CatalogueChange,
    CatalogueItem,
    CatalogueStatus,
    ParticipationMethod,
)
from consult.catalogue.services import YEAR_MAX, YEAR_MIN, related_units
from consult.errors import ConsultError
from consult.extensions import db


class BadFilter(ConsultError):
    status = 400
    code = "invalid_parameter"


@dataclass(frozen=True)
class CatalogueFilters:
    year: int
    unit_id: int | None = None
    status: CatalogueStatus | None = None
    method: ParticipationMethod | None = None

    def as_args(self) -> dict:
        """The filters as query-string arguments (for links that keep them)."""
        values = {"year": self.year, "unit": self.unit_id,
                  "status": self.status.value if self.status else None,
                  "method": self.method.value if self.method else None}
        return {k: v for k, v in values.items() if v is not None}


def _bad(name: str, message: str) -> BadFilter:
    return BadFilter(message, fields={name: message})


def _int(args, name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"\d{1,9}", raw):
        raise _bad(name, _("参数 %(name)s 必须是整数。", name=name))
    return int(raw)


def _choice(args, name: str, enum_cls):
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        choices = ", ".join(m.value for m in enum_cls)
        raise _bad(name, _("参数 %(name)s 只能是：%(choices)s。", name=name,
                           choices=choices)) from None


def parse_filters(args) -> CatalogueFilters:
    """The query string's filters, checked; the year defaults to the current one."""
    year = _int(args, "year")
    if year is None:
        year = clock.today().year
    elif not YEAR_MIN <= year <= YEAR_MAX:
        message = _("参数 year 必须是 %(a)d 至 %(b)d 之间的年份。", a=YEAR_MIN, b=YEAR_MAX)
        raise _bad("year", message)
    unit_id = _int(args, "unit")
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise _bad("unit", _("没有编号为 %(id)d 的单位。", id=unit_id))
    return CatalogueFilters(
        year=year, unit_id=unit_id,
        status=_choice(args, "status", CatalogueStatus),
        method=_choice(args, "method", ParticipationMethod),
    )


def public_query(filters: CatalogueFilters):
    """Published items matching the filters, in catalogue order (by number)."""
    item = CatalogueItem
    query = db.select(item).where(item.published_at.is_not(None), item.year == filters.year)
    if filters.unit_id is not None:
        query = query.where(item.unit_id == filters.unit_id)
    if filters.status is not None:
        query = query.where(item.status == filters.status)
    if filters.method is not None:
        # `methods` is a JSON list of codes; its text holds "code" with the quotes on both
        # databases, and no code is part of another.
        query = query.where(
            cast(item.methods, String).contains(f'"{filters.method.value}"', autoescape=True)
        )
    return query.order_by(item.number.asc().nulls_last(), item.id)


def public_years(shown: int | None = None) -> list[int]:
    """Years with a published catalogue, the current year and the one shown, newest first."""
    years = set(db.session.scalars(
        db.select(CatalogueItem.year).where(CatalogueItem.published_at.is_not(None)).distinct()
    ))
    return sorted(years | {clock.today().year} | ({shown} if shown else set()), reverse=True)


def public_units() -> list[Unit]:
    """Units with at least one published item."""
    return db.session.scalars(
        db.select(Unit)
        .where(db.select(CatalogueItem.id).where(CatalogueItem.unit_id == Unit.id,
                                                 CatalogueItem.published_at.is_not(None))
               .exists())
        .order_by(Unit.name)
    ).all()


def recent_changes(year: int, limit: int = 20) -> list[CatalogueChange]:
    """The newest changes to the published catalogue of `year`."""
    return db.session.scalars(
        db.select(CatalogueChange)
        .join(CatalogueItem)
        .where(CatalogueItem.year == year, CatalogueItem.published_at.is_not(None))
        .order_by(CatalogueChange.at.desc(), CatalogueChange.id.desc())
        .limit(limit)
        .options(db.selectinload(CatalogueChange.item))
    ).all()


def items_for_drafting(units) -> list[CatalogueItem]:
    """Items a consultation of one of `units` may belong to: of this year or the next, of the
    unit itself or a unit above or below it (the rule `services.check_item_for_unit` applies)."""
    unit_ids: set[int] = set()
    for unit in units:
        unit_ids |= related_units(unit)
    if not unit_ids:
        return []
    year = clock.today().year
    return db.session.scalars(
        db.select(CatalogueItem)
        .where(CatalogueItem.unit_id.in_(unit_ids), CatalogueItem.year.in_((year, year + 1)))
        .order_by(CatalogueItem.year, CatalogueItem.number.asc().nulls_last(), CatalogueItem.id)
        .options(db.selectinload(CatalogueItem.unit))
    ).all()


def drafting_choices(units) -> list[tuple[str | int, str]]:
    """The catalogue select of the draft form: no item, or one of `items_for_drafting`."""
    choices: list[tuple[str | int, str]] = [("", _("（不属于决策事项目录）"))]
    for item in items_for_drafting(units):
        name = f"{item.code} {item.title}" if item.code else item.title
        choices.append((item.id, f"{name}（{item.unit.name}）"))
    return choices
