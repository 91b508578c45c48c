"""The catalogue's rules without HTTP: numbering, publication, recorded changes, status order."""

from datetime import date

import pytest

from consult import clock
from consult.audit import events_for
from consult.catalogue import policy, services
from consult.catalogue.models import CatalogueChange, CatalogueStatus
from consult.catalogue.services import ItemInput
from consult.consultations import services as consultation_services
from consult.consultations.models import ConsultationType
from consult.errors import InvalidTransition, ValidationFailed
from consult.extensions import db


def _input(**overrides) -> ItemInput:
    year = clock.today().year
    values = dict(year=year, title="郑州市城市更新条例（草案）",
                  legal_basis="《中华人民共和国城乡规划法》",
                  methods=["online_comment", "hearing"],
                  planned_start=date(year, 3, 1), planned_end=date(year, 10, 31))
    values.update(overrides)
    return ItemInput(**values)


def _changes(item):
    return db.session.scalars(
        db.select(CatalogueChange).where(CatalogueChange.item_id == item.id)
    ).all()


def test_items_are_numbered_within_their_year(unit, approver):
    year = clock.today().year
    first = services.create_item(unit, _input(), actor=approver)
    second = services.create_item(unit, _input(title="第二项"), actor=approver)
    other_year = services.create_item(unit, _input(title="明年的事项", year=year + 1),
                                      actor=approver)
    assert (first.code, second.code) == (f"{year}-001", f"{year}-002")
    assert other_year.code == f"{year + 1}-001"
    assert first.status == CatalogueStatus.PLANNED and first.published_at is None
    assert [e.action for e in events_for(first)] == ["create_catalogue_item"]


def test_moving_an_item_to_another_year_gives_it_a_number_there(unit, approver):
    year = clock.today().year
    services.create_item(unit, _input(title="明年已有", year=year + 1), actor=approver)
    item = services.create_item(unit, _input(), actor=approver)
    services.update_item(item, _input(year=year + 1), actor=approver)
    assert item.code == f"{year + 1}-002"


