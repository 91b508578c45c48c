"""Subscriptions to one consultation's news by email (F15, F20): double opt-in, unsubscribe link.

An address is subscribed only once its owner follows the link in the confirmation mail; every
mail carries a link that ends the subscription. Who subscribed is never shown to anyone: the
form answers the same whether the address was new, waiting or already confirmed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _

from consult import clock, mail
from consult.comments.models import Comment, CommentStatus
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


def subscribe(consultation: Consultation, email: str) -> Subscription:
    """Record the address and mail it a confirmation link (again, if it is waiting)."""
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
    db.session.flush()
    body = _(
        "您好：\n\n有人（希望是您本人）在网站上用本邮箱订阅了以下意见征集的动态：\n%(title)s\n\n"
        "如确是您本人，请打开下面的链接确认订阅：\n%(confirm)s\n\n"
        "确认后，征求意见期限延长等情况会通过邮件告知您。"
        "如果不是您本人订阅，请忽略本邮件，我们不会再给您发送邮件。\n",
        title=consultation.title,
        confirm=external_url("consultations.subscription_confirm", token=subscription.token),
    )
    mail.queue("subscription_confirm", email, _("请确认订阅：%(title)s", title=consultation.title),
               body)
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


def extension_recipients(consultation: Consultation) -> dict[str, str | None]:
    """Address → unsubscribe token (None for commenters) of everyone to tell of an extension:
    confirmed subscribers, and commenters who left an address and asked for news (notify).
    Addresses not yet verified are left out: mail goes only where its owner asked for it."""
    recipients: dict[str, str | None] = {}
    commenters = db.session.scalars(
        db.select(Comment.email).where(
            Comment.consultation_id == consultation.id, Comment.notify.is_(True),
            Comment.email.is_not(None), Comment.status != CommentStatus.UNVERIFIED,
        ).distinct()
    )
    for email in commenters:
        if email and email.strip():
            recipients.setdefault(email.strip().lower(), None)
    for subscription in db.session.scalars(
        db.select(Subscription).where(Subscription.consultation_id == consultation.id,
                                      Subscription.confirmed_at.is_not(None))
    ):
        recipients[subscription.email] = subscription.token
    return recipients


def notify_extension(consultation: Consultation, notice: Extension) -> int:
    """Queue the extension notice for everyone who asked; returns how many mails."""
    subject = _("延长征求意见期限公告：%(title)s", title=consultation.title)
    link = external_url("consultations.detail", consultation_id=consultation.id,
                        _anchor="extensions")
    text = _(
        "您好：\n\n“%(title)s”的征求意见期限已延长。\n原截止时间：%(old)s\n新截止时间：%(new)s\n"
        "理由：%(reason)s\n\n查看详情、提出意见：\n%(link)s\n",
        title=consultation.title, old=_local(notice.old_closes_at),
        new=_local(notice.new_closes_at), reason=notice.reason, link=link,
    )
    count = 0
    for email, token in sorted(extension_recipients(consultation).items()):
        if token:
            footer = _("\n您订阅了该意见征集的动态。取消订阅：\n%(link)s\n",
                       link=external_url("consultations.unsubscribe", token=token))
        else:
            footer = _("\n您收到本邮件，是因为您对该意见征集提出了意见并留下了电子邮箱。\n")
        mail.queue("extension", email, subject, text + footer)
        count += 1
    return count


def _local(moment) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")
