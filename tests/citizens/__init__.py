"""Citizen accounts. Helpers shared by the tests of accounts, verification and erasure."""

from __future__ import annotations

import re

from consult.extensions import db
from consult.mail import OutboxMessage
from tests.factories import PASSWORD

LINK = re.compile(r"https?://consult\.test(/\S+)")


def mails_to(address: str) -> list[OutboxMessage]:
    return db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id)
    ).all()


def link_in(message: OutboxMessage) -> str:
    """The path of the (first) link of this site in a mail."""
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def last_link_to(address: str) -> str:
    messages = mails_to(address)
    assert messages, f"no mail to {address}"
    return link_in(messages[-1])


def sign_in(client, post_form, citizen, password: str = PASSWORD):
    response = post_form(client, "/account/login", {"email": citizen.email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response
