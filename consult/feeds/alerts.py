"""E-mail alerts (F20): subscribe (double opt-in), confirm, unsubscribe, and the daily mail.

The daily mail is a job (`feed_alerts`, started by the schedule once a day after DIGEST_HOUR):
for each confirmed alert, the public events since the last mail (`consult.feeds.events`) that
match its unit, type and keyword (the search engine's matches: the keyword is found in the
consultation's title, summary, articles or report), in one mail, through the outbox.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import clock, mail
from consult.consultations.models import ConsultationType
from consult.errors import NotFound, ValidationFailed
from consult.extensions import db
from consult.feeds.documents import event_link, event_summary, event_title
from consult.feeds.events import events
from consult.feeds.models import Alert
from consult.jobs.queue import handler
from consult.labels import label
from consult.search.engine import matching_consultations
from consult.urls import external_url

RESEND_AFTER = timedelta(minutes=10)
EMAIL_MAX = 254
KEYWORD_MAX = 100
MAX_ALERTS_PER_ADDRESS = 20
EVENTS_PER_MAIL = 50


def _normalise(email: str) -> str:
    email = (email or "").strip().lower()
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or len(email) > EMAIL_MAX or any(c.isspace() for c in email):
        message = _("请填写有效的电子邮箱地址。")
        raise ValidationFailed(message, fields={"email": message})
    return email


def subscribe(email: str, *, unit_id: int | None, type_: str | None, keyword: str | None,
              language: str | None = None) -> Alert:
    """Record the alert and mail a confirmation link (again if it waits and was not just
    mailed). The same alert asked twice is one alert."""
    email = _normalise(email)
    keyword = " ".join((keyword or "").split()) or None
    if keyword is not None and len(keyword) > KEYWORD_MAX:
        message = _("关键词不能超过 %(n)d 个字。", n=KEYWORD_MAX)
        raise ValidationFailed(message, fields={"keyword": message})
    if type_ is not None and type_ not in ConsultationType._value2member_map_:
        message = _("请选择有效的文件类型。")
        raise ValidationFailed(message, fields={"type": message})
    alert = db.session.scalar(db.select(Alert).where(
        Alert.email == email, Alert.unit_id.is_(None) if unit_id is None
        else Alert.unit_id == unit_id,
        Alert.type.is_(None) if type_ is None else Alert.type == type_,
        Alert.keyword.is_(None) if keyword is None else Alert.keyword == keyword))
    now = clock.now()
    if alert is None:
        count = db.session.scalar(db.select(db.func.count(Alert.id)).where(Alert.email == email))
        if count >= MAX_ALERTS_PER_ADDRESS:
            return Alert(email=email)  # quietly nothing: the answer must not tell
        alert = Alert(email=email, unit_id=unit_id, type=type_, keyword=keyword,
                      token=secrets.token_urlsafe(32), created_at=now)
        db.session.add(alert)
    elif alert.confirmed_at is not None or (alert.mailed_at and now - alert.mailed_at
                                            < RESEND_AFTER):
        return alert
    alert.mailed_at = now
    alert.language = language
    db.session.flush()
    mail.queue_mail("alert_confirm", email, language=language, alert=alert,
                    what=describe(alert),
                    confirm=external_url("feeds.alert_confirm", token=alert.token))
    return alert


def describe(alert: Alert) -> str:
    """What the alert follows, in words (mails and pages)."""
    parts = []
    if alert.unit is not None:
        parts.append(_("单位：%(unit)s", unit=alert.unit.name))
    if alert.type:
        parts.append(_("类型：%(type)s", type=label(alert.type, "type")))
    if alert.keyword:
        parts.append(_("关键词：%(keyword)s", keyword=alert.keyword))
    return "；".join(parts) if parts else _("全部意见征集和政策文件")


def by_token(token: str) -> Alert:
    alert = db.session.scalar(db.select(Alert).where(Alert.token == token))
    if alert is None:
        raise NotFound(_("该链接无效，或订阅已经取消。"), code="alert_not_found")
    return alert


def confirm(token: str) -> Alert:
    """Confirm from the mailed link; events from now on will be mailed."""
    alert = by_token(token)
    if alert.confirmed_at is None:
        alert.confirmed_at = clock.now()
        alert.notified_until = alert.confirmed_at
    return alert


def unsubscribe(token: str) -> None:
    """End the alert: the row (and with it the address) is deleted."""
    db.session.delete(by_token(token))
    db.session.flush()


def unsubscribe_url(alert: Alert) -> str:
    return external_url("feeds.alert_unsubscribe", token=alert.token)


def send_alerts() -> int:
    """Mail every confirmed alert what happened since its last mail; returns the mails."""
    now = clock.now()
    sent = 0
    alerts = db.session.scalars(db.select(Alert).where(Alert.confirmed_at.is_not(None))
                                .order_by(Alert.id)).all()
    for alert in alerts:
        since = alert.notified_until or alert.confirmed_at
        found = events(since=since, until=now, unit_id=alert.unit_id, type_=alert.type,
                       consultation_ids=matching_consultations(alert.keyword),
                       limit=EVENTS_PER_MAIL)
        alert.notified_until = now
        if not found:
            continue
        items = [{"title": event_title(e), "summary": event_summary(e), "link": event_link(e)}
                 for e in found]
        link = unsubscribe_url(alert)
        mail.queue_mail("alerts", alert.email, language=alert.language, items=items,
                        what=describe(alert), unsubscribe=link, list_unsubscribe=link)
        sent += 1
    db.session.flush()
    return sent


@handler("feed_alerts", _l("订阅提醒邮件"))
def run_alerts(job, ctx) -> dict:
    ctx.begin_writing()
    sent = send_alerts()
    db.session.commit()
    return {"mails": sent}
