"""Operations on consultations. Each takes the actor, flushes, and leaves the commit to the view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from consult import audit, clock
from consult.consultations.models import (
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    State,
)
from consult.consultations.parsing import parse_articles
from consult.consultations.states import target_state
from consult.errors import InvalidTransition, NotAllowed, ValidationFailed
from consult.extensions import db


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


def minimum_days(type_: ConsultationType) -> int:
    return current_app.config["WINDOW_MIN_DAYS"][str(type_)]


def window_days(opens_on: date, closes_on: date) -> int:
    """Calendar days in a window, both ends included."""
    return (closes_on - opens_on).days + 1


def check_window(data: DraftInput) -> None:
    """Refuse a window that ends before it starts, or is too short without a published reason."""
    if data.closes_on < data.opens_on:
        raise ValidationFailed(
            _("截止日期不能早于开始日期。"), fields={"closes_on": _("截止日期不能早于开始日期。")}
        )
    needed = minimum_days(data.type)
    if window_days(data.opens_on, data.closes_on) < needed and not (
        data.short_window_reason and data.short_window_reason.strip()
    ):
        message = _(
            "此类文件的征求意见期限不少于 %(days)d 日；期限更短时须填写理由（理由将向社会公布）。",
            days=needed,
        )
        raise ValidationFailed(message, fields={"short_window_reason": message})


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
    check_window(data)
    consultation.title = data.title.strip()
    consultation.type = data.type
    consultation.summary = data.summary.strip()
    consultation.explanation = data.explanation.strip()
    consultation.opens_at = clock.start_of_day(data.opens_on)
    consultation.closes_at = clock.end_of_day(data.closes_on)
    reason = (data.short_window_reason or "").strip()
    consultation.short_window_reason = reason or None
    consultation.catalogue_item_id = data.catalogue_item_id


def create_draft(unit, data: DraftInput, *, actor) -> Consultation:
    """Create a draft consultation with version 1 split into articles."""
    consultation = Consultation(unit=unit, state=State.DRAFT, created_by_id=actor.id)
    _apply(consultation, data)
    version = DraftVersion(number=1)
    consultation.versions.append(version)
    db.session.add(consultation)
    _replace_articles(version, data.text)
    audit.record(actor, "create", consultation)
    return consultation


def update_draft(consultation: Consultation, data: DraftInput, *, actor) -> Consultation:
    """Edit a draft that has not gone public; published drafts change only by a new version."""
    if consultation.state != State.DRAFT:
        raise InvalidTransition(_("只有草稿可以修改。"))
    _apply(consultation, data)
    _replace_articles(consultation.current_version, data.text)
    audit.record(actor, "edit", consultation)
    return consultation


def transition(consultation: Consultation, action: str, *, actor, reason: str | None = None):
    """Move `consultation` by `action` if the state machine allows it; audit it."""
    status = consultation.status
    target = target_state(action, status)
    if target is None:
        raise InvalidTransition(
            _("当前状态（%(status)s）不允许此操作。", status=status.value),
            code="invalid_transition",
        )
    consultation.state = target
    audit.record(actor, action, consultation, reason=reason,
                 detail={"from": status.value, "to": target.value})
    return consultation


def submit(consultation: Consultation, *, actor) -> Consultation:
    """Editor sends the draft to an approver."""
    check_window(_as_input(consultation))
    transition(consultation, "submit", actor=actor)
    consultation.submitted_by_id = actor.id
    consultation.submitted_at = clock.now()
    consultation.return_reason = None
    return consultation


def approve(consultation: Consultation, *, actor) -> Consultation:
    """Approver releases the draft; it opens by the clock. Nobody approves their own submission."""
    if consultation.submitted_by_id == actor.id:
        raise NotAllowed(_("提交人不能审核自己提交的草稿。"), code="own_submission")
    transition(consultation, "approve", actor=actor)
    consultation.approved_by_id = actor.id
    consultation.approved_at = clock.now()
    return consultation


def return_to_draft(consultation: Consultation, *, actor, reason: str) -> Consultation:
    """Approver sends the draft back with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("退回须填写理由。"), fields={"reason": _("退回须填写理由。")})
    transition(consultation, "return", actor=actor, reason=reason)
    consultation.return_reason = reason
    return consultation


def withdraw(consultation: Consultation, *, actor, reason: str) -> Consultation:
    """Withdraw a consultation; the reason is published."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("撤回须填写理由。"), fields={"reason": _("撤回须填写理由。")})
    transition(consultation, "withdraw", actor=actor, reason=reason)
    consultation.withdrawn_reason = reason
    consultation.withdrawn_at = clock.now()
    return consultation


def _as_input(consultation: Consultation) -> DraftInput:
    return DraftInput(
        title=consultation.title, type=consultation.type, summary=consultation.summary,
        explanation=consultation.explanation,
        opens_on=clock.local_date(consultation.opens_at),
        closes_on=clock.local_date(consultation.closes_at),
        text="", short_window_reason=consultation.short_window_reason,
    )


def draft_text(consultation: Consultation) -> str:
    """The current version's articles as editable text, headings included."""
    version = consultation.current_version
    lines, chapter, section = ([version.preamble] if version.preamble else []), None, None
    for article in version.articles:
        if article.chapter and article.chapter != chapter:
            chapter = article.chapter
            lines.append(chapter)
        if article.section and article.section != section:
            section = article.section
            lines.append(section)
        if article.label.endswith(")") and "(" in article.label:  # 一(二) → （二）
            head = "（" + article.label.split("(", 1)[1].rstrip(")") + "）"
            if article.heading:
                lines.append(head + article.heading)
                lines.append(article.text)
            else:
                lines.append(head + article.text)
        else:
            lines.append(f"{article.label} {article.text}")
    return "\n".join(lines)
