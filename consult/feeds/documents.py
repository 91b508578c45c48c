"""The Atom feed and the iCalendar files, built from the events and windows (F20)."""

from __future__ import annotations

from datetime import datetime

from feedgen.feed import FeedGenerator
from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from consult import clock
from consult.consultations.models import Consultation
from consult.feeds.events import Event, EventKind
from consult.labels import label
from consult.urls import external_url

SUMMARY_LENGTH = 500


def event_link(event: Event) -> str:
    if event.kind == EventKind.POLICY:
        return external_url("policies.detail", policy_id=event.policy.id)
    if event.kind == EventKind.REPORT:
        return external_url("answers.report", consultation_id=event.consultation.id)
    return external_url("consultations.detail", consultation_id=event.consultation.id)


def event_title(event: Event) -> str:
    name = event.policy.title if event.policy is not None else event.consultation.title
    return f"{label(event.kind, 'feed_event')}：{name}"


def event_summary(event: Event) -> str:
    if event.policy is not None:
        return f"{event.policy.document_number} {event.policy.unit.name}"
    c = event.consultation
    window = _("征求意见时间：%(start)s 至 %(end)s", start=clock.local_date(c.opens_at).isoformat(),
               end=clock.local_date(c.closes_at).isoformat())
    text = (c.summary or "")[:SUMMARY_LENGTH]
    return f"{c.unit.name}。{window}。{text}"


def atom(events: list[Event], *, self_url: str, title: str) -> bytes:
    """An Atom 1.0 document of `events` (newest first)."""
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=external_url("consultations.index"), rel="alternate", type="text/html")
    feed.language(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans").replace("_", "-"))
    feed.author(name=_("公众参与平台"))
    feed.updated(events[0].at if events else _epoch())
    for event in reversed(events):  # feedgen lists the last added first
        entry = feed.add_entry()
        entry.id(f"{external_url('main.index')}#{event.key}")
        entry.title(event_title(event))
        entry.link(href=event_link(event), rel="alternate", type="text/html")
        entry.updated(event.at)
        entry.published(event.at)
        entry.summary(event_summary(event))
        entry.category(term=event.kind.value, label=label(event.kind, "feed_event"))
        entry.author(name=event.unit.name)
    return feed.atom_str(pretty=True)


def _epoch() -> datetime:
    return datetime(2020, 1, 1, tzinfo=clock.now().tzinfo)


def calendar(consultations: list[Consultation], *, name: str) -> bytes:
    """An iCalendar of the consultations' comment windows (one event each, with a reminder
    the day before it closes)."""
    cal = Calendar()
    cal.add("prodid", "-//Consult//公众参与平台//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    stamp = clock.now()
    for c in consultations:
        event = CalendarEvent()
        # A URL, not user@host: a UID that looks like an address is read as personal data.
        event.add("uid", external_url("consultations.detail", consultation_id=c.id,
                                      _anchor="window"))
        event.add("dtstamp", stamp)
        event.add("dtstart", c.opens_at)
        event.add("dtend", c.closes_at)
        event.add("summary", _("征求意见：%(title)s", title=c.title))
        event.add("description", f"{event_summary_text(c)}\n{_('截止时间')}："
                                 f"{clock.local(c.closes_at).strftime('%Y-%m-%d %H:%M')}")
        event.add("url", external_url("consultations.detail", consultation_id=c.id))
        event.add("last-modified", c.updated_at or stamp)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def event_summary_text(c: Consultation) -> str:
    return f"{c.unit.name}：{(c.summary or '')[:SUMMARY_LENGTH]}"
