"""The public library of policies (/policies, SPEC §5): one query for the list and its filters
(unit, type, year, validity on today's date, a few words of title or 文号)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import extract, or_

from consult import clock
from consult.auth.models import Unit
from consult.consultations.models import ConsultationType
from consult.extensions import db
from consult.policies.models import Policy, Validity
from consult.policies.services import normalise_number
from consult.policies.standing import validity_clause

TYPES = list(ConsultationType)
VALIDITIES = list(Validity)


def library_query(*, unit_id: int | None = None, type_: str | None = None,
                  year: int | None = None, validity: str | None = None, q: str | None = None,
                  today: date | None = None):
    """Published policies, newest issue first, with the filters given."""
    query = db.select(Policy).where(Policy.published_at.is_not(None))
    if unit_id is not None:
        units = db.session.get(Unit, unit_id)
        ids = units.descendant_ids() if units is not None else {0}
        query = query.where(Policy.unit_id.in_(ids))
    if type_:
        query = query.where(Policy.type == ConsultationType(type_))
    if year:
        query = query.where(extract("year", Policy.issued_on) == year)
    if validity:
        query = query.where(validity_clause(Validity(validity), today or clock.today()))
    if q:
        query = query.where(or_(Policy.title.icontains(q, autoescape=True),
                                Policy.document_number.icontains(normalise_number(q),
                                                                 autoescape=True)))
    return query.order_by(Policy.issued_on.desc(), Policy.published_at.desc(), Policy.id.desc())


def library_units() -> list[Unit]:
    """Units with a published policy (the unit filter's choices)."""
    ids = db.select(Policy.unit_id).where(Policy.published_at.is_not(None)).distinct()
    return db.session.scalars(db.select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)).all()


def library_years() -> list[int]:
    """Years of issue of published policies, newest first."""
    years = db.session.scalars(
        db.select(extract("year", Policy.issued_on)).where(Policy.published_at.is_not(None))
        .distinct())
    return sorted({int(y) for y in years if y is not None}, reverse=True)


def by_number(number: str) -> Policy | None:
    """The published policy with this 文号, however its brackets and spaces were typed."""
    return db.session.scalar(db.select(Policy).where(
        Policy.document_number == normalise_number(number), Policy.published_at.is_not(None)))
