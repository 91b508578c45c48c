"""Extending a comment window (F4): a later date only, with a published notice and a mail to
subscribers and to commenters who asked; closing early is refused. Subscriptions are double
opt-in and every mail to a subscriber carries an unsubscribe link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from consult import audit, clock
from consult.comments.models import CommentStatus
from consult.consultations import services, subscriptions
from consult.consultations.models import Extension, State, Subscription
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.mail import OutboxMessage
from tests.conftest import csrf_from, staff_post, table_counts


@pytest.fixture
def c(make, unit):
    return make.consultation("open", unit=unit, title="关于规范住房租赁市场的若干措施")


def _mails(kind: str | None = None) -> list[OutboxMessage]:
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db.session.scalars(query).all()


def _later(c, days: int = 10):
    return clock.local_date(c.closes_at) + timedelta(days=days)


def _extend(client, c, closes_on, reason="收到的意见较多，延长期限以便充分听取意见。"):
    return staff_post(client, f"/staff/consultations/{c.id}/extend",
                 {"extend-closes_on": str(closes_on), "extend-reason": reason})


# --- the extension and its notice --------------------------------------------------------------


def test_approver_extends_and_the_public_page_shows_the_notice(client_as, approver, c):
    old = c.closes_at
    new_day = _later(c)
    response = _extend(client_as(approver), c, new_day)
    assert response.status_code == 302
    assert clock.local_date(c.closes_at) == new_day
    assert clock.local(c.closes_at).strftime("%H:%M:%S") == "23:59:59"
    [notice] = c.extensions
    assert (notice.old_closes_at, notice.new_closes_at) == (old, c.closes_at)
    assert notice.actor_id == approver.id
    event = audit.events_for(c)[-1]
    assert event.action == "extend" and event.reason == notice.reason
    html = client_as().get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "延长征求意见期限公告" in html
    assert "收到的意见较多，延长期限以便充分听取意见。" in html
    assert new_day.isoformat() in html
    staff = client_as(approver).get(f"/staff/consultations/{c.id}").get_data(as_text=True)
    assert "延长记录" in staff and "延长征求意见期限" in staff


def test_the_window_follows_the_clock_after_an_extension(approver, c, travel):
    old = c.closes_at
    services.extend(c, _later(c, 7), "延长一周。", actor=approver)
    travel(old + timedelta(hours=1))
    assert c.status == State.OPEN
    travel(c.closes_at + timedelta(seconds=1))
    assert c.status == State.CLOSED


def test_a_scheduled_consultation_can_be_extended(make, unit, approver):
    c = make.consultation("scheduled", unit=unit)
    services.extend(c, _later(c), "推迟截止。", actor=approver)
    assert c.status == State.SCHEDULED and len(c.extensions) == 1


def test_subscribers_and_commenters_who_asked_are_mailed(make, approver, c):
    make.comment(c, article=3, email="Asked@Example.org", notify=True)
    make.comment(c, article=2, email="asked@example.org", notify=True)  # the same address
    make.comment(c, article=1, email="quiet@example.org", notify=False)
    make.comment(c, article=1, email="unproven@example.org", notify=True,
                 status=CommentStatus.UNVERIFIED)
    make.comment(c, article=1)  # no address
    confirmed = subscriptions.subscribe(c, "reader@example.net")
    subscriptions.confirm(confirmed.token)
    subscriptions.subscribe(c, "waiting@example.net")  # never confirmed
    before = len(_mails())
    new_day = _later(c)

    services.extend(c, new_day, "应企业要求延长。", actor=approver)

    mails = _mails("extension")
    assert len(_mails()) - before == len(mails) == 2
    by_address = {m.recipient: m for m in mails}
    assert set(by_address) == {"asked@example.org", "reader@example.net"}
    for mail in mails:
        assert "延长征求意见期限公告" in mail.subject
        assert "应企业要求延长。" in mail.body
        assert new_day.isoformat() in mail.body
        assert f"/consultations/{c.id}" in mail.body
    assert f"/subscriptions/{confirmed.token}/unsubscribe" in by_address["reader@example.net"].body
    assert "unsubscribe" not in by_address["asked@example.org"].body


def test_closing_early_is_refused_with_409(client_as, approver, c):
    old = c.closes_at
    earlier = clock.local_date(c.closes_at) - timedelta(days=3)
    with pytest.raises(Conflict) as error:
        services.extend(c, earlier, "提前截止。", actor=approver)
    assert error.value.code == "closing_early"
    response = _extend(client_as(approver), c, earlier)
    assert response.status_code == 409
    assert c.closes_at == old and not c.extensions


def test_the_same_date_is_no_extension(approver, c):
    with pytest.raises(ValidationFailed):
        services.extend(c, clock.local_date(c.closes_at), "没有变化。", actor=approver)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(client_as, approver, c, reason):
    old = c.closes_at
    response = _extend(client_as(approver), c, _later(c), reason=reason)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="extend-reason-error"' in html
    assert c.closes_at == old
    with pytest.raises(ValidationFailed):
        services.extend(c, _later(c), reason, actor=approver)


def test_bad_dates_and_oversize_reasons_are_422(client_as, approver, c):
    client = client_as(approver)
    assert _extend(client, c, "2026-02-30").status_code == 422
    assert _extend(client, c, "明天").status_code == 422
    assert _extend(client, c, _later(c), reason="长" * 2001).status_code == 422
    assert not c.extensions


@pytest.mark.parametrize("state", ["closed", "report_published", "withdrawn", "draft"])
def test_only_a_scheduled_or_open_window_can_be_extended(client_as, make, unit, approver, state):
    c = make.consultation(state, unit=unit)
    with pytest.raises(InvalidTransition):
        services.extend(c, _later(c), "延长。", actor=approver)
    assert _extend(client_as(approver), c, _later(c)).status_code == 409
    assert not c.extensions


def test_editors_and_other_units_may_not_extend(client_as, make, unit, c):
    editor, stranger = make.user("editor", unit), make.user("approver")
    rows, closes_at = table_counts(), c.closes_at
    assert _extend(client_as(editor), c, _later(c)).status_code == 403
    assert _extend(client_as(stranger), c, _later(c)).status_code == 403
    assert not c.extensions and c.closes_at == closes_at
    assert table_counts() == rows



def test_the_form_shows_only_to_those_who_may_extend(client_as, make, unit, approver, c):
    action = f"/staff/consultations/{c.id}/extend"
    assert action in client_as(approver).get(f"/staff/consultations/{c.id}").get_data(
        as_text=True)
    editor_page = client_as(make.user("editor", unit)).get(f"/staff/consultations/{c.id}")
    assert action not in editor_page.get_data(as_text=True)


def test_a_hostile_reason_is_shown_escaped(client_as, approver, c):
    services.extend(c, _later(c), "<script>alert(1)</script>", actor=approver)
    html = client_as().get(f"/consultations/{c.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_unknown_consultation_is_404(client_as, approver):
    assert _extend(client_as(approver), type("C", (), {"id": 999999})(), "2030-01-01"
                   ).status_code == 404


# --- subscriptions -----------------------------------------------------------------------------


def _link(body: str, kind: str) -> str:
    match = re.search(rf"http://consult\.test(/subscriptions/[^/\s]+/{kind})", body)
    assert match, body
    return match.group(1)


def test_a_reader_subscribes_confirms_and_unsubscribes(client, post_form, approver, c):
    page = f"/consultations/{c.id}"
    assert f"/consultations/{c.id}/subscribe" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"/consultations/{c.id}/subscribe",
                         {"email": " Reader@Example.NET "}, page=page)
    assert response.status_code == 302
    [sub] = db.session.scalars(db.select(Subscription)).all()
    assert sub.email == "reader@example.net" and not sub.confirmed
    [mail] = _mails("subscription_confirm")
    assert mail.recipient == "reader@example.net"
    confirm = _link(mail.body, "confirm")

    # Opening the link (as a mail scanner would) confirms nothing; the button does.
    html = client.get(confirm).get_data(as_text=True)
    assert "确认订阅" in html and not sub.confirmed
    response = client.post(confirm, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302 and sub.confirmed

    services.extend(c, _later(c), "延长。", actor=approver)
    [notice] = _mails("extension")
    unsubscribe = _link(notice.body, "unsubscribe")
    html = client.get(unsubscribe).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 1
    response = client.post(unsubscribe, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 0
    assert client.get(unsubscribe).status_code == 404


def test_subscribing_twice_sends_no_second_mail_at_once_and_reveals_nothing(
        client, post_form, c, travel):
    url, page = f"/consultations/{c.id}/subscribe", f"/consultations/{c.id}"
    first = post_form(client, url, {"email": "a@example.net"}, page=page)
    second = post_form(client, url, {"email": "a@example.net"}, page=page)
    assert first.status_code == second.status_code == 302
    assert len(_mails("subscription_confirm")) == 1
    travel(clock.now() + subscriptions.RESEND_AFTER + timedelta(minutes=1))
    post_form(client, url, {"email": "a@example.net"}, page=page)
    assert len(_mails("subscription_confirm")) == 2
    assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 1


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "a b@example.org",
                                   "x" * 250 + "@example.org"])
def test_a_bad_address_is_422(client, post_form, c, email):
    response = post_form(client, f"/consultations/{c.id}/subscribe", {"email": email},
                         page=f"/consultations/{c.id}/subscribe")
    assert response.status_code == 422
    assert not db.session.scalars(db.select(Subscription)).all()
    assert not _mails("subscription_confirm")


def test_subscribing_needs_a_csrf_token(client, c):
    response = client.post(f"/consultations/{c.id}/subscribe", data={"email": "a@example.net"})
    assert response.status_code == 400
    assert not db.session.scalars(db.select(Subscription)).all()


def test_a_finished_or_unpublished_consultation_takes_no_subscriptions(client, post_form, make,
                                                                        c):
    done = make.consultation("report_published")
    html = client.get(f"/consultations/{done.id}").get_data(as_text=True)
    assert f"/consultations/{done.id}/subscribe" not in html
    response = post_form(client, f"/consultations/{done.id}/subscribe",
                         {"email": "a@example.net"}, page=f"/consultations/{c.id}")
    assert response.status_code == 409
    assert not _mails("subscription_confirm")
    draft = make.consultation("draft")
    assert client.get(f"/consultations/{draft.id}/subscribe").status_code == 404
    assert client.get("/consultations/999999/subscribe").status_code == 404


def test_unknown_tokens_are_404(client):
    assert client.get("/subscriptions/nope/confirm").status_code == 404
    assert client.get("/subscriptions/nope/unsubscribe").status_code == 404


def test_the_notice_row_cannot_shorten_a_window(approver, c):
    services.extend(c, _later(c), "延长。", actor=approver)
    notice = db.session.scalars(db.select(Extension)).one()
    assert notice.new_closes_at > notice.old_closes_at
