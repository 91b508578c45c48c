"""Final policies and interpretations, linked to the draft they came from (F16–F18)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock
from consult.auth.models import User
from consult.consultations import legal
from consult.consultations.models import Consultation, State
from consult.consultations.services import transition
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.policies.models import Interpretation, InterpretationKind, Policy

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "link_policy": _l("正式文件出台"),
    "create_policy": _l("起草正式文件"),
    "edit_policy": _l("修改正式文件"),
    "publish_policy": _l("发布正式文件"),
    "add_interpretation": _l("添加政策解读"),
    "publish_interpretation": _l("发布政策解读"),
})


@dataclass
class PolicyInput:
    title: str
    document_number: str
    issued_on: date
    effective_on: date | None
    text: str


def _check(data: PolicyInput) -> None:
    if data.effective_on and data.effective_on < data.issued_on:
        message = _("施行日期不能早于印发日期。")
        raise ValidationFailed(message, fields={"effective_on": message})


def _apply(policy: Policy, data: PolicyInput) -> None:
    _check(data)
    policy.title = data.title.strip()
    policy.document_number = data.document_number.strip()
    policy.issued_on = data.issued_on
    policy.effective_on = data.effective_on
    policy.text = data.text.strip()


def create_policy(consultation: Consultation, data: PolicyInput, *, actor: User) -> Policy:
    """Draft the final policy of a closed consultation (published later by an approver)."""
    if consultation.policy is not None:
        raise Conflict(_("该意见征集已关联正式文件。"), code="policy_exists")
    if consultation.status not in (State.CLOSED, State.REPORT_PUBLISHED):
        raise InvalidTransition(_("征求意见结束后才能关联正式文件。"))
    legal.require_sign_off(consultation)  # rules and major decisions: 合法性审核 first (409)
    _check(data)
    policy = Policy(
        consultation=consultation, unit_id=consultation.unit_id, created_by_id=actor.id
    )
    _apply(policy, data)
    db.session.add(policy)
    audit.record(actor, "create_policy", policy)
    return policy


def update_policy(policy: Policy, data: PolicyInput, *, actor: User) -> Policy:
    if policy.published_at is not None:
        raise Conflict(_("已发布的正式文件不能修改。"), code="policy_published")
    _apply(policy, data)
    audit.record(actor, "edit_policy", policy)
    return policy


def publish_policy(policy: Policy, *, actor: User) -> Policy:
    """Publish the policy with its interpretations (三同步); the draft becomes policy_issued."""
    if policy.published_at is not None:
        raise Conflict(_("该正式文件已发布。"), code="policy_published")
    if policy.consultation is not None:
        legal.require_sign_off(policy.consultation)
        transition(policy.consultation, "link_policy", actor=actor)
    now = clock.now()
    policy.published_at = now
    policy.published_by_id = actor.id
    for interpretation in policy.interpretations:
        if interpretation.published_at is None:
            interpretation.published_at = now
    audit.record(actor, "publish_policy", policy,
                 detail={"interpretations": len(policy.interpretations)})
    return policy


def add_interpretation(policy: Policy, *, title: str, kind: InterpretationKind, body: str,
                       actor: User, publish: bool = False) -> Interpretation:
    """Add an interpretation; it is published with the policy, or at once if asked and allowed."""
    interpretation = Interpretation(
        policy=policy, title=title.strip(), kind=kind, body=body.strip(), created_by_id=actor.id,
    )
    db.session.add(interpretation)
    if publish and policy.published_at is not None:
        interpretation.published_at = clock.now()
    audit.record(actor, "add_interpretation", interpretation, unit_id=policy.unit_id)
    return interpretation


def publish_interpretation(interpretation: Interpretation, *, actor: User) -> Interpretation:
    if interpretation.policy.published_at is None:
        raise InvalidTransition(_("解读随正式文件一同发布。"))
    if interpretation.published_at is not None:
        raise Conflict(_("该解读已发布。"), code="interpretation_published")
    interpretation.published_at = clock.now()
    audit.record(actor, "publish_interpretation", interpretation,
                 unit_id=interpretation.policy.unit_id)
    return interpretation


def policy_flags(policy: Policy) -> dict[str, bool]:
    """Public warnings: linked before the report; interpretation pending (三同步, SPEC §6)."""
    consultation = policy.consultation
    return {
        "before_report": consultation is not None and not consultation.report_published,
        "interpretation_pending": not any(i.published_at for i in policy.interpretations),
    }
