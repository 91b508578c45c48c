"""E-mail alerts (F20): by unit, type or keyword; double opt-in; one-click unsubscribe with
List-Unsubscribe headers; sent through the outbox by the daily job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult import clock
from consult.consultations.models import State
from consult.extensions import db
from consult.feeds.alerts import send_alerts
from consult.feeds.models import Alert
from consult.mail import OutboxMessage
from tests.conftest import csrf_from, last_link_to, mails_to


@pytest.fixture
def housing(make):
    return make.unit("市测试住房局")


def _subscribe(client, post_form, email, **fields):
    return post_form(client, "/alerts", {"email": email, "unit": "", "type": "",
                                         "keyword": "", **fields})


def _confirm(client, email):
    path = last_link_to(email)
    assert path.startswith("/alerts/") and path.endswith("/confirm")
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    return path


def test_nothing_is_mailed_before_the_address_is_confirmed(client, post_form, make, housing):
    response = _subscribe(client, post_form, "reader@example.net", keyword="住房")
    assert response.status_code == 302
    assert [m.kind for m in mails_to("reader@example.net")] == ["alert_confirm"]
    make.consultation(State.OPEN, housing, title="保障性住房实施方案",
                      opens_at=clock.now() + timedelta(minutes=1))
    clock.freeze(clock.now() + timedelta(days=1))
    assert send_alerts() == 0
    assert [m.kind for m in mails_to("reader@example.net")] == ["alert_confirm"]


def test_a_keyword_alert_mails_matching_news_once(client, post_form, make, unit, housing):
    _subscribe(client, post_form, "Reader@Example.net", keyword="住房")
    _confirm(client, "reader@example.net")
    start = clock.now()
    clock.freeze(start + timedelta(hours=1))
    make.consultation(State.OPEN, housing, title="保障性住房实施方案",
                      opens_at=start + timedelta(minutes=30))
    make.consultation(State.OPEN, unit, title="就业补贴办法",
                      opens_at=start + timedelta(minutes=30))
    assert send_alerts() == 1
    mail = mails_to("reader@example.net")[-1]
    assert mail.kind == "alerts"
    assert "保障性住房实施方案" in mail.body and "就业补贴办法" not in mail.body
    assert mail.list_unsubscribe and mail.list_unsubscribe in mail.body
    assert mail.list_unsubscribe.startswith("http://consult.test/alerts/")
    assert send_alerts() == 0  # nothing new since


def test_unit_and_type_alerts(client, post_form, make, unit, housing):
    _subscribe(client, post_form, "unit@example.net", unit=str(housing.id))
    _subscribe(client, post_form, "type@example.net", type="rule")
    # the unit list names units with public consultations: the housing unit has one
    make.consultation(State.OPEN, housing, title="已有的办法",
                      opens_at=clock.now() - timedelta(days=3))
    _subscribe(client, post_form, "unit@example.net", unit=str(housing.id))
    _confirm(client, "unit@example.net")
    _confirm(client, "type@example.net")
    start = clock.now()
    clock.freeze(start + timedelta(hours=1))
    make.consultation(State.OPEN, housing, title="住房办法甲",
                      opens_at=start + timedelta(minutes=5))
    make.consultation(State.OPEN, unit, title="规章乙", type="rule",
                      opens_at=start + timedelta(minutes=5))
    assert send_alerts() == 2
    assert "住房办法甲" in mails_to("unit@example.net")[-1].body
    assert "规章乙" not in mails_to("unit@example.net")[-1].body
    assert "规章乙" in mails_to("type@example.net")[-1].body


def test_the_answer_never_tells_whether_an_address_subscribed(client, post_form):
    first = _subscribe(client, post_form, "a@example.net", keyword="数据")
    again = _subscribe(client, post_form, "a@example.net", keyword="数据")
    assert first.status_code == again.status_code == 302
    assert len(mails_to("a@example.net")) == 1  # not mailed twice within minutes
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1


@pytest.mark.parametrize("fields, status", [
    ({"email": "not-an-address"}, 422),
    ({"email": ""}, 422),
    ({"email": "x@example.net", "keyword": "字" * 101}, 422),
    ({"email": "x@example.net", "type": "law"}, 422),
    ({"email": "x@example.net", "unit": "999999"}, 422),
])
def test_bad_input(client, post_form, fields, status):
    response = post_form(client, "/alerts", {"unit": "", "type": "", "keyword": "", **fields})
    assert response.status_code == status
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_a_forged_csrf_token_is_400(client):
    response = client.post("/alerts", data={"email": "x@example.net", "csrf_token": "forged"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_one_click_unsubscribe(client, post_form, make, housing):
    _subscribe(client, post_form, "bye@example.net")
    _confirm(client, "bye@example.net")
    alert = db.session.scalar(db.select(Alert))
    url = f"/alerts/{alert.token}/unsubscribe"
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, without a CSRF token
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_the_unsubscribe_page_button_needs_its_csrf_token(client, post_form):
    _subscribe(client, post_form, "page@example.net")
    alert = db.session.scalar(db.select(Alert))
    url = f"/alerts/{alert.token}/unsubscribe"
    assert client.post(url, data={}).status_code == 400
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_unknown_tokens_are_404(client):
    assert client.get("/alerts/nothing/confirm").status_code == 404
    assert client.get("/alerts/nothing/unsubscribe").status_code == 404


def test_the_alert_mail_carries_list_unsubscribe_headers(app, client, post_form, make, housing,
                                                        monkeypatch):
    from consult import mail as mail_module

    _subscribe(client, post_form, "hdr@example.net")
    _confirm(client, "hdr@example.net")
    clock.freeze(clock.now() + timedelta(hours=1))
    make.consultation(State.OPEN, housing, title="新办法", opens_at=clock.now() - timedelta(
        minutes=5))
    send_alerts()
    message = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == "alerts"))
    sent = []
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.invalid")
    monkeypatch.setattr(mail_module.mail, "send", sent.append)
    mail_module._send(message)
    headers = sent[0].extra_headers
    assert headers["List-Unsubscribe"] == f"<{message.list_unsubscribe}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "List-Unsubscribe: <http://consult.test/alerts/" in sent[0].as_string()


def test_the_daily_job_is_scheduled():
    from consult.jobs.queue import HANDLERS
    from consult.jobs.schedule import TASKS

    assert "feed_alerts" in HANDLERS
    assert "feed_alerts" in {t.name for t in TASKS}
