"""Feeds (F20): the Atom feed read by feedparser, the calendars by icalendar (real parsers)."""

from __future__ import annotations

from datetime import date, timedelta

import feedparser
import pytest
from icalendar import Calendar

from consult import clock
from consult.answers.services import publish_report
from consult.consultations.models import State
from consult.extensions import db
from consult.policies.models import Policy

BASE = "http://consult.test"


@pytest.fixture
def world(make, unit, approver):
    opened = make.consultation(State.OPEN, unit, title="郑州市就业补贴办法")
    other = make.unit("市测试住房局")
    housing = make.consultation(State.OPEN, other, title="保障性住房实施方案",
                                type="major_decision")
    closing = make.consultation(State.OPEN, unit, title="即将截止的办法",
                                closes_at=clock.now() + timedelta(days=1))
    reported = make.consultation(State.CLOSED, unit, title="已反馈的办法")
    make.answer(make.comment(reported, body="建议。"), "adopted", None)
    publish_report(reported, summary="共收到意见1条。", actor=approver)
    scheduled = make.consultation(State.SCHEDULED, unit, title="下周开始的办法")
    draft = make.consultation(State.DRAFT, unit, title="草稿不公开")
    policy = Policy(unit=unit, title="郑州市某管理办法", document_number="郑政〔2026〕1号",
                    issued_on=date(2026, 1, 2), text="正文", published_at=clock.now())
    db.session.add(policy)
    db.session.flush()
    return locals()


def test_the_atom_feed_parses_and_lists_what_happened(client, world):
    response = client.get("/feeds/consultations.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    titles = [e.title for e in feed.entries]
    assert "开始征求意见：郑州市就业补贴办法" in titles
    assert "即将截止：即将截止的办法" in titles
    assert "公布意见采纳情况：已反馈的办法" in titles
    assert "正式文件发布：郑州市某管理办法" in titles
    assert not [t for t in titles if "草稿不公开" in t or "下周开始" in t]
    links = {e.title: e.link for e in feed.entries}
    assert links["开始征求意见：郑州市就业补贴办法"] == f"{BASE}/consultations/{world['opened'].id}"
    assert links["公布意见采纳情况：已反馈的办法"] == (
        f"{BASE}/consultations/{world['reported'].id}/report")
    assert links["正式文件发布：郑州市某管理办法"] == f"{BASE}/policies/{world['policy'].id}"
    dates = [e.updated_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    assert len({e.id for e in feed.entries}) == len(feed.entries)


def test_the_feed_per_unit_and_type(client, world):
    feed = feedparser.parse(client.get(f"/feeds/consultations.atom?unit={world['other'].id}").data)
    assert [e.title for e in feed.entries] == ["开始征求意见：保障性住房实施方案"]
    assert feed.feed.links[0].href.endswith(f"/feeds/consultations.atom?unit={world['other'].id}")
    feed = feedparser.parse(client.get("/feeds/consultations.atom?type=major_decision").data)
    assert [e.title for e in feed.entries] == ["开始征求意见：保障性住房实施方案"]
    assert client.get("/feeds/consultations.atom?unit=abc").status_code == 400
    assert client.get("/feeds/consultations.atom?type=nothing").status_code == 400


def test_an_empty_feed_is_still_a_feed(client):
    feed = feedparser.parse(client.get("/feeds/consultations.atom").data)
    assert not feed.bozo and feed.entries == []


def test_the_feed_is_cacheable_and_answers_304(client, world):
    first = client.get("/feeds/consultations.atom")
    etag = first.headers["ETag"]
    again = client.get("/feeds/consultations.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_consultation_calendar(client, world):
    c = world["opened"]
    response = client.get(f"/consultations/{c.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == "征求意见：郑州市就业补贴办法"
    assert event.decoded("dtstart") == c.opens_at.replace(microsecond=0)
    assert event.decoded("dtend") == c.closes_at.replace(microsecond=0)
    assert str(event["url"]) == f"{BASE}/consultations/{c.id}"
    assert str(event["uid"]) == f"{BASE}/consultations/{c.id}#window"


def test_calendars_of_what_is_not_public_are_404(client, world):
    assert client.get(f"/consultations/{world['draft'].id}.ics").status_code == 404
    assert client.get("/consultations/999999.ics").status_code == 404


def test_the_calendar_of_every_open_window(client, world):
    cal = Calendar.from_ical(client.get("/consultations.ics").data)
    summaries = sorted(str(e["summary"]) for e in cal.walk("VEVENT"))
    assert summaries == sorted([
        "征求意见：郑州市就业补贴办法", "征求意见：保障性住房实施方案",
        "征求意见：即将截止的办法", "征求意见：下周开始的办法"])


def test_hostile_titles_stay_text(client, make, unit):
    make.consultation(State.OPEN, unit, title='<script>alert(1)</script>&"办法"')
    response = client.get("/feeds/consultations.atom")
    assert b"<script>" not in response.data
    feed = feedparser.parse(response.data)
    assert not feed.bozo
    cal = Calendar.from_ical(client.get("/consultations.ics").data)
    assert any("<script>alert(1)</script>" in str(e["summary"]) for e in cal.walk("VEVENT"))


def test_the_pages_link_the_feeds(client, world):
    page = client.get("/consultations").get_data(as_text=True)
    assert 'type="application/atom+xml"' in page and "/consultations.ics" in page
    detail = client.get(f"/consultations/{world['opened'].id}").get_data(as_text=True)
    assert f"/consultations/{world['opened'].id}.ics" in detail
