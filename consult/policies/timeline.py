"""One dated timeline of a decision (F18), the same on the consultation, report and policy
pages: catalogue item, published, extended, versions, closed, legal review, report, policy
issued, interpretations, and later changes in the policy's validity — oldest first.

Only what the public may see: a catalogue item once the catalogue is published, a
consultation once public, a report once published, a policy and its interpretations once
published. Time-driven steps (opened, closed) are read off the window and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from flask_babel import gettext as _

from consult import clock
from consult.answers.services import published_report
from consult.consultations.legal import requires_review
from consult.consultations.models import Consultation, LegalDecision
from consult.consultations.policy import is_public
from consult.consultations.versions import SECOND_ROUND_REASON
from consult.labels import label
from consult.policies.models import ChangeKind, Policy

# Order of events on one day: the steps of the chain as they happen.
KINDS = ("catalogue", "published", "opened", "extended", "version", "closed", "legal_review",
         "report", "policy", "interpretation", "validity")


@dataclass
class Event:
    on: date
    kind: str
    text: str
    url: str | None = None
    future: bool = False  # dated later than today (a window still open, a change to come)

    @property
    def order(self) -> tuple:
        return (self.on, KINDS.index(self.kind))


def _day(moment: datetime | date) -> date:
    return clock.local_date(moment) if isinstance(moment, datetime) else moment


def timeline_of(consultation: Consultation | None, policy: Policy | None = None) -> list[Event]:
    """The public events of a consultation and of its (or a given) policy, oldest first."""
    today = clock.today()
    events: list[Event] = []

    def add(moment, kind, text, url=None):
        day = _day(moment)
        events.append(Event(day, kind, text, url, future=day > today))

    if consultation is not None and not is_public(consultation):
        consultation = None
    if policy is None and consultation is not None:
        policy = consultation.policy
    if policy is not None and policy.published_at is None:
        policy = None
    if consultation is not None:
        item = consultation.catalogue_item
        if item is not None and item.published_at is not None:
            add(item.published_at, "catalogue",
                _("列入%(year)d年决策事项目录：%(title)s", year=item.year, title=item.title),
                url_for("catalogue.detail", item_id=item.id))
        if consultation.approved_at is not None and consultation.approved_at < \
                consultation.opens_at:
            add(consultation.approved_at, "published", _("发布征求意见公告"),
                url_for("consultations.detail", consultation_id=consultation.id))
        add(consultation.opens_at, "opened", _("开始征求意见"),
            url_for("consultations.detail", consultation_id=consultation.id))
        for version in consultation.versions[1:]:
            add(version.created_at, "version", _("发布第 %(n)d 稿", n=version.number),
                url_for("consultations.version", consultation_id=consultation.id,
                        number=version.number))
        for extension in consultation.extensions:
            text = _("第二轮征求意见至 %(date)s", date=_day(extension.new_closes_at).isoformat()) \
                if extension.reason == SECOND_ROUND_REASON else \
                _("延长征求意见期限至 %(date)s", date=_day(extension.new_closes_at).isoformat())
            add(extension.at, "extended", text)
        if consultation.withdrawn_at is not None:
            add(consultation.withdrawn_at, "closed", _("撤回"))
        else:
            closes = _day(consultation.closes_at)
            add(consultation.closes_at, "closed",
                _("征求意见截止") if closes < today or (closes == today and clock.now() >
                                                     consultation.closes_at)
                else _("征求意见截止（预定）"))
        if requires_review(consultation):
            for review in consultation.legal_reviews:
                add(review.at, "legal_review",
                    _("合法性审核通过") if review.decision == LegalDecision.APPROVED
                    else _("合法性审核：退回修改"))
        report = published_report(consultation)
        if report is not None:
            add(consultation.report_published_at or report.published_at, "report",
                _("公布意见采纳情况"),
                url_for("answers.report", consultation_id=consultation.id))
    if policy is not None:
        add(policy.issued_on, "policy",
            _("印发正式文件 %(number)s", number=policy.document_number),
            url_for("policies.detail", policy_id=policy.id))
        if policy.effective_on and policy.effective_on != policy.issued_on:
            add(policy.effective_on, "policy", _("正式文件施行"))
        for interpretation in policy.interpretations:
            if interpretation.published_at is not None:
                add(interpretation.published_at, "interpretation",
                    _("发布政策解读：%(title)s", title=interpretation.title),
                    url_for("policies.interpretation", interpretation_id=interpretation.id))
        for change in policy.changes:
            by = change.by_policy if change.by_policy is not None and \
                change.by_policy.published_at is not None else None
            name = by.document_number if by is not None else (change.document or "")
            if change.kind == ChangeKind.RENEW:
                text = _("有效期延续至 %(date)s", date=change.valid_until.isoformat())
            else:
                text = _("%(kind)s：%(by)s", kind=label(change.kind, "policy_change"), by=name) \
                    if name else str(label(change.kind, "policy_change"))
            add(change.effective_on, "validity", text,
                url_for("policies.detail", policy_id=by.id) if by is not None else None)
        if policy.valid_until is not None:
            add(policy.valid_until, "validity",
                _("有效期至 %(date)s", date=policy.valid_until.isoformat()))
    return sorted(events, key=lambda e: e.order)
