"""The one table of roles: who may do what, in which unit (SPEC §2), without HTTP."""

import pytest

from consult.consultations import policy
from consult.permissions import ROLE_PERMISSIONS, Perm, has_permission, is_staff, unit_ids_with


@pytest.fixture
def units(make):
    city = make.unit("市人民政府办公厅")
    bureau = make.unit("市市场监管局", parent=city)
    centre = make.unit("市知识产权保护中心", parent=bureau)
    other = make.unit("市人社局", parent=city)
    return city, bureau, centre, other


@pytest.mark.parametrize("role, perm, allowed", [
    ("editor", Perm.EDIT_DRAFT, True), ("editor", Perm.ANSWER, True),
    ("editor", Perm.APPROVE, False), ("editor", Perm.PUBLISH_REPORT, False),
    ("approver", Perm.EDIT_DRAFT, True), ("approver", Perm.APPROVE, True),
    ("approver", Perm.PUBLISH_REPORT, True), ("approver", Perm.PUBLISH_POLICY, True),
    ("approver", Perm.WITHDRAW, True), ("legal_reviewer", Perm.EDIT_DRAFT, False),
    ("legal_reviewer", Perm.LEGAL_REVIEW, True), ("approver", Perm.ADMINISTER, False),
])
def test_role_table(make, units, role, perm, allowed):
    _, bureau, _, _ = units
    user = make.user(role, bureau)
    assert has_permission(user, perm, bureau) is allowed


def test_a_role_holds_in_units_below_but_not_above_or_beside(make, units):
    city, bureau, centre, other = units
    approver = make.user("approver", bureau)
    assert has_permission(approver, Perm.APPROVE, centre)
    assert not has_permission(approver, Perm.APPROVE, city)
    assert not has_permission(approver, Perm.APPROVE, other)
    assert unit_ids_with(approver, Perm.APPROVE) == {bureau.id, centre.id}


def test_legal_review_holds_for_every_unit(make, units):
    city, bureau, _, other = units
    legal = make.user("legal_reviewer", make.unit("市司法局", is_legal_office=True))
    assert has_permission(legal, Perm.LEGAL_REVIEW, other)
    assert not has_permission(legal, Perm.VIEW_STAFF, other)


def test_admin_administers_without_a_unit(make):
    admin = make.user(None, admin=True)
    assert has_permission(admin, Perm.ADMINISTER) and is_staff(admin)
    assert not has_permission(admin, Perm.APPROVE, make.unit())


def test_inactive_and_anonymous_users_hold_nothing(make, units):
    _, bureau, _, _ = units
    user = make.user("approver", bureau)
    user.active = False
    assert not has_permission(user, Perm.APPROVE, bureau)
    assert not has_permission(None, Perm.VIEW_STAFF, bureau)


def test_every_role_has_an_entry():
    from consult.auth.models import Role

    assert set(ROLE_PERMISSIONS) == set(Role)


def test_staff_query_is_scoped_to_the_users_units(make, units):
    from consult.extensions import db

    _, bureau, centre, other = units
    mine = make.consultation("open", unit=centre)
    theirs = make.consultation("open", unit=other)
    editor = make.user("editor", bureau)
    seen = db.session.scalars(policy.staff_query(editor)).all()
    assert mine in seen and theirs not in seen


@pytest.mark.parametrize("status, can", [
    ("draft", False), ("pending_approval", True), ("open", False), ("closed", False),
])
def test_approve_depends_on_state(make, units, status, can):
    _, bureau, _, _ = units
    approver = make.user("approver", bureau)
    c = make.consultation(status, unit=bureau)
    assert policy.can_approve(approver, c) is can


def test_the_submitter_cannot_approve(make, units):
    _, bureau, _, _ = units
    approver = make.user("approver", bureau)
    c = make.consultation("pending_approval", unit=bureau, submitted_by_id=approver.id)
    assert not policy.can_approve(approver, c)
    assert policy.can_approve(make.user("approver", bureau), c)
