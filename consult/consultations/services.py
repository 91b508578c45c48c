"""Operations on consultations. Each takes the actor, flushes, and leaves the commit to the view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock
from consult.auth.models import User
from consult.catalogue.services import check_item_for_unit
from consult.consultations import subscriptions, windows
from consult.consultations.models import (
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    Extension,
    State,
)
from consult.consultations.parsing import articles_text, parse_articles
from consult.consultations.states import target_state
from consult.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from consult.extensions import db
from consult.labels import label

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "create": _l("创建草稿"),
    "edit": _l("修改草稿"),
    "submit": _l("提交审核"),
    "approve": _l("审核通过"),
    "return": _l("退回修改"),
    "withdraw": _l("撤回"),
    "extend": _l("延长征求意见期限"),
    "new_version": _l("发布新版本"),
    "legal_review": _l("合法性审核"),
    "legal_sign_off": _l("合法性审核通过"),
    "legal_return": _l("合法性审核退回"),
    "change_settings": _l("更改意见设置"),
    "import": _l("从文件导入"),
    "add_attachment": _l("添加附件"),
    "add_supplement": _l("添加补充材料"),
    "remove_attachment": _l("删除附件"),
})


@dataclass
class DraftInput:
    """What an editor enters for a draft (already type-checked by the form or API schema)."""

    title: str
    type: ConsultationType
    summary: str
    explanation: str
    opens_on: date
    closes_on: date
    text: str
    short_window_reason: str | None = None
    catalogue_item_id: int | None = None
    concerns_business: bool = False  # normative documents: 30 days instead of 7 working days


def window_days(opens_on: date, closes_on: date) -> int:
    """Calendar days in a window, both ends included."""
    return windows.calendar_days(opens_on, closes_on)


def check_window(data: DraftInput, minimums: dict[str, int] | None = None) -> None:
    """Refuse a window that ends before it starts, or is too short without a published reason;
    `minimums`: the consultation's own (those in force when it was created), else today's."""
    windows.check(data.type, data.opens_on, data.closes_on,
                  concerns_business=data.concerns_business,
                  short_window_reason=data.short_window_reason, minimums=minimums)


def _replace_articles(version: DraftVersion, text: str) -> None:
    parsed = parse_articles(text)
    if not parsed.articles:
        raise ValidationFailed(_("正文不能为空。"), fields={"text": _("正文不能为空。")})
    version.articles.clear()
    version.preamble = parsed.preamble or None
    db.session.flush()
    for item in parsed.articles:
        version.articles.append(
            Article(
                number=item.number, label=item.label, chapter=item.chapter,
                section=item.section, heading=item.heading, text=item.text,
            )
        )


def _apply(consultation: Consultation, data: DraftInput) -> None:
    check_window(data, consultation.window_minimums)
    consultation.title = data.title.strip()
    consultation.type = data.type
    consultation.summary = data.summary.strip()
    consultation.explanation = data.explanation.strip()
    consultation.opens_at = clock.start_of_day(data.opens_on)
    consultation.closes_at = clock.end_of_day(data.closes_on)
    reason = (data.short_window_reason or "").strip()
    consultation.short_window_reason = reason or None
    consultation.concerns_business = bool(data.concerns_business)
    # Only an item of the drafting unit, or of a unit above or below it (ValidationFailed).
    consultation.catalogue_item = check_item_for_unit(data.catalogue_item_id, consultation.unit)


def create_draft(unit, data: DraftInput, *, actor: User) -> Consultation:
    """Create a draft consultation with version 1 split into articles."""
    consultation = Consultation(unit=unit, state=State.DRAFT, created_by_id=actor.id)
    _apply(consultation, data)
    version = DraftVersion(number=1)
    consultation.versions.append(version)
    db.session.add(consultation)
    _replace_articles(version, data.text)
    audit.record(actor, "create", consultation)
    return consultation


def update_draft(consultation: Consultation, data: DraftInput, *, actor: User) -> Consultation:
    """Edit a draft that has not gone public; published drafts change only by a new version."""
    if consultation.state != State.DRAFT:
        raise InvalidTransition(_("只有草稿可以修改。"))
    _apply(consultation, data)
    _replace_articles(consultation.current_version, data.text)
    audit.record(actor, "edit", consultation)
    return consultation


def transition(consultation: Consultation, action: str, *, actor: User, reason: str | None = None,
               detail: dict | None = None):
    """Move `consultation` by `action` if the state machine allows it; audit it."""
    status = consultation.status
    target = target_state(action, status)
    if target is None:
        raise InvalidTransition(
            _("当前状态（%(status)s）不允许此操作。", status=label(status, "state")),
            code="invalid_transition",
        )
    consultation.state = target
    audit.record(actor, action, consultation, reason=reason,
                 detail={"from": status.value, "to": target.value, **(detail or {})})
    return consultation


def submit(consultation: Consultation, *, actor: User) -> Consultation:
    """Editor sends the draft to an approver."""
    check_window(_as_input(consultation), consultation.window_minimums)
    transition(consultation, "submit", actor=actor)
    consultation.submitted_by_id = actor.id
    consultation.submitted_at = clock.now()
    consultation.return_reason = None
    return consultation


def approve(consultation: Consultation, *, actor: User) -> Consultation:
    """Approver releases the draft; it opens by the clock. Nobody approves their own submission.
    A draft approved after its typed start opens at the approval, if the rest of its window
    still meets the minimum (consult.consultations.windows.opening_on_approval)."""
    if consultation.submitted_by_id == actor.id:
        raise NotAllowed(_("提交人不能审核自己提交的草稿。"), code="own_submission")
    if target_state("approve", consultation.status) is None:
        transition(consultation, "approve", actor=actor)  # raises InvalidTransition (409)
    now = clock.now()
    # The window is checked again against the moment it opens: a start in the past moves to
    # now, and what remains must meet the minimum (or carry its published reason), 409 if not.
    opens_at = windows.opening_on_approval(
        consultation.type, consultation.opens_at, consultation.closes_at, now,
        concerns_business=bool(consultation.concerns_business),
        short_window_reason=consultation.short_window_reason,
        minimums=consultation.window_minimums,
    )
    moved = {"opens_at_moved_from": consultation.opens_at.isoformat()} \
        if opens_at != consultation.opens_at else {}
    transition(consultation, "approve", actor=actor, detail=moved)
    consultation.opens_at = opens_at
    consultation.approved_by_id = actor.id
    consultation.approved_at = now
    return consultation


def return_to_draft(consultation: Consultation, *, actor: User, reason: str) -> Consultation:
    """Approver sends the draft back with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("退回须填写理由。"), fields={"reason": _("退回须填写理由。")})
    transition(consultation, "return", actor=actor, reason=reason)
    consultation.return_reason = reason
    return consultation


