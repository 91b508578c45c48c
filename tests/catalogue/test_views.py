"""The catalogue through HTTP: the public list and item pages, and the units' workspace."""

from datetime import date
from urllib.parse import urlsplit

import pytest

from consult import clock
from consult.catalogue import services
from consult.catalogue.models import CatalogueChange, CatalogueItem, CatalogueStatus
from consult.extensions import db
from tests.conftest import csrf_from, table_counts

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def unit(make):
    return make.unit("市住房保障局")


@pytest.fixture
def editor(make, unit):
    return make.user("editor", unit, name="冯编辑")


@pytest.fixture
def approver(make, unit):
    return make.user("approver", unit, name="何审核")


@pytest.fixture
def renewal(make, unit):
    """A published item of this year with an open consultation and a draft one."""
    year = clock.today().year
    item = make.catalogue_item(
        unit, title="郑州市城市更新条例（草案）", status="consulting", published=True,
        legal_basis="《中华人民共和国城乡规划法》", methods=["online_comment", "hearing"],
        planned_start=date(year, 3, 1), planned_end=date(year, 10, 31),
    )
    make.consultation("open", unit=unit, title="城市更新条例（征求意见稿）", catalogue_item=item)
    make.consultation("draft", unit=unit, title="尚未公开的草稿", catalogue_item=item)
    return item


def _post(client, url, data=None):
    """POST with a CSRF token taken from the workspace page of the same session."""
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def _item_form(unit, **overrides):
    year = clock.today().year
    data = {
        "unit_id": unit.id, "year": year, "title": "郑州市停车设施管理办法",
        "legal_basis": "《中华人民共和国道路交通安全法》", "methods": ["online_comment", "survey"],
        "planned_start": f"{year}-04-01", "planned_end": f"{year}-09-30",
    }
    data.update(overrides)
    return data


# --- the public catalogue ------------------------------------------------------------------------


def test_the_catalogue_shows_this_years_published_items(client, make, unit, renewal):
    make.catalogue_item(unit, title="尚未公布的事项")
    make.catalogue_item(unit, title="去年的事项", year=clock.today().year - 1, published=True)
    response = client.get("/catalogue")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{clock.today().year} 年度公众参与重大行政决策事项目录" in html
    assert "郑州市城市更新条例（草案）" in html and renewal.code in html
    assert "市住房保障局" in html and "《中华人民共和国城乡规划法》" in html
    assert "网上征求意见、听证会" in html and "征求意见中" in html
    assert f"{clock.today().year}-03-01 至 {clock.today().year}-10-31" in html
    assert "城市更新条例（征求意见稿）" in html  # the public consultation is linked
    assert "尚未公开的草稿" not in html  # a draft is not
    assert "尚未公布的事项" not in html and "去年的事项" not in html
    assert 'href="/catalogue"' in client.get("/").get_data(as_text=True)  # in the main nav


@pytest.mark.parametrize("query, shown, hidden", [
    ("status=consulting", "郑州市城市更新条例（草案）", "郑州市住房租赁管理办法"),
    ("status=implemented", "郑州市住房租赁管理办法", "郑州市城市更新条例（草案）"),
    ("method=hearing", "郑州市城市更新条例（草案）", "郑州市住房租赁管理办法"),
    ("method=survey", "郑州市住房租赁管理办法", "郑州市城市更新条例（草案）"),
    ("method=online_comment&status=implemented", "郑州市住房租赁管理办法",
     "郑州市城市更新条例（草案）"),
])
def test_filters_by_status_and_method(client, make, unit, renewal, query, shown, hidden):
    make.catalogue_item(unit, title="郑州市住房租赁管理办法", status="implemented",
                        methods=["online_comment", "survey"], published=True)
    html = client.get(f"/catalogue?{query}").get_data(as_text=True)
    assert shown in html and hidden not in html


def test_filters_by_unit_and_year(client, make, renewal):
    other = make.unit("市人社局")
    make.catalogue_item(other, title="郑州市就业创业补贴实施办法", published=True)
    make.catalogue_item(other, title="明年的技能人才评价办法", published=True,
                        year=clock.today().year + 1)
    html = client.get(f"/catalogue?unit={other.id}").get_data(as_text=True)
    assert "郑州市就业创业补贴实施办法" in html and "郑州市城市更新条例（草案）" not in html
    assert "明年的技能人才评价办法" not in html
    html = client.get(f"/catalogue?year={clock.today().year + 1}").get_data(as_text=True)
    assert "明年的技能人才评价办法" in html and "郑州市就业创业补贴实施办法" not in html


