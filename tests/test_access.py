"""Every staff page refuses anonymous users, non-staff accounts and staff of other units.

The test walks `app.url_map`: a new `/staff` or `/admin` rule is checked automatically, and fails
the suite until its path parameters are mapped below to an object of unit A. Every `/admin` page
is the platform office's alone: unit staff, even of unit A, get 403 there.
"""

from __future__ import annotations

import io
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import current_app
from werkzeug.datastructures import FileStorage

from consult import clock, uploads
from consult.answers import bulk as answer_bulk
from consult.answers import groups as answer_groups
from consult.answers import topics as answer_topics
from consult.answers.clustering import FoundTopic
from consult.answers.models import AnswerSheetImport, DispositionCode
from consult.apitokens import services as api_tokens
from consult.audit import AuditEvent
from consult.extensions import db
from consult.hearings import services as hearing_services
from consult.jobs import queue as jobs_queue
from consult.jobs.models import JobStatus
from consult.policies import services as policy_services
from consult.policies.models import InterpretationKind
from tests.conftest import csrf_from, table_counts

IGNORED_METHODS = {"HEAD", "OPTIONS"}

# Path parameter -> the object of unit A it names.
PARAMS = {
    "consultation_id": lambda w: w.draft.id,
    "comment_id": lambda w: w.comment.id,
    "attachment_id": lambda w: w.attachment.id,
    "policy_id": lambda w: w.policy.id,
    "interpretation_id": lambda w: w.interpretation.id,
    "item_id": lambda w: w.item.id,
    "hearing_id": lambda w: w.hearing.id,
    "participant_id": lambda w: w.participant.id,
    "group_id": lambda w: w.group.id,
    "template_id": lambda w: w.template.id,
    "import_id": lambda w: w.sheet_import.id,
    "job_id": lambda w: w.job.id,
    "token_id": lambda w: w.token.id,
    "unit_id": lambda w: w.unit_a.id,
    "user_id": lambda w: w.approver_a.id,
    "membership_id": lambda w: w.approver_a.memberships[0].id,
    "topic_id": lambda w: w.topic.id,
}
# Rules where a parameter names a different object than PARAMS says: (endpoint, name) -> object.
RULE_PARAMS = {
    ("consultations.manage_attachment", "attachment_id"): lambda w: w.draft_file.id,
    ("consultations.manage_remove_attachment", "attachment_id"): lambda w: w.draft_file.id,
}

# Staff pages about no object: any staff member may open them, and they show only the user's
# units. A POST naming unit A must still be refused to a stranger.
NO_OBJECT = {"consultations.dashboard", "consultations.manage_new", "catalogue.manage_index",
             "catalogue.manage_new", "comments.manage_moderation_index",
             "consultations.manage_import", "consultations.manage_import_save",
             "consultations.manage_legal_queue", "jobs.manage_index",
             "oversight.manage_reminders", "oversight.manage_switch_reminder",
             "policies.manage_standalone_new", "apitokens.manage_tokens"}
# Staff pages about no object that only platform admins may open (403 to every unit's staff).
ADMIN_ONLY = {"security.manage_logins", "security.manage_clear_logins"}

# Everything a staff form may ask for, valid, so that a missing check would let the action through.
FORM = {
    "title": "越权测试", "type": "other", "summary": "摘要", "explanation": "",
    "short_window_reason": "理由", "text": "第一条 内容。", "code": "adopted", "reason": "理由",
    "return-reason": "理由", "withdraw-reason": "理由", "document_number": "测〔2025〕1号",
    "kind": "text", "body": "解读", "methods": "online_comment", "status": "consulting",
    "extend-closes_on": "2099-12-31", "extend-reason": "理由", "legal-decision": "approved",
    "legal-opinion": "同意", "changelog": "修改说明",
}


def staff_rules():
    return sorted(
        (r for r in current_app.url_map.iter_rules()
         if r.rule.startswith("/staff") or is_admin_rule(r)),
        key=lambda r: r.rule,
    )


def is_admin_rule(rule) -> bool:
    """The platform office's administration (F24): admins only, whatever the unit."""
    return rule.rule == "/admin" or rule.rule.startswith(("/admin/", "/admin."))


def admin_only(rule) -> bool:
    return rule.endpoint in ADMIN_ONLY or is_admin_rule(rule)


