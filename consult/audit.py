"""The append-only, tamper-evident audit log: who did what, when, to which object, and why.

Each row carries a sequence number, the hash of the row before it and its own hash over its
canonical content (`canonical`), so that changing, removing or inserting a row anywhere breaks
the chain at that point: `flask --app app audit verify` walks it and names the first broken link.

Appends are serialised so that two writers cannot both extend the same last row (a fork): on
PostgreSQL the transaction that appends takes an advisory lock (`pg_advisory_xact_lock`) before
it reads the last row, held until it commits; on SQLite write transactions are serial already.
The unique sequence number is the backstop on both. Rows are given their place in the chain when
they are flushed (`_chain`), whoever created them (`record` or a bulk writer).

UPDATE and DELETE are refused three times over: by the ORM (below), and by a trigger on the table
on PostgreSQL and on SQLite (created with the table and by the migration). A migration that
rebuilds the table (SQLite batch mode) must create the trigger again.

Rows hold ids, never personal data (names, addresses, notes to authors stay in their own,
erasable tables), so erasing a citizen's data never needs to touch the chain.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DDL, JSON, ForeignKey, String, Text, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from consult import clock
from consult.extensions import db
from consult.types import UTCDateTime

GENESIS = "0" * 64  # the "previous hash" of the first row
# pg_advisory_xact_lock's key for appends to the audit log ("consult.audit" in ASCII, truncated)
LOCK_KEY = 0x636F6E73756C74
_created = itertools.count()


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column()
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSON)
    # The chain: 1, 2, 3... in the order rows were appended; the previous row's hash; this
    # row's hash over `canonical(self)`.
    seq: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User")

    __table_args__ = (db.Index("ix_audit_events_object", "object_type", "object_id"),)


# The database refuses changes too, whoever connects (the same statements as the migration).
PG_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only (' || TG_OP || ' refused)';
END;
$$ LANGUAGE plpgsql
"""
PG_REFUSE_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
"""
SQLITE_REFUSE_TRIGGERS = [
    f"""
CREATE TRIGGER audit_events_no_{op.lower()} BEFORE {op} ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only ({op} refused)'); END
""" for op in ("UPDATE", "DELETE")
]

event.listen(AuditEvent.__table__, "after_create",
             DDL(PG_REFUSE_FUNCTION).execute_if(dialect="postgresql"))
event.listen(AuditEvent.__table__, "after_create",
             DDL(PG_REFUSE_TRIGGER).execute_if(dialect="postgresql"))
for _statement in SQLITE_REFUSE_TRIGGERS:
    event.listen(AuditEvent.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="sqlite"))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise RuntimeError("the audit log is append-only")


@event.listens_for(AuditEvent, "init")
def _remember_order(target, args, kwargs):
    target._created = next(_created)  # rows of one flush are chained in the order they were made


# ------------------------------------------------------------------ the chain


def canonical(*, seq: int, at: datetime, actor_id, action: str, object_type: str, object_id,
              unit_id, reason, detail, prev_hash: str) -> bytes:
    """The bytes a row's hash is taken over: its content as sorted, compact UTF-8 JSON."""
    return json.dumps({
        "seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id, "action": action, "object_type": object_type,
        "object_id": object_id, "unit_id": unit_id, "reason": reason, "detail": detail,
        "prev_hash": prev_hash,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def row_hash(entry: AuditEvent) -> str:
    return hashlib.sha256(canonical(
        seq=entry.seq, at=entry.at, actor_id=entry.actor_id, action=entry.action,
        object_type=entry.object_type, object_id=entry.object_id, unit_id=entry.unit_id,
        reason=entry.reason, detail=entry.detail, prev_hash=entry.prev_hash,
    )).hexdigest()


def _last(connection) -> tuple[int, str]:
    row = connection.execute(text(
        "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).first()
    return (row[0], row[1]) if row else (0, GENESIS)


@event.listens_for(Session, "before_flush")
def _chain(session, flush_context, instances) -> None:
    """Give the new rows their place at the end of the chain, under the append lock."""
    new = sorted((obj for obj in session.new if isinstance(obj, AuditEvent)),
                 key=lambda obj: getattr(obj, "_created", 0))
    if not new:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    seq, previous = _last(connection)
    for entry in new:
        seq += 1
        entry.at = entry.at or clock.now()
        # What the database will give back, so that the hash can be recomputed from it.
        entry.detail = json.loads(json.dumps(entry.detail)) if entry.detail is not None else None
        entry.seq, entry.prev_hash = seq, previous
        entry.hash = previous = row_hash(entry)


@dataclass
class Verification:
    count: int
    last_hash: str
    broken: AuditEvent | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify() -> Verification:
    """Walk the chain from the first row; stop at the first row that does not fit."""
    expected_seq, previous, count = 1, GENESIS, 0
    rows = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)
                              .execution_options(yield_per=1000))  # a million rows fit
    try:
        for entry in rows:
            if entry.seq != expected_seq:
                problem = f"sequence number {entry.seq} where {expected_seq} was expected " \
                          "(a row was removed or inserted)"
            elif entry.prev_hash != previous:
                problem = "its previous-row hash does not match the row before it"
            elif entry.hash != row_hash(entry):
                problem = "its content does not match its hash (the row was changed)"
            else:
                expected_seq, previous, count = expected_seq + 1, entry.hash, count + 1
                continue
            return Verification(count, previous, entry, problem)
    finally:
        rows.close()  # a server-side cursor on PostgreSQL
    return Verification(count, previous)


# ------------------------------------------------------------------ writing and reading


# What each audit action means, for the audit trail on staff pages: every domain registers the
# actions it records (`register_actions`), read back by the `audit_action` template filter.
ACTIONS: dict[str, object] = {}


def register_actions(actions: dict[str, object]) -> None:
    """Name a domain's audit actions (lazy strings, translated when shown)."""
    ACTIONS.update(actions)


def action_label(action: str) -> str:
    """The display name of an audit action; its code when no domain named it."""
    return str(ACTIONS.get(action, action))


def record(actor, action: str, obj, *, unit_id: int | None = None, reason: str | None = None,
           detail: dict | None = None) -> AuditEvent:
    """Add an audit row for `action` on `obj` to the current transaction (ids, no personal
    data: names, contacts and notes stay in their own tables)."""
    db.session.flush()  # obj needs its id
    entry = AuditEvent(
        at=clock.now(),
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        unit_id=unit_id if unit_id is not None else getattr(obj, "unit_id", None),
        reason=reason,
        detail=detail,
    )
    db.session.add(entry)
    return entry


def events_for(obj) -> list[AuditEvent]:
    return db.session.scalars(
        db.select(AuditEvent)
        .where(AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
