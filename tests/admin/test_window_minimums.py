"""Window minimums saved at /admin/settings apply to consultations created afterwards: each
consultation keeps the minimums in force when it was created (`window_minimums`) for its edits,
submission, approval and second round — never below SPEC §6's statutory minimums."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from consult import clock, settings
from consult.consultations import services, versions, windows
from consult.consultations.models import Consultation, State
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.settings import Setting
from tests.admin.test_settings_and_audit import form, save
from tests.conftest import staff_post
from tests.factories import draft_form


@pytest.fixture
def office(client_as, make):
    return client_as(make.user(admin=True))


def window(days: int) -> dict:
    """A window opening tomorrow and lasting `days` calendar days, both ends included."""
    opens_on = clock.today() + timedelta(days=1)
    return {"opens_on": opens_on.isoformat(),
            "closes_on": (opens_on + timedelta(days=days - 1)).isoformat()}


def create(client, post_form, unit, **fields):
    return post_form(client, "/staff/consultations/new", draft_form(unit, **fields))


def created(response) -> Consultation:
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.get(Consultation, int(urlsplit(response.headers["Location"]).path
                                            .rsplit("/", 1)[1]))


def raise_minimum(office, **changes):
    assert save(office, form(**changes)).status_code == 303
    settings.forget()


def count() -> int:
    return db.session.scalar(db.select(db.func.count(Consultation.id)))


def test_a_raised_minimum_holds_for_new_drafts_and_not_for_existing_ones(
        client_as, post_form, office, editor, approver, unit):
    client = client_as(editor)
    before = created(create(client, post_form, unit, type="rule", **window(30)))
    assert before.window_minimums["rule"] == 30
    raise_minimum(office, **{"WINDOW_MIN_DAYS-rule": "45"})

    # A new draft needs the new minimum (or a published reason).
    refused = create(client, post_form, unit, type="rule", **window(30))
    assert refused.status_code == 422
    assert "不少于 45 日" in refused.get_data(as_text=True)
    assert count() == 1
    after = created(create(client, post_form, unit, type="rule", title="新的规章", **window(45)))
    assert after.window_minimums["rule"] == 45
    assert "政府规章 不少于 45 日" in client.get("/staff/consultations/new").get_data(
        as_text=True)

    # The earlier one keeps its 30 days: edited, submitted and approved as it was.
    page = f"/staff/consultations/{before.id}"
    edit = client.get(f"{page}/edit").get_data(as_text=True)
    assert "政府规章 不少于 30 日" in edit and "政府规章 不少于 45 日" not in edit
    fields = {k: v for k, v in draft_form(unit, type="rule", title="改过的标题", **window(30))
              .items() if k != "unit_id"}
    assert post_form(client, f"{page}/edit", fields, page=f"{page}/edit").status_code == 302
    assert before.title == "改过的标题"
    assert staff_post(client, f"{page}/submit").status_code == 302
    assert staff_post(client_as(approver), f"{page}/approve").status_code == 302
    assert before.state == State.SCHEDULED
    assert "此类文件不少于 30 日" in client.get(page).get_data(as_text=True)
    assert "此类文件不少于 45 日" in client.get(
        f"/staff/consultations/{after.id}").get_data(as_text=True)


def test_a_lowered_minimum_does_not_shorten_an_existing_consultations_window(
        office, make, unit, editor):
    raise_minimum(office, **{"WINDOW_MIN_DAYS-major_decision": "60"})
    draft = make.consultation("draft", unit, type="major_decision")
    assert draft.window_rule.days == 60
    raise_minimum(office, **{"WINDOW_MIN_DAYS-major_decision": "30"})  # back to the default
    assert windows.minimum("major_decision").days == 30
    assert draft.window_rule.days == 60
    draft.closes_at = clock.end_of_day(clock.local_date(draft.opens_at) + timedelta(days=40))
    with pytest.raises(ValidationFailed) as refused:
        services.submit(draft, actor=editor)
    assert "不少于 60 日" in refused.value.message


def test_a_second_round_keeps_the_consultations_own_minimum(office, make, unit, approver):
    open_one = make.consultation("open", unit, type="rule")
    raise_minimum(office, **{"WINDOW_MIN_DAYS-rule": "45"})
    today = clock.today()
    version = versions.new_version(open_one, "第一条 修改后的条文。", "根据意见修改",
                                   actor=approver, reopen_until=today + timedelta(days=29))
    assert version.number == 2
    newer = make.consultation("open", unit, type="rule")
    with pytest.raises(ValidationFailed) as refused:
        versions.new_version(newer, "第一条 修改后的条文。", "根据意见修改", actor=approver,
                             reopen_until=today + timedelta(days=29))
    assert "不少于 45 日" in refused.value.message


def test_the_business_minimum_is_kept_too(client_as, post_form, office, editor, unit):
    client = client_as(editor)
    business = {"type": "normative_document", "concerns_business": "y"}
    before = created(create(client, post_form, unit, **business, **window(30)))
    assert before.window_rule == windows.Minimum(30, working=False)
    raise_minimum(office, WINDOW_BUSINESS_MIN_DAYS="40")
    refused = create(client, post_form, unit, **business, **window(30))
    assert refused.status_code == 422 and "不少于 40 日" in refused.get_data(as_text=True)
    assert staff_post(client, f"/staff/consultations/{before.id}/submit").status_code == 302
    # A normative document not about business activity still counts its 7 working days.
    assert created(create(client, post_form, unit, type="normative_document", **window(14))
                   ).window_rule == windows.Minimum(7, working=True)


def test_never_below_the_statutory_minimums(make, unit):
    # A consultation's own numbers below the floors (stored before a floor was raised, or
    # written by hand) and a saved setting below them (bypassing /admin) count as the floor.
    low = {"rule": 10, "major_decision": 10, "normative_document": 3, "other": 0, "business": 5}
    assert windows.minimum("rule", minimums=low) == windows.Minimum(30, working=False)
    assert windows.minimum("major_decision", minimums=low).days == 30
    assert windows.minimum("normative_document", minimums=low) == windows.Minimum(7, True)
    assert windows.minimum("normative_document", concerns_business=True,
                           minimums=low) == windows.Minimum(30, working=False)
    assert windows.minimum("other", minimums=low).days == 1
    db.session.add(Setting(key="WINDOW_MIN_DAYS", value={"rule": 3, "major_decision": 3,
                                                         "normative_document": 1, "other": 7}))
    db.session.add(Setting(key="WINDOW_BUSINESS_MIN_DAYS", value=2))
    db.session.flush()
    settings.forget()
    assert windows.current_minimums() == {"rule": 30, "major_decision": 30,
                                          "normative_document": 7, "other": 7, "business": 30}
    assert make.consultation("draft", unit, type="rule").window_minimums["rule"] == 30


def test_the_settings_page_refuses_a_minimum_below_the_statute(office):
    for field, value in (("WINDOW_MIN_DAYS-rule", "29"),
                         ("WINDOW_MIN_DAYS-normative_document", "6"),
                         ("WINDOW_BUSINESS_MIN_DAYS", "29")):
        assert save(office, form(**{field: value})).status_code == 422, field
    settings.forget()
    assert windows.current_minimums()["rule"] == 30