def requests_for(world):
    """(method, url, rule) for every method of every /staff rule, filled with unit A's objects."""
    out = []
    for rule in staff_rules():
        missing = set(rule.arguments) - set(PARAMS)
        assert not missing, f"{rule.rule}: map {sorted(missing)} in PARAMS"
        values = {name: RULE_PARAMS.get((rule.endpoint, name), PARAMS[name])(world)
                  for name in rule.arguments}
        _, path = rule.build(values)
        for method in sorted(rule.methods - IGNORED_METHODS):
            out.append((method, path, rule))
    return out


@pytest.fixture
def world(make):
    unit_a = make.unit("甲单位")
    unit_b = make.unit("乙单位")
    approver_a = make.user("approver", unit_a)
    draft = make.consultation("draft", unit=unit_a, title="甲单位的草稿")
    closed = make.consultation("closed", unit=unit_a, title="甲单位已截止的征集")
    # Awaits the legal review: the legal queue of unit B's staff must not show it.
    make.consultation("closed", unit=unit_a, type="rule", title="甲单位待合法性审核的规章")
    comment = make.comment(closed, article=1, email="private@example.org")
    attachment = uploads.store(  # the author's private file on that comment
        FileStorage(io.BytesIO(b"%PDF-1.4 private"), filename="letter.pdf"), owner=comment,
        allowed={"pdf"}, public=False)
    hearing = hearing_services.create_hearing(closed, hearing_services.HearingInput(
        kind="hearing", title="甲单位的听证会", held_at=clock.now(), place="甲单位会议室"),
        actor=approver_a)
    participant = hearing_services.add_participant(
        hearing, name="甲单位的参加人", affiliation=None, category="individual", actor=approver_a)
    draft_file = uploads.store(  # a file attached to the draft
        FileStorage(io.BytesIO(b"%PDF-1.4 draft"), filename="annex.pdf"), owner=draft,
        allowed={"pdf"})
    letters = [make.comment(closed, body="甲单位的意见书") for _ in range(2)]
    group = answer_groups.group_comments(closed, letters, actor=approver_a)  # answered as one
    template = answer_bulk.add_reason_template(
        closed, title="甲单位的模板", code=DispositionCode.NOT_ADOPTED, text="甲单位的理由",
        actor=approver_a)
    sheet_import = AnswerSheetImport(consultation=closed, filename="甲单位的答复表.xlsx", rows=[])
    db.session.add(sheet_import)
    reported = make.consultation("report_published", unit=unit_a, title="甲单位已反馈的征集")
    policy = policy_services.create_policy(reported, policy_services.PolicyInput(
        title="甲单位的正式文件", document_number="甲〔2025〕1号", issued_on=clock.today(),
        effective_on=None, text="正文"), actor=approver_a)
    interpretation = policy_services.add_interpretation(
        policy, title="甲单位的解读", kind=InterpretationKind.TEXT, body="解读", actor=approver_a)
    points = [make.comment(closed, body="甲单位的主题意见") for _ in range(2)]
    topic = answer_topics.store_topics(closed, [FoundTopic(
        label="甲单位的主题", members=[(c.id, 1.0) for c in points])], actor=approver_a)[0]
    # A failed job of unit A (its retry is a POST that must be refused to strangers).
    job = jobs_queue.enqueue("suggest_groups", {}, actor=approver_a, consultation=closed)
    job.status, job.last_error, job.active_key = JobStatus.FAILED, "甲单位的任务失败", None
    token, _plaintext = api_tokens.create_token(
        user=approver_a, unit=unit_a, name="甲单位的系统", scopes=["drafts"], expires_in_days=30,
        actor=approver_a)
    db.session.flush()
    return SimpleNamespace(
        unit_a=unit_a, unit_b=unit_b, approver_a=approver_a, draft=draft, closed=closed,
        comment=comment, attachment=attachment, draft_file=draft_file, policy=policy,
        interpretation=interpretation,
        hearing=hearing, participant=participant, group=group, template=template,
        sheet_import=sheet_import, job=job, topic=topic, token=token,
        item=make.catalogue_item(unit_a, title="甲单位的决策事项"),
        stranger=make.user("approver", unit_b), nobody=make.user(role=None),
        admin=make.user(admin=True),
    )


def _form(world):
    today = clock.today().isoformat()
    return {**FORM, "unit_id": world.unit_a.id, "opens_on": today, "closes_on": "2099-12-31",
            "issued_on": today, "effective_on": "", "year": clock.today().year}


def _send(client, method, url, token, data):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token, **data})


def _audit_count() -> int:
    return db.session.scalar(db.select(db.func.count(AuditEvent.id)))