@pytest.mark.parametrize("overrides, field", [
    ({"title": "   "}, "title"),
    ({"title": "长" * 301}, "title"),
    ({"methods": []}, "methods"),
    ({"methods": ["online_comment", "referendum"]}, "methods"),
    ({"planned_start": date(2026, 5, 1), "planned_end": date(2026, 4, 30)}, "planned_end"),
    ({"year": 1999}, "year"),
])
def test_bad_input_is_refused_with_the_field_named(unit, approver, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        services.create_item(unit, _input(**overrides), actor=approver)
    assert field in refused.value.fields


def test_methods_are_kept_once_in_the_glossary_order(unit, approver):
    item = services.create_item(
        unit, _input(methods=["survey", "online_comment", "survey"]), actor=approver)
    assert item.methods == ["online_comment", "survey"]


def test_edits_before_publication_are_not_recorded_as_changes(unit, approver):
    item = services.create_item(unit, _input(), actor=approver)
    services.update_item(item, _input(title="改过的名称"), actor=approver)
    assert item.title == "改过的名称"
    assert _changes(item) == []
    assert [e.action for e in events_for(item)] == ["create_catalogue_item", "edit_catalogue_item"]


def test_publishing_twice_is_refused(unit, approver):
    item = services.create_item(unit, _input(), actor=approver)
    services.publish_item(item, actor=approver)
    assert item.published_at is not None
    with pytest.raises(InvalidTransition):
        services.publish_item(item, actor=approver)


def test_a_change_after_publication_needs_a_reason_and_is_recorded(unit, approver):
    year = clock.today().year
    item = services.create_item(unit, _input(), actor=approver)
    services.publish_item(item, actor=approver)
    revised = _input(planned_end=date(year, 12, 31),
                     methods=["online_comment", "hearing", "expert_review"])
    with pytest.raises(ValidationFailed) as refused:
        services.update_item(item, revised, actor=approver, reason="  ")
    assert "reason" in refused.value.fields
    assert item.planned_end == date(year, 10, 31)  # nothing changed
    reason = "增加专家论证环节，相应延后完成时间。"
    services.update_item(item, revised, actor=approver, reason=reason)
    [change] = _changes(item)
    assert change.changes == {
        "methods": [["online_comment", "hearing"], ["online_comment", "hearing", "expert_review"]],
        "planned_end": [f"{year}-10-31", f"{year}-12-31"],
    }
    assert change.reason == reason
    assert change.actor_id == approver.id


def test_saving_a_published_item_unchanged_records_nothing(unit, approver):
    item = services.create_item(unit, _input(), actor=approver)
    services.publish_item(item, actor=approver)
    services.update_item(item, _input(), actor=approver)  # no reason needed: nothing changed
    assert _changes(item) == []


def test_status_moves_one_step_forward_only(unit, approver):
    item = services.create_item(unit, _input(), actor=approver)
    with pytest.raises(InvalidTransition):
        services.set_status(item, "decided", actor=approver)  # skipping consulting
    with pytest.raises(InvalidTransition):
        services.set_status(item, "planned", actor=approver)  # standing still
    services.set_status(item, "consulting", actor=approver)
    with pytest.raises(InvalidTransition):
        services.set_status(item, "planned", actor=approver)  # going back
    services.set_status(item, CatalogueStatus.DECIDED, actor=approver)
    services.set_status(item, "implemented", actor=approver)
    for status in CatalogueStatus:
        with pytest.raises(InvalidTransition):
            services.set_status(item, status, actor=approver)
    assert item.status == CatalogueStatus.IMPLEMENTED
    assert _changes(item) == []  # never published: nothing for the public history


def test_unknown_status_is_a_validation_error(unit, approver):
    item = services.create_item(unit, _input(), actor=approver)
    with pytest.raises(ValidationFailed):
        services.set_status(item, "cancelled", actor=approver)


def test_status_changes_of_a_published_item_are_recorded(unit, approver):
    item = services.create_item(unit, _input(), actor=approver)
    services.publish_item(item, actor=approver)
    services.set_status(item, "consulting", actor=approver, reason="征求意见稿已公开征求意见。")
    [change] = _changes(item)
    assert change.changes == {"status": ["planned", "consulting"]}
    assert change.reason == "征求意见稿已公开征求意见。"


def test_publish_items_publishes_one_units_year(make, unit, approver):
    year = clock.today().year
    a = make.catalogue_item(unit, year=year)
    b = make.catalogue_item(unit, year=year)
    next_year = make.catalogue_item(unit, year=year + 1)
    elsewhere = make.catalogue_item(make.unit(), year=year)
    published = services.publish_items(unit, year, actor=approver)
    assert set(published) == {a, b}
    assert next_year.published_at is None and elsewhere.published_at is None
    assert services.publish_items(unit, year, actor=approver) == []


def test_a_consultation_belongs_to_an_item_of_its_unit_or_a_unit_above_or_below(make):
    city = make.unit("市人民政府办公厅")
    bureau = make.unit("市市场监管局", parent=city)
    centre = make.unit("市知识产权保护中心", parent=bureau)
    sibling = make.unit("市人社局", parent=city)
    for owner in (bureau, city, centre):
        item = make.catalogue_item(owner)
        assert services.check_item_for_unit(item.id, bureau) is item
    with pytest.raises(ValidationFailed) as refused:
        services.check_item_for_unit(make.catalogue_item(sibling).id, bureau)
    assert "catalogue_item_id" in refused.value.fields
    with pytest.raises(ValidationFailed):
        services.check_item_for_unit(987654, bureau)
    assert services.check_item_for_unit(None, bureau) is None


def test_a_draft_links_only_to_an_item_of_a_related_unit(make, unit):
    editor = make.user("editor", unit)
    mine = make.catalogue_item(unit)
    theirs = make.catalogue_item(make.unit("市教育局"))
    today = clock.today()
    data = consultation_services.DraftInput(
        title="郑州市城市更新条例（征求意见稿）", type=ConsultationType.RULE, summary="摘要",
        explanation="", opens_on=today, closes_on=date.fromordinal(today.toordinal() + 40),
        text="第一条 内容。", catalogue_item_id=theirs.id,
    )
    with pytest.raises(ValidationFailed) as refused, db.session.begin_nested():
        consultation_services.create_draft(unit, data, actor=editor)
    assert "catalogue_item_id" in refused.value.fields
    data.catalogue_item_id = mine.id
    consultation = consultation_services.create_draft(unit, data, actor=editor)
    assert consultation.catalogue_item is mine
    assert mine.consultations == [consultation]


def test_link_and_unlink_are_audited(make, unit, approver):
    item = make.catalogue_item(unit)
    consultation = make.consultation("open", unit=unit)
    services.link_consultation(item, consultation, actor=approver)
    assert consultation.catalogue_item is item
    services.unlink_consultation(consultation, actor=approver)
    assert consultation.catalogue_item is None
    actions = [e.action for e in events_for(consultation)]
    assert actions == ["link_catalogue_item", "unlink_catalogue_item"]
    with pytest.raises(ValidationFailed):
        services.link_consultation(make.catalogue_item(make.unit()), consultation,
                                   actor=approver)


# --- who may do what (role × unit × published) ---------------------------------------------------


def test_policy_table(make):
    city = make.unit("市人民政府办公厅")
    bureau = make.unit("市市场监管局", parent=city)
    centre = make.unit("市知识产权保护中心", parent=bureau)
    other = make.unit("市人社局")
    editor, approver = make.user("editor", bureau), make.user("approver", bureau)
    stranger = make.user("approver", other)
    legal = make.user("legal_reviewer", make.unit("市司法局", is_legal_office=True))
    admin = make.user(None, admin=True)
    draft = make.catalogue_item(centre)
    public = make.catalogue_item(bureau, published=True)

    assert policy.can_manage(editor, draft) and policy.can_manage(approver, draft)
    assert not policy.can_manage(editor, public)  # published: approvers only
    assert policy.can_manage(approver, public) and policy.can_manage(admin, public)
    assert not policy.can_publish(editor, draft)
    assert policy.can_publish(approver, draft) and policy.can_publish(admin, draft)
    assert not policy.can_publish(approver, public)  # already published
    for outsider in (stranger, legal):
        assert not policy.can_view_staff(outsider, draft)
        assert not policy.can_manage(outsider, draft)
        assert not policy.can_publish(outsider, draft)
    assert not policy.can_manage(make.user("approver", centre), make.catalogue_item(bureau))
    assert policy.can_create(admin, other) and not policy.can_create(editor, other)
    assert policy.can_set_status(approver, public)
    public.status = CatalogueStatus.IMPLEMENTED
    assert not policy.can_set_status(approver, public)  # nowhere left to go
    seen = set(db.session.scalars(policy.staff_query(editor)))
    assert draft in seen and public in seen
    assert not set(db.session.scalars(policy.staff_query(stranger))) & {draft, public}
