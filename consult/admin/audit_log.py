"""The audit log for the platform office (F24): every row, searchable by action, object, actor,
unit and dates, exported as CSV, with the status of its hash chain (`consult.audit.verify`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from consult import audit, clock
from consult.answers.exports import safe_cell
from consult.audit import AuditEvent
from consult.auth.models import Unit, User
from consult.extensions import db
from consult.paging import bad_parameter, int_param

OBJECT_TYPE_MAX = 40


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    actor_id: int | None = None
    unit_id: int | None = None
    since: date | None = None
    until: date | None = None

    def args(self) -> dict:
        """The query string that gives these filters back (for links and the export)."""
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in self.__dict__.items() if v not in (None, "")}


def _date(args, name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_parameter(name, _("日期格式应为 2026-01-31。")) from None


def filters_from(args) -> AuditFilters:
    """The filters of the query string; 400 for a malformed one."""
    action = (args.get("action") or "").strip() or None
    object_type = (args.get("object_type") or "").strip() or None
    if action is not None and len(action) > 60:
        raise bad_parameter("action", _("没有这种操作。"))
    if object_type is not None and len(object_type) > OBJECT_TYPE_MAX:
        raise bad_parameter("object_type", _("没有这种对象。"))
    since, until = _date(args, "since"), _date(args, "until")
    if since and until and until < since:
        raise bad_parameter("until", _("结束日期不能早于开始日期。"))
    return AuditFilters(
        action=action, object_type=object_type,
        object_id=int_param("object_id", minimum=0, args=args),
        actor_id=int_param("actor", minimum=1, args=args),
        unit_id=int_param("unit", minimum=1, args=args),
        since=since, until=until,
    )


def query(filters: AuditFilters):
    """The audit rows matching `filters`, the latest first."""
    q = db.select(AuditEvent)
    if filters.action:
        q = q.where(AuditEvent.action == filters.action)
    if filters.object_type:
        q = q.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        q = q.where(AuditEvent.object_id == filters.object_id)
    if filters.actor_id is not None:
        q = q.where(AuditEvent.actor_id == filters.actor_id)
    if filters.unit_id is not None:
        unit = db.session.get(Unit, filters.unit_id)
        ids = unit.descendant_ids() if unit is not None else {filters.unit_id}
        q = q.where(AuditEvent.unit_id.in_(ids))
    if filters.since:
        q = q.where(AuditEvent.at >= clock.start_of_day(filters.since))
    if filters.until:
        q = q.where(AuditEvent.at < clock.start_of_day(filters.until + timedelta(days=1)))
    return q.order_by(AuditEvent.seq.desc())


def choices() -> dict[str, list]:
    """What the filters offer: the actions and object types that occur, the staff, units."""
    actions = db.session.scalars(db.select(AuditEvent.action).distinct()).all()
    types = db.session.scalars(db.select(AuditEvent.object_type).distinct()).all()
    return {
        "actions": sorted(((a, audit.action_label(a)) for a in actions), key=lambda x: x[1]),
        "object_types": sorted(types),
        "actors": db.session.scalars(db.select(User).order_by(User.name)).all(),
        "units": db.session.scalars(db.select(Unit).order_by(Unit.name)).all(),
    }


CSV_BATCH = 2000


def csv_lines(filters: AuditFilters) -> Iterator[bytes]:
    """The matching rows as CSV, streamed (a BOM first, so Excel reads the Chinese)."""
    names = dict(db.session.execute(db.select(User.id, User.name)).all())
    units = dict(db.session.execute(db.select(Unit.id, Unit.name)).all())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("序号"), _("时间"), _("操作人"), _("操作"), _("操作代码"), _("对象"),
                     _("对象编号"), _("单位"), _("理由 / 说明"), _("详情"), _("本条哈希")])
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    rows = db.session.scalars(query(filters).execution_options(yield_per=CSV_BATCH))
    try:
        for n, e in enumerate(rows, start=1):
            out.seek(0)
            out.truncate()
            writer.writerow([safe_cell(v) for v in (
                e.seq, clock.local(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                names.get(e.actor_id, _("系统")) if e.actor_id else _("系统"),
                audit.action_label(e.action), e.action, e.object_type, e.object_id,
                units.get(e.unit_id, ""), e.reason or "",
                "" if e.detail is None else _json(e.detail), e.hash)])
            yield out.getvalue().encode("utf-8")
            if n % CSV_BATCH == 0:
                db.session.expunge_all()  # a million rows stream in flat memory
    finally:
        rows.close()


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
