"""The outbox: mail is queued with the change, delivered later, and survives a mail outage."""

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from consult import clock, mail
from consult.extensions import db
from consult.mail import OutboxMessage


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    old = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_SUPPRESS_SEND")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    app.extensions["mail"].server = "127.0.0.1"
    app.extensions["mail"].port = port
    app.extensions["mail"].suppress = False
    controller.start()
    yield inbox, controller, port
    if controller.loop.is_running():
        controller.stop()
    app.config.update(old)
    app.extensions["mail"].server = old["MAIL_SERVER"]
    app.extensions["mail"].port = old["MAIL_PORT"]
    app.extensions["mail"].suppress = old["MAIL_SUPPRESS_SEND"]


def queue_one(app):
    with app.test_request_context():
        message = mail.queue("receipt", "citizen@example.org", "意见回执", "您的意见已收到。")
    db.session.commit()
    return message


def test_queued_mail_reaches_a_real_smtp_server(app, smtp):
    inbox, _, _ = smtp
    message = queue_one(app)
    assert mail.deliver_due() == (1, 0)
    assert message.sent_at is not None and message.status == "sent"
    assert inbox.messages[0][0] == ["citizen@example.org"]
    assert mail.backlog() == 0


def test_a_mail_outage_keeps_the_message_queued_with_its_error(app, smtp):
    inbox, controller, port = smtp
    controller.stop()
    message = queue_one(app)
    assert mail.deliver_due() == (0, 1)
    assert message.sent_at is None and message.attempts == 1
    assert message.last_error and message.next_attempt_at > clock.now()
    assert mail.backlog() == 1
    # Not due yet: nothing is tried again until the retry time.
    assert mail.deliver_due() == (0, 0)
    back = Controller(inbox, hostname="127.0.0.1", port=port)  # the server comes back
    back.start()
    try:
        clock.freeze(message.next_attempt_at + timedelta(seconds=1))
        assert mail.deliver_due() == (1, 0)
    finally:
        back.stop()
    assert len(inbox.messages) == 1 and mail.backlog() == 0


def test_outbox_send_command(app, smtp):
    inbox, _, _ = smtp
    queue_one(app)
    queue_one(app)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    assert len(inbox.messages) == 2


def test_without_a_mail_server_mail_goes_to_the_log(app, caplog):
    queue_one(app)
    with caplog.at_level("INFO"):
        assert mail.deliver_due() == (1, 0)
    assert "citizen@example.org" in caplog.text


def test_a_rolled_back_change_sends_nothing(app):
    with app.test_request_context():
        mail.queue("receipt", "x@example.org", "s", "b")
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0


def test_report_mail_reaches_commenters_and_survives_a_mail_outage(app, smtp, make):
    """F15: the report-published mail is queued with the report and delivered despite an outage."""
    from consult.answers.services import publish_report

    inbox, controller, port = smtp
    consultation = make.consultation("closed")
    approver = make.user("approver", consultation.unit)
    make.answer(make.comment(consultation, email="wang@example.org", notify=True),
                "not_adopted", "上位法已有规定。")
    controller.stop()  # the mail server is down when the report goes out
    with app.test_request_context():
        publish_report(consultation, summary="共收到意见1条。", actor=approver)
    db.session.commit()
    assert mail.deliver_due() == (0, 1)
    assert mail.backlog() == 1  # queued, not lost
    back = Controller(inbox, hostname="127.0.0.1", port=port)
    back.start()
    try:
        clock.freeze(clock.now() + timedelta(hours=1))
        assert mail.deliver_due() == (1, 0)
    finally:
        back.stop()
    recipients, content = inbox.messages[0]
    assert recipients == ["wang@example.org"]
    assert mail.backlog() == 0
    message = db.session.scalar(db.select(OutboxMessage).where(
        OutboxMessage.kind == "report_published"))
    assert "上位法已有规定。" in message.body and message.sent_at is not None