def withdraw(consultation: Consultation, *, actor: User, reason: str) -> Consultation:
    """Withdraw a consultation; the reason is published."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("撤回须填写理由。"), fields={"reason": _("撤回须填写理由。")})
    transition(consultation, "withdraw", actor=actor, reason=reason)
    consultation.withdrawn_reason = reason
    consultation.withdrawn_at = clock.now()
    return consultation


def extend(consultation: Consultation, new_closes_on: date, reason: str, *,
           actor: User) -> Extension:
    """Move the closing date later, with a public notice and a mail to those who asked (F4).

    Only while scheduled or open (409 otherwise); a date earlier than the current closing date
    is closing early, which is refused (409); the same date changes nothing (422); the reason
    is required (422) and published.
    """
    reason = (reason or "").strip()
    if not reason:
        message = _("延长期限须填写理由（理由将向社会公布）。")
        raise ValidationFailed(message, fields={"reason": message})
    if target_state("extend", consultation.status) is None:
        raise InvalidTransition(
            _("当前状态（%(status)s）不能延长征求意见期限。",
              status=label(consultation.status, "state")),
            code="invalid_transition",
        )
    old_closes_on = clock.local_date(consultation.closes_at)
    if new_closes_on < old_closes_on:
        raise Conflict(_("征求意见期限不能提前截止，只能延长。"), code="closing_early")
    if new_closes_on == old_closes_on:
        message = _("新的截止日期须晚于原截止日期（%(date)s）。", date=old_closes_on.isoformat())
        raise ValidationFailed(message, fields={"closes_on": message})
    old_closes_at, new_closes_at = consultation.closes_at, clock.end_of_day(new_closes_on)
    transition(consultation, "extend", actor=actor, reason=reason, detail={
        "old_closes_at": old_closes_at.isoformat(), "new_closes_at": new_closes_at.isoformat(),
    })
    return lengthen(consultation, new_closes_at, reason, actor=actor, audited=True)


def lengthen(consultation: Consultation, new_closes_at, reason: str, *, actor: User,
             kind: str = "extension", version=None, short_window_reason: str | None = None,
             audited: bool = False) -> Extension:
    """Set the later closing date, publish the notice and mail it (the checks are the caller's:
    `extend`, or `versions.new_version` for a second round)."""
    old_closes_at = consultation.closes_at
    if not audited:
        audit.record(actor, "extend", consultation, reason=reason, detail={
            "kind": kind, "old_closes_at": old_closes_at.isoformat(),
            "new_closes_at": new_closes_at.isoformat(),
        })
    consultation.closes_at = new_closes_at
    notice = Extension(
        consultation=consultation, old_closes_at=old_closes_at, new_closes_at=new_closes_at,
        reason=reason, short_window_reason=(short_window_reason or "").strip() or None,
        version=version, actor_id=actor.id, at=clock.now(),
    )
    db.session.add(notice)
    db.session.flush()
    subscriptions.notify_extension(consultation, notice)
    return notice


def _as_input(consultation: Consultation) -> DraftInput:
    return DraftInput(
        title=consultation.title, type=consultation.type, summary=consultation.summary,
        explanation=consultation.explanation,
        opens_on=clock.local_date(consultation.opens_at),
        closes_on=clock.local_date(consultation.closes_at),
        text="", short_window_reason=consultation.short_window_reason,
        concerns_business=bool(consultation.concerns_business),
    )


def draft_text(consultation: Consultation) -> str:
    """The current version's articles as editable text, headings included."""
    version = consultation.current_version
    return articles_text(version.preamble, version.articles)
