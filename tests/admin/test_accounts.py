"""/admin: units, staff accounts and roles (F24), each change audited."""

from __future__ import annotations

import pytest

from consult.audit import AuditEvent
from consult.auth.models import Membership, Unit, User
from consult.extensions import db
from tests.conftest import csrf_from, last_link_to, mails_to
from tests.factories import PASSWORD


@pytest.fixture
def admin(make):
    return make.user(admin=True, email="office@example.org")


@pytest.fixture
def office(client_as, admin):
    return client_as(admin)


def post(client, url, data=None, page="/admin"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def actions(actor) -> list[str]:
    return db.session.scalars(db.select(AuditEvent.action)
                              .where(AuditEvent.actor_id == actor.id)
                              .order_by(AuditEvent.seq)).all()


def test_unit_staff_cannot_reach_the_administration(client_as, make, unit):
    approver = make.user("approver", unit)
    client = client_as(approver)
    for url in ("/admin", "/admin/units", "/admin/users", "/admin/settings", "/admin/audit",
                "/admin/audit.csv", f"/admin/units/{unit.id}"):
        assert client.get(url).status_code == 403, url
    assert client_as().get("/admin").status_code == 302


def test_units_and_their_hierarchy(office, admin):
    response = post(office, "/admin/units/new", {"name": "市数据局", "short_name": "数据局",
                                                 "parent_id": ""}, page="/admin/units/new")
    assert response.status_code == 303
    parent = db.session.scalar(db.select(Unit).where(Unit.name == "市数据局"))
    response = post(office, "/admin/units/new", {"name": "市数据中心", "parent_id": parent.id},
                    page="/admin/units/new")
    assert response.status_code == 303
    child = db.session.scalar(db.select(Unit).where(Unit.name == "市数据中心"))
    assert child.parent_id == parent.id
    html = office.get("/admin/units").get_data(as_text=True)
    assert html.index(">市数据局</a>") < html.index(">市数据中心</a>")
    # a unit cannot move under its own sub-unit (the choice is not even offered)
    response = post(office, f"/admin/units/{parent.id}", {"name": "市数据局",
                                                          "parent_id": child.id},
                    page=f"/admin/units/{parent.id}")
    assert response.status_code == 422
    assert db.session.get(Unit, parent.id).parent_id is None
    # names are unique
    response = post(office, "/admin/units/new", {"name": "市数据局", "parent_id": ""},
                    page="/admin/units/new")
    assert response.status_code == 422
    assert "已有名为" in response.get_data(as_text=True)
    assert actions(admin) == ["create_unit", "create_unit"]


def test_hostile_unit_names_are_escaped(office):
    post(office, "/admin/units/new", {"name": "<img src=x onerror=alert(1)>", "parent_id": ""},
         page="/admin/units/new")
    html = office.get("/admin/units").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_an_invitation_sets_a_password_once(client, office, admin, make, unit, post_form):
    response = post(office, "/admin/users/invite", {
        "email": " New.Editor@Example.org ", "name": "新编辑", "unit_id": unit.id,
        "role": "editor"}, page="/admin/users/invite")
    assert response.status_code == 303
    user = db.session.scalar(db.select(User).where(User.email == "new.editor@example.org"))
    assert [(m.unit_id, m.role) for m in user.memberships] == [(unit.id, "editor")]
    assert "invite_user" in actions(admin)
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "invite_user"))
    assert "new.editor" not in str(event.detail)  # ids, never personal data
    link = last_link_to("new.editor@example.org")
    assert link.startswith("/password/")
    # no usable password before the link is followed
    assert post_form(client, "/login", {"email": user.email, "password": ""}).status_code == 422
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    too_short = post_form(client, link, {"password": "short", "confirm": "short"})
    assert too_short.status_code == 422
    done = post_form(client, link, {"password": "a-long-enough-secret",
                                    "confirm": "a-long-enough-secret"})
    assert done.status_code == 303
    assert client.get(link).status_code == 400  # single use
    signed = post_form(client, "/login", {"email": user.email,
                                          "password": "a-long-enough-secret"})
    assert signed.status_code == 302