@pytest.mark.parametrize("query", [
    "status=cancelled", "method=referendum", "year=abc", "year=1850", "unit=abc",
    "unit=987654", "page=0", "status=%3Cscript%3E",
])
def test_unknown_filter_values_are_a_bad_request(client, renewal, query):
    response = client.get(f"/catalogue?{query}")
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


def test_an_unpublished_or_unknown_item_is_not_found(client, make, unit):
    draft = make.catalogue_item(unit)
    assert client.get(f"/catalogue/{draft.id}").status_code == 404
    assert client.get("/catalogue/987654").status_code == 404


def test_the_item_page_links_its_public_consultations(client, renewal):
    html = client.get(f"/catalogue/{renewal.id}").get_data(as_text=True)
    assert "郑州市城市更新条例（草案）" in html and "听证会" in html
    assert "城市更新条例（征求意见稿）" in html and "尚未公开的草稿" not in html
    assert "公布后未作调整。" in html


def test_a_consultation_links_back_to_its_published_item(client, make, unit, renewal):
    consultation = next(c for c in renewal.consultations if c.title.startswith("城市更新"))
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "所属决策事项：" in html and f'href="/catalogue/{renewal.id}"' in html
    quiet = make.catalogue_item(unit, title="未公布事项的名称")
    other = make.consultation("open", unit=unit, catalogue_item=quiet)
    html = client.get(f"/consultations/{other.id}").get_data(as_text=True)
    assert "所属决策事项" not in html and "未公布事项的名称" not in html


def test_hostile_html_is_shown_escaped(client, client_as, make, unit, approver):
    item = make.catalogue_item(unit, title=HOSTILE, legal_basis=HOSTILE, published=True)
    services.update_item(item, services.ItemInput(
        year=item.year, title=HOSTILE, legal_basis="新的依据", methods=["hearing"]),
        actor=approver, reason=HOSTILE)
    for client_, path in ((client, "/catalogue"), (client, f"/catalogue/{item.id}"),
                          (client_as(approver), "/staff/catalogue"),
                          (client_as(approver), f"/staff/catalogue/{item.id}"),
                          (client_as(approver), f"/staff/catalogue/{item.id}/edit")):
        html = client_.get(path).get_data(as_text=True)
        assert HOSTILE not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


# --- the workspace -------------------------------------------------------------------------------


def test_an_editor_adds_an_item_which_stays_unpublished(client_as, post_form, editor, unit):
    client = client_as(editor)
    response = post_form(client, "/staff/catalogue/new", _item_form(unit))
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(db.select(CatalogueItem).where(
        CatalogueItem.title == "郑州市停车设施管理办法"))
    assert urlsplit(response.headers["Location"]).path == f"/staff/catalogue/{item.id}"
    assert item.unit_id == unit.id and item.methods == ["online_comment", "survey"]
    assert item.published_at is None and item.code == f"{clock.today().year}-001"
    html = client.get("/staff/catalogue").get_data(as_text=True)
    assert "郑州市停车设施管理办法" in html and "未公布" in html
    html = client.get(f"/staff/catalogue/{item.id}").get_data(as_text=True)
    assert "新增决策事项" in html and "冯编辑" in html  # the audit trail
    assert "/publish" not in html  # editors do not publish
    assert client.get(f"/catalogue/{item.id}").status_code == 404
    assert _post(client, f"/staff/catalogue/{item.id}/publish").status_code == 403


@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "请填写决策事项名称。"),
    ({"methods": []}, "请至少选择一种参与方式。"),
    ({"year": "明年"}, "请填写有效的年度。"),
    ({"planned_end": "2000-01-01"}, "计划完成时间不能早于计划开始时间。"),
    ({"methods": ["referendum"]}, "参与方式无效。"),
    ({"title": "长" * 301}, "300"),
])
def test_bad_input_re_renders_the_form_with_422(client_as, post_form, editor, unit, overrides,
                                                message):
    response = post_form(client_as(editor), "/staff/catalogue/new", _item_form(unit, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(CatalogueItem.id))) == 0


