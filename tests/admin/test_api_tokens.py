"""/admin/api-tokens (F24): the platform office lists every unit's API tokens, issues one for
any unit (shown once) and revokes any, through the token service; each action audited; unit
staff — even the approvers who manage their own unit's tokens at /staff/api-tokens — get 403."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from consult import clock
from consult.apitokens import services as tokens
from consult.apitokens.models import ApiToken
from consult.audit import AuditEvent
from consult.extensions import db
from tests.conftest import csrf_from

PAGE = "/admin/api-tokens"
PLAINTEXT = re.compile(r"cst_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def admin(make):
    return make.user(admin=True, email="office@example.org")


@pytest.fixture
def office(client_as, admin):
    return client_as(admin)


@pytest.fixture
def other_unit(make):
    return make.unit("市大数据局")


@pytest.fixture
def other_editor(make, other_unit):
    return make.user("editor", other_unit, email="data.editor@example.org")


def post(client, url, data=None, page=PAGE):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def issue(client, unit, **changes):
    data = {"name": "市民App", "unit_id": unit.id, "email": "data.editor@example.org",
            "scopes": ["drafts", "comments"], "expires_in_days": "90", **changes}
    return post(client, PAGE, data)


def audit_rows(action: str) -> list[AuditEvent]:
    return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).all()


def draft_body():
    today = clock.today()
    return {"title": "接口创建的办法", "type": "normative_document", "summary": "摘要",
            "explanation": "说明", "opens_on": (today + timedelta(days=1)).isoformat(),
            "closes_on": (today + timedelta(days=40)).isoformat(),
            "text": "第一条 为了规范管理，制定本办法。"}


def test_the_office_issues_a_token_for_any_unit_shown_once(client, office, admin, other_unit,
                                                             other_editor):
    response = issue(office, other_unit)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    plaintext = PLAINTEXT.search(html).group(0)
    assert "只显示这一次" in html
    token = db.session.scalar(db.select(ApiToken))
    assert (token.unit, token.user, token.name, token.scopes, token.created_by_id) == (
        other_unit, other_editor, "市民App", ["comments", "drafts"], admin.id)
    assert (token.expires_at - token.created_at).days == 90
    [row] = audit_rows("api_token_create")
    assert row.actor_id == admin.id and row.unit_id == other_unit.id
    # The token works for its unit through the write API.
    created = client.post("/api/v1/consultations", json=draft_body(),
                          headers={"Authorization": f"Bearer {plaintext}"})
    assert created.status_code == 201, created.get_json()
    # The list: unit, purpose, user, scopes, creator, last use; the plaintext never again.
    listing = office.get(PAGE).get_data(as_text=True)
    assert plaintext not in listing and token.prefix in listing
    for shown in ("市大数据局", "市民App", other_editor.name, "data.editor@example.org",
                  "草稿：创建、修改、提交、审核", "登记其他渠道收到的意见", admin.name, "有效"):
        assert shown in listing, shown
    assert "从未使用" not in listing  # it has been used


def test_the_office_revokes_any_units_token(client, office, admin, make, unit, approver):
    token, plaintext = tokens.create_token(user=approver, unit=unit, name="OA系统",
                                           scopes=["drafts"], expires_in_days=30,
                                           actor=approver)
    db.session.flush()
    response = post(office, f"{PAGE}/{token.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    assert token.revoked_at is not None and token.revoked_by_id == admin.id
    [row] = audit_rows("api_token_revoke")
    assert row.actor_id == admin.id and row.object_id == token.id
    refused = client.post("/api/v1/consultations", json=draft_body(),
                          headers={"Authorization": f"Bearer {plaintext}"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"
    html = office.get(PAGE).get_data(as_text=True)
    assert "吊销" in html and f"{PAGE}/{token.id}/revoke" not in html
    # Again: nothing more happens, and nothing more is audited.
    again = post(office, f"{PAGE}/{token.id}/revoke")
    assert again.status_code == 303
    assert len(audit_rows("api_token_revoke")) == 1
    # Without a CSRF token, or for an unknown token: refused.
    assert office.post(f"{PAGE}/{token.id}/revoke").status_code == 400
    assert post(office, f"{PAGE}/999999/revoke").status_code == 404


@pytest.mark.parametrize("changes, message", [
    ({"email": "nobody@example.org"}, "没有这个邮箱的工作人员账号"),
    ({"email": "approver.of.another@example.org"}, "令牌的使用人须是该单位的在职工作人员"),
    ({"scopes": []}, "请至少选择一项权限范围"),
    ({"scopes": ["drafts", "everything"]}, "everything"),
    ({"expires_in_days": "0"}, "有效期（天）"),
    ({"expires_in_days": "731"}, "有效期（天）"),
    ({"expires_in_days": "一年"}, "有效期（天）"),
    ({"name": "  "}, "请填写用途"),
    ({"name": "用" * 101}, "用途"),
    ({"unit_id": "999999"}, "单位"),
    ({"unit_id": ""}, "请选择单位"),
])
def test_bad_tokens_are_refused_with_the_field(office, make, unit, other_unit, other_editor,
                                               changes, message):
    make.user("approver", unit, email="approver.of.another@example.org")
    before = len(audit_rows("api_token_create"))
    response = issue(office, other_unit, **changes)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    start = html.index('id="error-summary"')
    summary = html[start:html.index("</div>", start)]
    assert message in summary, summary
    assert not PLAINTEXT.search(html)
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0
    assert len(audit_rows("api_token_create")) == before


def test_a_deactivated_user_gets_no_token(office, other_unit, other_editor):
    other_editor.active = False
    db.session.flush()
    response = issue(office, other_unit)
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_the_list_filters_by_unit_and_status(office, admin, make, unit, approver, other_unit,
                                             other_editor, travel):
    mine, _ = tokens.create_token(user=approver, unit=unit, name="甲系统", scopes=["drafts"],
                                  expires_in_days=30, actor=admin)
    theirs, _ = tokens.create_token(user=other_editor, unit=other_unit, name="乙系统",
                                    scopes=["answers"], expires_in_days=5, actor=admin)
    gone, _ = tokens.create_token(user=other_editor, unit=other_unit, name="丙系统",
                                  scopes=["answers"], expires_in_days=None, actor=admin)
    tokens.revoke_token(gone, actor=admin)
    db.session.flush()
    travel(10)  # 乙系统 has expired

    def names(**args) -> set[str]:
        html = office.get(PAGE, query_string=args).get_data(as_text=True)
        return {n for n in ("甲系统", "乙系统", "丙系统") if n in html}

    assert names() == {"甲系统", "乙系统", "丙系统"}
    assert names(unit=other_unit.id) == {"乙系统", "丙系统"}
    assert names(status="active") == {"甲系统"}
    assert names(status="expired") == {"乙系统"}
    assert names(status="revoked") == {"丙系统"}
    assert names(unit=unit.id, status="revoked") == set()
    assert office.get(PAGE, query_string={"status": "lost"}).status_code == 400
    assert office.get(PAGE, query_string={"unit": "x"}).status_code == 400


def test_hostile_token_names_are_escaped(office, admin, other_unit, other_editor):
    tokens.create_token(user=other_editor, unit=other_unit, name="<script>alert(1)</script>",
                        scopes=["drafts"], expires_in_days=30, actor=admin)
    db.session.flush()
    html = office.get(PAGE).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_unit_staff_cannot_reach_it_even_those_who_manage_their_units_tokens(
        client_as, make, unit, approver, editor, other_unit, other_editor):
    token, _ = tokens.create_token(user=approver, unit=unit, name="OA系统", scopes=["drafts"],
                                   expires_in_days=30, actor=approver)
    db.session.flush()
    for user in (approver, editor):
        client = client_as(user)
        assert client.get("/staff/api-tokens").status_code == (200 if user is approver
                                                                else 403)
        csrf = csrf_from(client.get("/staff").get_data(as_text=True))
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, data={
            "csrf_token": csrf, "name": "越权", "unit_id": other_unit.id,
            "email": "data.editor@example.org", "scopes": ["drafts"]}).status_code == 403
        assert client.post(f"{PAGE}/{token.id}/revoke",
                           data={"csrf_token": csrf}).status_code == 403
    assert client_as().get(PAGE).status_code == 302
    assert token.revoked_at is None
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 1


def test_the_administration_links_to_it(office):
    html = office.get("/admin").get_data(as_text=True)
    assert f'href="{PAGE}"' in html and "接口令牌" in html
    assert f'href="{PAGE}?status=active"' in html
