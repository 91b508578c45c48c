"""Mail through an outbox.

A message is written to `outbox_messages` in the same transaction as the change that caused it,
so it is never lost and never sent for a change that rolled back. After the commit it is
delivered by the worker (RQ) or the web process's background thread (consult.jobs.transport),
or by `flask --app app outbox send`. A failing mail server leaves the message queued with its
error and the time of the next try.

Delivery is at least once: a sender first claims a batch of messages for OUTBOX_LEASE_SECONDS
(one UPDATE; `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never take the same
message), then sends each and marks it sent. A sender that dies between the SMTP server's
acceptance and that mark leaves the message to be sent again when the claim expires — with
the same `Message-ID` header, stored with the message when it was queued, so the resend is
recognisable as the same mail.

Every mail is a template, `templates/email/<kind>.txt` (its `subject` and its body), rendered
by `queue_mail` in the recipient's language: the one their account saved, else the one of the
page on which they commented or subscribed, else the default (Simplified Chinese). The language
of whoever caused the mail (a moderator, an approver) plays no part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult import clock
from consult.extensions import db, mail
from consult.jobs.dispatch import dispatch_after_commit, worker_name
from consult.types import UTCDateTime

log = logging.getLogger(__name__)


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # receipt, report_published, ...
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The Message-ID header, the same on every attempt (NULL only for mail queued before it
    # existed: such a message gets one before its first attempt).
    message_id: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sender's lease
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    # A one-click unsubscribe link (RFC 8058): sent as `List-Unsubscribe` with
    # `List-Unsubscribe-Post`, so that a mail client can end a subscription itself.
    list_unsubscribe: Mapped[str | None] = mapped_column(String(500))

    @property
    def status(self) -> str:
        if self.sent_at:
            return "sent"
        return "retrying" if self.attempts else "queued"


def new_message_id() -> str:
    """A globally unique Message-ID in the sender's domain (no DNS lookup, unlike the
    default of email.utils.make_msgid)."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    if isinstance(sender, tuple | list):
        sender = sender[-1]
    domain = sender.rpartition("@")[2].strip("> ") if "@" in sender else ""
    domain = domain or urlsplit(current_app.config.get("BASE_URL", "")).hostname or "localhost"
    return make_msgid(idstring="consult", domain=domain)


def queue(kind: str, recipient: str, subject: str, body: str, *,
          list_unsubscribe: str | None = None) -> OutboxMessage:
    """Queue a mail in the current transaction; it goes out after the commit."""
    message = OutboxMessage(
        kind=kind, recipient=recipient, subject=subject, body=body, next_attempt_at=clock.now(),
        message_id=new_message_id(), list_unsubscribe=list_unsubscribe,
    )
    db.session.add(message)
    dispatch_after_commit(outbox=True)
    return message


DEFAULT_LANGUAGE = "zh_Hans"


def language_of(*candidates: str | None) -> str:
    """The first of `candidates` that is one of the site's languages, else the default."""
    languages = current_app.config["LANGUAGES"]
    return next((c for c in candidates if c in languages), DEFAULT_LANGUAGE)


def render(kind: str, language: str | None, **context) -> tuple[str, str]:
    """(subject, body) of `templates/email/<kind>.txt` in `language`: the template sets
    `subject` and its output is the body."""
    with force_locale(language_of(language)):
        template = current_app.jinja_env.get_template(f"email/{kind}.txt")
        module = template.make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        body = str(module)
    if not subject:
        raise ValueError(f"email/{kind}.txt sets no subject")
    return subject, body


def queue_mail(kind: str, recipient: str, *, language: str | None,
               list_unsubscribe: str | None = None, **context) -> OutboxMessage:
    """Queue the mail `kind` to `recipient`, written in `language` (theirs; None: the default);
    `list_unsubscribe`: its one-click unsubscribe link (List-Unsubscribe headers)."""
    subject, body = render(kind, language, **context)
    return queue(kind, recipient, subject, body, list_unsubscribe=list_unsubscribe)


