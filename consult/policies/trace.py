"""What the public may follow from a page (F18): the draft, its adoption report, the final policy
and its interpretations, linked both ways. A read model above the domains it reads."""

from __future__ import annotations

from consult.answers.services import published_report
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.consultations.windows import report_due_on
from consult.policies.models import Policy
from consult.policies.services import policy_flags


def trace_of(consultation: Consultation | None, policy: Policy | None = None) -> dict:
    """The public links of a consultation (or of a policy): draft, report, policy, interpretations,
    and the policy's public warnings."""
    if consultation is not None and not is_public(consultation):
        consultation = None
    if policy is None and consultation is not None:
        policy = consultation.policy
    if policy is not None and policy.published_at is None:
        policy = None
    report = published_report(consultation) if consultation is not None else None
    return {
        # When the report is due, while it is awaited (the outcome banner, the receipt).
        "report_due_on": report_due_on(consultation.closes_at)
        if consultation is not None and report is None else None,
        "consultation": consultation,
        "report": report,
        "policy": policy,
        "interpretations": [i for i in policy.interpretations if i.published_at]
        if policy else [],
        "flags": policy_flags(policy) if policy else {},
    }
