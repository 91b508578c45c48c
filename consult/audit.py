"""The append-only audit log: who did what, when, to which object, and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import clock
from consult.extensions import db
from consult.types import UTCDateTime


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

    actor = relationship("User")

    __table_args__ = (db.Index("ix_audit_events_object", "object_type", "object_id"),)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise RuntimeError("the audit log is append-only")


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
    """Add an audit row for `action` on `obj` to the current transaction."""
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