def backlog() -> int:
    return db.session.scalar(
        db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
    )


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 240))


def _due(now):
    return db.and_(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        OutboxMessage.attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"],
        db.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def due_messages():
    """The messages a sender may take now (unsent, due, not held by a living sender)."""
    return db.select(OutboxMessage.id).where(_due(clock.now()))


def claim_due(limit: int) -> list[int]:
    """Claim up to `limit` due messages for this sender and commit the claim; their ids."""
    now = clock.now()
    # Look before writing: an idle check must not take SQLite's write lock.
    found = db.session.scalar(db.select(OutboxMessage.id).where(_due(now)).limit(1))
    db.session.commit()  # a fresh transaction: SQLite takes the write lock with the UPDATE
    if found is None:
        return []
    picked = (db.select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id)
              .limit(limit).with_for_update(skip_locked=True)
              .cte("picked").prefix_with("MATERIALIZED"))  # locked once (see jobs.queue.claim)
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    ids = db.session.scalars(
        db.update(OutboxMessage)
        .where(OutboxMessage.id.in_(db.select(picked.c.id)), _due(now))
        .values(claimed_until=now + lease, claimed_by=worker_name())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(ids)


@dataclass(frozen=True)
class _Outgoing:
    """What a sender needs of a claimed message, read before its transaction ends."""

    id: int
    recipient: str
    subject: str
    body: str
    message_id: str
    attempts: int
    list_unsubscribe: str | None = None


def deliver_due(limit: int = 100) -> tuple[int, int]:
    """Claim and send due messages (at most `limit`); return (sent, failed). Each message's
    outcome is committed on its own, in a transaction that starts with its UPDATE (SQLite
    refuses, rather than waits, a write after reads while another connection writes)."""
    sent = failed = 0
    for claimed in claim_due(limit):
        message = db.session.get(OutboxMessage, claimed)
        outgoing = _Outgoing(message.id, message.recipient, message.subject, message.body,
                             message.message_id, message.attempts, message.list_unsubscribe)
        db.session.commit()  # no read transaction is held while the SMTP server talks
        if outgoing.message_id is None:  # queued before messages had one: give it one first
            outgoing = replace(outgoing, message_id=new_message_id())
            _update(claimed, message_id=outgoing.message_id)
        values = {"attempts": outgoing.attempts + 1, "claimed_until": None, "claimed_by": None}
        try:
            _send(outgoing)
        except Exception as exc:  # any transport error: keep it queued
            error = f"{type(exc).__name__}: {exc}"[:2000]
            values.update(last_error=error,
                          next_attempt_at=clock.now() + _retry_delay(values["attempts"]))
            failed += 1
            log.warning("mail %s to outbox retry: %s", claimed, error)
        else:
            values.update(sent_at=clock.now(), last_error=None)
            sent += 1
        _update(claimed, **values)
    return sent, failed


def _update(message_id: int, **values) -> None:
    db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id == message_id)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def deliver_all() -> tuple[int, int]:
    """Deliver until nothing due is left (or nothing goes through); (sent, failed)."""
    total_sent = total_failed = 0
    while True:
        sent, failed = deliver_due()
        total_sent += sent
        total_failed += failed
        if sent == 0:
            return total_sent, total_failed


def _send(message: _Outgoing | OutboxMessage) -> None:
    if not current_app.config.get("MAIL_SERVER"):
        # The embedded default has no mail server: the log is the mailbox.
        log.info("mail %s to %s: %s\n%s", message.message_id, message.recipient, message.subject,
                 message.body)
        return
    outgoing = Message(subject=message.subject, recipients=[message.recipient],
                       body=message.body)
    outgoing.msgId = message.message_id  # the same header on every attempt
    if message.list_unsubscribe:
        outgoing.extra_headers = {"List-Unsubscribe": f"<{message.list_unsubscribe}>",
                                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    mail.send(outgoing)
