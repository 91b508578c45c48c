"""Subscriptions to one consultation's news by email (F15, F20): double opt-in, unsubscribe link.

An address is subscribed only once its owner follows the link in the confirmation mail; every
mail carries a link that ends the subscription. Who subscribed is never shown to anyone: the
form answers the same whether the address was new, waiting or already confirmed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _

from consult import clock, mail, signals
from consult.consultations.models import Consultation, Extension, State, Subscription
from consult.errors import InvalidTransition, NotFound, ValidationFailed
from consult.extensions import db
from consult.urls import external_url

# A confirmation mail is sent again for the same address at most this often.
RESEND_AFTER = timedelta(minutes=10)
EMAIL_MAX = 254


def accepts_subscriptions(consultation: Consultation) -> bool:
    """While news may still come: before it opens, while open, and while being answered."""
    return consultation.status in (State.SCHEDULED, State.OPEN, State.CLOSED)


def _normalise(email: str) -> str:
    email = (email or "").strip().lower()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or len(email) > EMAIL_MAX or any(c.isspace() for c in email):
        message = _("请填写有效的电子邮箱地址。")
        raise ValidationFailed(message, fields={"email": message})
    return email


def subscribe(consultation: Consultation, email: str, *,
              language: str | None = None) -> Subscription:
    """Record the address and mail it a confirmation link (again, if it is waiting), in the
    `language` of the page it was asked on."""
    if not accepts_subscriptions(consultation):
        raise InvalidTransition(_("该意见征集已结束，不再接受订阅。"), code="subscriptions_closed")
    email = _normalise(email)
    subscription = db.session.scalar(
        db.select(Subscription).where(Subscription.consultation_id == consultation.id,
                                      Subscription.email == email)
    )
    now = clock.now()
    if subscription is None:
        subscription = Subscription(consultation=consultation, email=email,
                                    token=secrets.token_urlsafe(32), created_at=now)
        db.session.add(subscription)
    elif subscription.confirmed or (
        subscription.mailed_at and now - subscription.mailed_at < RESEND_AFTER
    ):
        return subscription  # nothing to send: already confirmed, or just mailed
    subscription.mailed_at = now
    subscription.language = language
    db.session.flush()
    mail.queue_mail(
        "subscription_confirm", email, language=subscription.language, consultation=consultation,
        confirm=external_url("consultations.subscription_confirm", token=subscription.token))
    return subscription


def by_token(token: str) -> Subscription:
    subscription = db.session.scalar(db.select(Subscription).where(Subscription.token == token))
    if subscription is None:
        raise NotFound(_("该链接无效，或订阅已经取消。"), code="subscription_not_found")
    return subscription


def confirm(token: str) -> Subscription:
    """Confirm from the mailed link (a POST: mail scanners open links without meaning to)."""
    subscription = by_token(token)
    if subscription.confirmed_at is None:
        subscription.confirmed_at = clock.now()
    return subscription


def unsubscribe(token: str) -> Consultation:
    """End the subscription: the address is deleted, nothing of it is kept."""
    subscription = by_token(token)
    consultation = subscription.consultation
    db.session.delete(subscription)
    db.session.flush()
    return consultation


def extension_recipients(consultation: Consultation) -> dict[str, tuple[str | None, str | None]]:
    """Address → (unsubscribe token, language) of everyone to tell of an extension: confirmed
    subscribers, and those the domains above name through `signals.extension_recipients`
    (commenters who left an address and asked for news; no token). Addresses not yet verified
    are left out: mail goes only where its owner asked for it."""
    recipients: dict[str, tuple[str | None, str | None]] = {}
    for _receiver, found in signals.send_required(signals.extension_recipients, consultation):
        for email, language in (found or {}).items():
            recipients.setdefault(email, (None, language))
    for subscription in db.session.scalars(
        db.select(Subscription).where(Subscription.consultation_id == consultation.id,
                                      Subscription.confirmed_at.is_not(None))
    ):
        recipients[subscription.email] = (subscription.token, subscription.language)
    return recipients


def notify_extension(consultation: Consultation, notice: Extension) -> int:
    """Queue the extension notice for everyone who asked, each in their language; returns how
    many mails."""
    link = external_url("consultations.detail", consultation_id=consultation.id,
                        _anchor="extensions")
    count = 0
    for email, (token, language) in sorted(extension_recipients(consultation).items()):
        unsubscribe = external_url("consultations.unsubscribe", token=token) if token else None
        mail.queue_mail("extension", email, language=language, consultation=consultation,
                        notice=notice, old=_local(notice.old_closes_at),
                        new=_local(notice.new_closes_at), link=link, unsubscribe=unsubscribe)
        count += 1
    return count


def _local(moment) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")