@pytest.mark.parametrize("data, field", [
    ({"email": "not-an-address", "name": "某人", "role": "editor"}, "email"),
    ({"email": "x@example.org", "name": "", "role": "editor"}, "name"),
    ({"email": "x@example.org", "name": "某人", "role": "king"}, "role"),
    ({"email": "office@example.org", "name": "某人", "role": "editor"}, "email"),  # taken
])
def test_bad_invitations_are_refused(office, unit, data, field):
    before = db.session.scalar(db.select(db.func.count(User.id)))
    response = post(office, "/admin/users/invite", {"unit_id": unit.id, **data},
                    page="/admin/users/invite")
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(User.id))) == before


def test_a_forged_csrf_token_changes_nothing(office, make, unit):
    editor = make.user("editor", unit)
    response = office.post(f"/admin/users/{editor.id}/deactivate", data={"csrf_token": "x"})
    assert response.status_code == 400
    assert db.session.get(User, editor.id).active


def test_deactivation_ends_sessions_and_reactivation_restores_the_account(
        app, office, admin, make, unit, post_form):
    editor = make.user("editor", unit, email="leaving@example.org")
    browser = app.test_client()
    assert post_form(browser, "/login", {"email": editor.email,
                                         "password": PASSWORD}).status_code == 302
    assert browser.get("/staff").status_code == 200
    response = post(office, f"/admin/users/{editor.id}/deactivate",
                    page=f"/admin/users/{editor.id}")
    assert response.status_code == 303
    assert browser.get("/staff").status_code == 302  # signed out at once
    assert post_form(browser, "/login", {"email": editor.email,
                                         "password": PASSWORD}).status_code == 422
    again = post(office, f"/admin/users/{editor.id}/deactivate",
                 page=f"/admin/users/{editor.id}")
    assert again.status_code == 409
    assert post(office, f"/admin/users/{editor.id}/reactivate",
                page=f"/admin/users/{editor.id}").status_code == 303
    assert post_form(browser, "/login", {"email": editor.email,
                                         "password": PASSWORD}).status_code == 302
    assert actions(admin)[-2:] == ["deactivate_user", "reactivate_user"]


def test_an_admin_cannot_lock_the_platform_out(office, admin):
    assert post(office, f"/admin/users/{admin.id}/deactivate",
                page=f"/admin/users/{admin.id}").status_code == 409
    assert db.session.get(User, admin.id).active


def test_roles_are_granted_and_taken_away(office, admin, make, unit):
    other = make.unit("市人社局")
    editor = make.user("editor", unit)
    page = f"/admin/users/{editor.id}"
    assert post(office, f"/admin/users/{editor.id}/roles",
                {"unit_id": other.id, "role": "approver"}, page=page).status_code == 303
    assert post(office, f"/admin/users/{editor.id}/roles",
                {"unit_id": other.id, "role": "approver"}, page=page).status_code == 409
    membership = db.session.scalar(db.select(Membership).where(
        Membership.user_id == editor.id, Membership.unit_id == other.id))
    assert post(office, f"/admin/users/{editor.id}/roles/{membership.id}/remove",
                page=page).status_code == 303
    assert [(m.unit_id, m.role) for m in db.session.get(User, editor.id).memberships] == \
        [(unit.id, "editor")]
    stranger = make.user("editor", unit)
    first = db.session.get(User, editor.id).memberships[0]
    assert post(office, f"/admin/users/{stranger.id}/roles/{first.id}/remove",
                page=page).status_code == 404  # another account's role
    assert actions(admin) == ["add_role", "remove_role"]


def test_a_password_reset_is_mailed(office, admin, make, unit):
    editor = make.user("editor", unit, email="forgot@example.org")
    assert post(office, f"/admin/users/{editor.id}/reset",
                page=f"/admin/users/{editor.id}").status_code == 303
    assert len(mails_to("forgot@example.org")) == 1
    assert "send_password_reset" in actions(admin)


def test_the_account_list_filters(office, make, unit):
    make.user("editor", unit, name="张三", email="zhang@example.org")
    html = office.get("/admin/users?q=zhang").get_data(as_text=True)
    assert "张三" in html
    assert "张三" not in office.get("/admin/users?q=nobody").get_data(as_text=True)
    assert office.get("/admin/users?status=bogus").status_code == 400
    assert office.get("/admin/users?page=abc").status_code == 400
    assert office.get("/admin/users?unit=99999999999").status_code == 400