def test_every_staff_rule_is_mapped(app):
    """A new /staff rule must be added here, so that the checks below cannot forget it."""
    rules = staff_rules()
    assert rules, "no /staff rules at all?"
    unmapped = [r.rule for r in rules if set(r.arguments) - set(PARAMS)]
    assert not unmapped, f"map these path parameters in PARAMS: {unmapped}"
    objectless = {r.endpoint for r in rules if not r.arguments and not is_admin_rule(r)}
    decided = NO_OBJECT | ADMIN_ONLY
    assert objectless == decided, f"decide who may open these: {objectless ^ decided}"


def test_anonymous_users_are_sent_to_login(client, world):
    # A valid CSRF token from this session, so that authentication is what refuses.
    token = csrf_from(client.get("/login").get_data(as_text=True))
    before = _audit_count()
    rows = table_counts()
    failures = []
    for method, url, _rule in requests_for(world):
        response = _send(client, method, url, token, _form(world))
        location = urlsplit(response.headers.get("Location", ""))
        if response.status_code != 302 or location.path != "/login":
            failures.append((method, url, response.status_code, response.headers.get("Location")))
    assert not failures
    assert _audit_count() == before, "a refused request changed something"
    assert table_counts() == rows


def test_staff_of_another_unit_get_403_everywhere(client_as, world):
    client = client_as(world.stranger)
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    rows = table_counts()
    failures = []
    for method, url, rule in requests_for(world):
        response = _send(client, method, url, token, _form(world))
        html = response.get_data(as_text=True)
        if rule.endpoint in NO_OBJECT and method == "GET":
            # Their own workspace: nothing of unit A shows, and unit A is not offered.
            if response.status_code != 200 or "甲单位" in html:
                failures.append((method, url, response.status_code, "shows unit A"))
        elif response.status_code != 403:
            failures.append((method, url, response.status_code))
    assert not failures
    assert not db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.actor_id == world.stranger.id)
    ), "a refused request changed something"
    assert world.comment.disposition is None
    assert world.policy.published_at is None
    assert table_counts() == rows
    assert world.draft.state == "draft" and world.draft.title == "甲单位的草稿"
    assert world.item.published_at is None and world.item.title == "甲单位的决策事项"


def test_signed_in_users_without_a_staff_role_get_403_everywhere(client_as, world):
    client = client_as(world.nobody)
    # Any page carries a token for a signed-in user: the logout form in the header.
    token = csrf_from(client.get("/").get_data(as_text=True))
    rows = table_counts()
    failures = []
    for method, url, _rule in requests_for(world):
        response = _send(client, method, url, token, _form(world))
        if response.status_code != 403:
            failures.append((method, url, response.status_code))
    assert not failures
    assert table_counts() == rows, "a refused request changed something"
    assert world.comment.disposition is None and world.policy.published_at is None


def test_unit_a_approver_can_open_every_staff_page(client_as, world):
    """The control: the same URLs are real pages for the unit that owns the objects."""
    client = client_as(world.approver_a)
    admin = client_as(world.admin)
    failures = []
    for method, url, rule in requests_for(world):
        if method != "GET":
            continue
        if admin_only(rule):
            refused, allowed = client.get(url), admin.get(url)
            allowed.close()
            if refused.status_code != 403 or allowed.status_code != 200:
                failures.append((url, "admin only", refused.status_code, allowed.status_code))
            continue
        response = client.get(url)
        response.close()  # file downloads stream from disk
        if response.status_code != 200:
            failures.append((url, response.status_code))
    assert not failures


def test_a_parent_units_staff_reach_child_units_but_not_the_reverse(client_as, make):
    parent = make.unit("上级单位")
    child = make.unit("下级单位", parent=parent)
    up = make.user("editor", parent)
    down = make.user("editor", child)
    mine = make.consultation("draft", unit=child)
    theirs = make.consultation("draft", unit=parent)
    assert client_as(up).get(f"/staff/consultations/{mine.id}").status_code == 200
    assert client_as(down).get(f"/staff/consultations/{theirs.id}").status_code == 403
    html = client_as(up).get("/staff/consultations/new").get_data(as_text=True)
    assert "上级单位" in html and "下级单位" in html
    html = client_as(down).get("/staff/consultations/new").get_data(as_text=True)
    assert "上级单位" not in html


def test_the_administration_is_walked(app):
    """/admin is part of the walk: units, accounts, API tokens, settings and the audit log."""
    admin = {r.endpoint for r in staff_rules() if is_admin_rule(r)}
    assert {"admin.index", "admin.units", "admin.unit_edit", "admin.users", "admin.user_detail",
            "admin.user_deactivate", "admin.api_tokens", "admin.api_token_revoke",
            "admin.settings_page", "admin.audit_index", "admin.audit_csv"} <= admin