def test_approver_publishes_and_a_later_change_shows_publicly(client_as, post_form, client,
                                                              make, editor, approver, unit):
    item = make.catalogue_item(unit, title="郑州市停车设施管理办法", methods=["online_comment"])
    staff = client_as(approver)
    html = staff.get(f"/staff/catalogue/{item.id}").get_data(as_text=True)
    assert f"/staff/catalogue/{item.id}/publish" in html
    assert _post(staff, f"/staff/catalogue/{item.id}/publish").status_code == 302
    assert item.published_at is not None
    assert _post(staff, f"/staff/catalogue/{item.id}/publish").status_code == 409
    assert "郑州市停车设施管理办法" in client.get("/catalogue").get_data(as_text=True)

    # Once published, editors no longer change it; approvers must say why.
    assert client_as(editor).get(f"/staff/catalogue/{item.id}/edit").status_code == 403
    edit = f"/staff/catalogue/{item.id}/edit"
    data = _item_form(unit, methods=["online_comment", "hearing"])
    del data["unit_id"]
    response = post_form(staff, edit, {**data, "reason": ""})
    assert response.status_code == 422
    assert "须填写调整理由" in response.get_data(as_text=True)
    assert post_form(staff, edit, {**data, "reason": "涉及重大公共利益，增加听证会。"}
                     ).status_code == 302
    [change] = db.session.scalars(db.select(CatalogueChange)).all()
    assert change.changes["methods"] == [["online_comment"], ["online_comment", "hearing"]]

    html = client.get(f"/catalogue/{item.id}").get_data(as_text=True)
    assert "目录调整记录" in html and "涉及重大公共利益，增加听证会。" in html
    assert "<del>网上征求意见</del> → <ins>网上征求意见、听证会</ins>" in html
    html = client.get("/catalogue").get_data(as_text=True)
    assert "公布后调整 1 次" in html and "涉及重大公共利益，增加听证会。" in html


def test_status_moves_forward_and_never_back(client_as, client, make, approver, unit):
    item = make.catalogue_item(unit, published=True)
    staff = client_as(approver)
    url = f"/staff/catalogue/{item.id}/status"
    assert _post(staff, url, {"status": "consulting", "reason": "已公开征求意见。"}
                 ).status_code == 302
    assert item.status == CatalogueStatus.CONSULTING
    response = _post(staff, url, {"status": "planned"})
    assert response.status_code == 409
    assert "不能退回或跳过" in response.get_data(as_text=True)
    assert _post(staff, url, {"status": "implemented"}).status_code == 409
    assert _post(staff, url, {"status": "nonsense"}).status_code == 422
    assert item.status == CatalogueStatus.CONSULTING
    html = client.get(f"/catalogue/{item.id}").get_data(as_text=True)
    assert "<del>计划中</del> → <ins>征求意见中</ins>" in html and "已公开征求意见。" in html


def test_other_units_staff_get_403_on_every_manage_route(client_as, make, unit, approver):
    item = make.catalogue_item(unit, title="本单位的事项")
    stranger = client_as(make.user("approver", make.unit("市教育局")))
    rows = table_counts()
    for path in (f"/staff/catalogue/{item.id}", f"/staff/catalogue/{item.id}/edit"):
        assert stranger.get(path).status_code == 403, path
    for path, data in ((f"/staff/catalogue/{item.id}/edit", _item_form(unit)),
                       (f"/staff/catalogue/{item.id}/publish", {}),
                       (f"/staff/catalogue/{item.id}/status", {"status": "consulting"}),
                       ("/staff/catalogue/new", _item_form(unit))):
        assert _post(stranger, path, data).status_code == 403, path
    assert "本单位的事项" not in stranger.get("/staff/catalogue").get_data(as_text=True)
    assert item.published_at is None and item.status == CatalogueStatus.PLANNED
    assert db.session.scalar(db.select(db.func.count(CatalogueItem.id))) == 1
    assert table_counts() == rows



def test_a_parent_units_approver_and_the_platform_office_manage_child_items(client_as, make,
                                                                           unit):
    child = make.unit("市住房保障局直属中心", parent=unit)
    item = make.catalogue_item(child, title="下级单位的事项")
    parent_approver = client_as(make.user("approver", unit))
    assert "下级单位的事项" in parent_approver.get("/staff/catalogue").get_data(as_text=True)
    assert _post(parent_approver, f"/staff/catalogue/{item.id}/publish").status_code == 302
    admin = client_as(make.user(None, admin=True))
    assert "下级单位的事项" in admin.get("/staff/catalogue").get_data(as_text=True)
    assert _post(admin, f"/staff/catalogue/{item.id}/status",
                 {"status": "consulting"}).status_code == 302
    child_editor = client_as(make.user("editor", child))
    html = child_editor.get("/staff/catalogue/new").get_data(as_text=True)
    assert "市住房保障局直属中心" in html and f'value="{unit.id}"' not in html


