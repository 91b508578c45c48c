"""Mail through an outbox.

A message is written to `outbox_messages` in the same transaction as the change that caused it,
so it is never lost and never sent for a change that rolled back. It is delivered after the
response by a background thread (the embedded default) or by `flask --app app outbox send`.
A failing mail server leaves the message queued with its error and the time of the next try.

Every mail is a template, `templates/email/<kind>.txt` (its `subject` and its body), rendered
by `queue_mail` in the recipient's language: the one their account saved, else the one of the
page on which they commented or subscribed, else the default (Simplified Chinese). The language
of whoever caused the mail (a moderator, an approver) plays no part.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app, g
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult import clock
from consult.extensions import db, mail
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

    @property
    def status(self) -> str:
        if self.sent_at:
            return "sent"
        return "retrying" if self.attempts else "queued"


def queue(kind: str, recipient: str, subject: str, body: str) -> OutboxMessage:
    """Queue a mail in the current transaction; it goes out after the commit."""
    message = OutboxMessage(
        kind=kind, recipient=recipient, subject=subject, body=body, next_attempt_at=clock.now()
    )
    db.session.add(message)
    g.outbox_kick = True
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


def queue_mail(kind: str, recipient: str, *, language: str | None, **context) -> OutboxMessage:
    """Queue the mail `kind` to `recipient`, written in `language` (theirs; None: the default)."""
    subject, body = render(kind, language, **context)
    return queue(kind, recipient, subject, body)


def backlog() -> int:
    return db.session.scalar(
        db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
    )


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** (attempts - 1), 240))


def deliver_due(limit: int = 100) -> tuple[int, int]:
    """Send every due message; return (sent, failed). Commits after each message."""
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    due = db.session.scalars(
        db.select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= clock.now(),
            OutboxMessage.attempts < max_attempts,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for message in due:
        try:
            _send(message)
        except Exception as exc:  # any transport error: keep it queued
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.next_attempt_at = clock.now() + _retry_delay(message.attempts)
            failed += 1
            log.warning("mail %s to outbox retry: %s", message.id, message.last_error)
        else:
            message.attempts += 1
            message.sent_at = clock.now()
            message.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed


def _send(message: OutboxMessage) -> None:
    if not current_app.config.get("MAIL_SERVER"):
        # The embedded default has no mail server: the log is the mailbox.
        log.info("mail to %s: %s\n%s", message.recipient, message.subject, message.body)
        return
    mail.send(Message(subject=message.subject, recipients=[message.recipient], body=message.body))


class _Deliverer:
    """One background thread per process that empties the outbox when kicked."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def kick(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, daemon=True, name="outbox")
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait(timeout=60)
            self.wake.clear()
            with self.app.app_context():
                try:
                    deliver_due()
                except Exception:  # the database may be down; try again on the next kick
                    log.exception("outbox delivery failed")
                    db.session.rollback()
                finally:
                    db.session.remove()


def init_app(app: Flask) -> None:
    deliverer = _Deliverer(app)
    app.extensions["outbox"] = deliverer

    @app.after_request
    def _kick_after_response(response):
        if g.pop("outbox_kick", False) and app.config["OUTBOX_BACKGROUND"]:
            response.call_on_close(deliverer.kick)
        return response