def test_unknown_item_is_404_for_staff(client_as, approver):
    assert client_as(approver).get("/staff/catalogue/987654").status_code == 404


def test_forged_csrf_is_a_bad_request(client_as, make, approver, unit):
    item = make.catalogue_item(unit)
    client = client_as(approver)
    for path, data in (("/staff/catalogue/new", _item_form(unit)),
                       (f"/staff/catalogue/{item.id}/publish", {}),
                       (f"/staff/catalogue/{item.id}/status", {"status": "consulting"}),
                       (f"/staff/catalogue/{item.id}/edit", _item_form(unit))):
        for token in ({}, {"csrf_token": "forged"}):
            assert client.post(path, data={**data, **token}).status_code == 400, path
    assert item.published_at is None and item.status == CatalogueStatus.PLANNED


def test_the_dashboard_links_to_the_catalogue(client_as, editor):
    assert 'href="/staff/catalogue"' in client_as(editor).get("/staff").get_data(as_text=True)


# --- a draft chooses its catalogue item ------------------------------------------------------


def _draft_form(unit, **overrides):
    today = clock.today()
    data = {
        "unit_id": unit.id, "title": "郑州市城市更新条例（征求意见稿）", "type": "rule",
        "summary": "规范城市更新活动。", "explanation": "",
        "opens_on": today.isoformat(),
        "closes_on": date.fromordinal(today.toordinal() + 40).isoformat(),
        "short_window_reason": "", "text": "第一条 为了规范城市更新活动，制定本条例。",
    }
    data.update(overrides)
    return data


def test_the_draft_form_offers_the_units_items_and_refuses_others(client_as, post_form, make,
                                                                  editor, unit, renewal):
    foreign = make.catalogue_item(make.unit("市教育局"), title="别的单位的事项", published=True)
    client = client_as(editor)
    html = client.get("/staff/consultations/new").get_data(as_text=True)
    assert "所属决策事项" in html and renewal.title in html and "别的单位的事项" not in html
    response = post_form(client, "/staff/consultations/new",
                         _draft_form(unit, catalogue_item_id=foreign.id))
    assert response.status_code == 422
    assert "所选决策事项不属于本单位或其上下级单位的目录。" in response.get_data(as_text=True)
    response = post_form(client, "/staff/consultations/new",
                         _draft_form(unit, catalogue_item_id=renewal.id))
    assert response.status_code == 302
    consultation_id = int(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1])
    assert renewal.consultations[-1].id == consultation_id
    html = client.get(f"/staff/consultations/{consultation_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{renewal.id}">' in html or \
        f'value="{renewal.id}" selected' in html


# --- the demo data -----------------------------------------------------------------------------


def test_the_demo_catalogue_is_published_with_a_change_on_record(client):
    from consult.demo import load_demo

    load_demo()
    year = clock.today().year
    items = db.session.scalars(db.select(CatalogueItem).where(CatalogueItem.year == year)).all()
    assert len(items) >= 5 and all(i.published_at and i.code for i in items)
    assert {i.status for i in items} == set(CatalogueStatus)
    [revised] = [i for i in items if i.changes]
    assert "听证会" in revised.changes[0].reason
    html = client.get("/catalogue").get_data(as_text=True)
    assert all(i.title in html for i in items) and "公布后调整 1 次" in html
    html = client.get(f"/catalogue/{revised.id}").get_data(as_text=True)
    assert "<ins>网上征求意见、听证会、座谈会、专家论证</ins>" in html
    linked = [c for i in items for c in i.consultations]
    assert linked
    for consultation in linked:
        if consultation.state.value not in ("draft", "pending_approval"):
            html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
            assert f'href="/catalogue/{consultation.catalogue_item_id}"' in html
    body = client.get("/api/v1/catalogue?per_page=100").get_json()
    assert body["total"] == len(items)
    assert load_demo()["catalogue_changes"] == 0
