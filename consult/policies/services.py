"""Final policies and interpretations, linked to the draft they came from (F16–F18)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock
from consult.answers.models import Disposition, DispositionCode
from consult.auth.models import Unit, User
from consult.comments.models import Comment
from consult.consultations import legal
from consult.consultations.models import Consultation, ConsultationType, LegalDecision, State
from consult.consultations.parsing import parse_articles
from consult.consultations.services import transition
from consult.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from consult.extensions import db
from consult.policies.models import (
    AnswerLink,
    ChangeKind,
    CompetitionReview,
    Interpretation,
    InterpretationKind,
    Policy,
    PolicyArticle,
    PolicyChange,
    Validity,
)
from consult.policies.standing import interpretation_overdue, validity_on

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "link_policy": _l("正式文件出台"),
    "create_policy": _l("起草正式文件"),
    "edit_policy": _l("修改正式文件"),
    "publish_policy": _l("发布正式文件"),
    "add_interpretation": _l("添加政策解读"),
    "publish_interpretation": _l("发布政策解读"),
    "policy_change": _l("记录文件效力变化"),
    "policy_filing": _l("记录备案"),
    "competition_review": _l("公平竞争审查"),
    "link_answer": _l("关联采纳意见与条款"),
    "unlink_answer": _l("取消关联采纳意见"),
})

NOTE_MAX = 5_000
# Dispositions whose comments can have changed the text (the ones a reader asks about).
ADOPTING = (DispositionCode.ADOPTED, DispositionCode.PARTLY_ADOPTED)


@dataclass
class PolicyInput:
    title: str
    document_number: str
    issued_on: date
    effective_on: date | None
    text: str
    valid_until: date | None = None
    affects_market: bool = False
    type: ConsultationType | None = None  # a policy without a consultation says its own


_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "﹝": "〔", "﹞": "〕",
                           "（": "〔", "）": "〕", "(": "〔", ")": "〕"})


def normalise_number(number: str) -> str:
    """A 文号 as one spelling: 〔〕 around the year whatever brackets were typed, no spaces
    (郑政[2026] 12号 → 郑政〔2026〕12号), so that the permalink finds it however it is typed."""
    return re.sub(r"\s+", "", (number or "").translate(_BRACKETS))


def _check(data: PolicyInput, policy: Policy | None = None) -> None:
    if data.effective_on and data.effective_on < data.issued_on:
        message = _("施行日期不能早于印发日期。")
        raise ValidationFailed(message, fields={"effective_on": message})
    if data.valid_until and data.valid_until <= data.issued_on:
        message = _("有效期须晚于印发日期。")
        raise ValidationFailed(message, fields={"valid_until": message})
    if data.valid_until and data.effective_on and data.valid_until <= data.effective_on:
        message = _("有效期须晚于施行日期。")
        raise ValidationFailed(message, fields={"valid_until": message})
    number = normalise_number(data.document_number)
    if not number:
        message = _("请填写文号。")
        raise ValidationFailed(message, fields={"document_number": message})
    same = db.session.scalar(db.select(Policy.id).where(
        Policy.document_number == number,
        Policy.id != (policy.id if policy is not None and policy.id else 0)).limit(1))
    if same is not None:
        message = _("文号“%(number)s”已被另一份文件使用。", number=number)
        raise ValidationFailed(message, code="document_number_taken",
                               fields={"document_number": message})
    if not parse_articles(data.text or "").articles:
        message = _("请填写正式文件全文。")
        raise ValidationFailed(message, fields={"text": message})


def _apply(policy: Policy, data: PolicyInput) -> None:
    with db.session.no_autoflush:  # a new policy has no title yet
        _check(data, policy)
    policy.title = data.title.strip()
    policy.document_number = normalise_number(data.document_number)
    policy.issued_on = data.issued_on
    policy.effective_on = data.effective_on
    policy.valid_until = data.valid_until
    policy.affects_market = bool(data.affects_market)
    if data.type is not None and policy.consultation is None:
        policy.type = data.type
    policy.text = data.text.strip()
    _split(policy)


def _split(policy: Policy) -> None:
    """The text in articles, as the importer splits a draft (chapters, sections, numbers)."""
    parsed = parse_articles(policy.text)
    policy.preamble = parsed.preamble or None
    policy.articles.clear()
    db.session.flush()
    for item in parsed.articles:
        policy.articles.append(PolicyArticle(
            number=item.number, label=item.label, chapter=item.chapter, section=item.section,
            heading=item.heading, text=item.text,
        ))


def create_policy(consultation: Consultation, data: PolicyInput, *, actor: User) -> Policy:
    """Draft the final policy of a closed consultation (published later by an approver)."""
    if consultation.policy is not None:
        raise Conflict(_("该意见征集已关联正式文件。"), code="policy_exists")
    if consultation.status not in (State.CLOSED, State.REPORT_PUBLISHED):
        raise InvalidTransition(_("征求意见结束后才能关联正式文件。"))
    legal.require_sign_off(consultation)  # rules and major decisions: 合法性审核 first (409)
    _check(data)
    policy = Policy(
        consultation=consultation, unit_id=consultation.unit_id, created_by_id=actor.id,
        type=consultation.type,
    )
    db.session.add(policy)
    _apply(policy, data)
    audit.record(actor, "create_policy", policy)
    return policy


def create_standalone_policy(unit: Unit, data: PolicyInput, *, actor: User,
                             filename: str | None = None) -> Policy:
    """Add a policy that had no consultation here (an older document, often from .docx)."""
    _check(data)
    policy = Policy(unit_id=unit.id, created_by_id=actor.id,
                    type=data.type or ConsultationType.NORMATIVE_DOCUMENT)
    db.session.add(policy)
    _apply(policy, data)
    audit.record(actor, "create_policy", policy,
                 detail={"filename": filename} if filename else None)
    return policy


def update_policy(policy: Policy, data: PolicyInput, *, actor: User) -> Policy:
    if policy.published_at is not None:
        raise Conflict(_("已发布的正式文件不能修改。"), code="policy_published")
    _apply(policy, data)
    audit.record(actor, "edit_policy", policy)
    return policy


def publish_policy(policy: Policy, *, actor: User) -> Policy:
    """Publish the policy with its interpretations (三同步); the draft becomes policy_issued.
    A policy that affects market players needs the fair-competition review's sign-off."""
    if policy.published_at is not None:
        raise Conflict(_("该正式文件已发布。"), code="policy_published")
    if policy.affects_market and competition_review_state(policy) != "approved":
        raise Conflict(_("涉及市场主体经济活动的文件，须经公平竞争审查通过后才能发布。"),
                       code="competition_review_required")
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


# --- fair-competition review ------------------------------------------------------------------


def competition_review_state(policy: Policy) -> str:
    """not_required, pending, approved or returned: the latest review decides, unless the
    policy was edited after it (the new text is reviewed again)."""
    if not policy.affects_market:
        return "not_required"
    reviews = policy.competition_reviews
    if not reviews:
        return "pending"
    last = db.session.scalar(
        db.select(audit.AuditEvent.action)
        .where(audit.AuditEvent.object_type == Policy.__tablename__,
               audit.AuditEvent.object_id == policy.id,
               audit.AuditEvent.action.in_(("competition_review", "edit_policy")))
        .order_by(audit.AuditEvent.seq.desc()).limit(1))
    return "pending" if last == "edit_policy" else reviews[-1].decision.value


def review_competition(policy: Policy, decision: LegalDecision, opinion: str | None, *,
                       actor: User) -> CompetitionReview:
    """Sign off (or return with an opinion) the fair-competition review before issue."""
    if not policy.affects_market:
        raise Conflict(_("该文件未标明涉及市场主体经济活动，无需公平竞争审查。"),
                       code="competition_review_not_required")
    if policy.published_at is not None:
        raise Conflict(_("文件已发布，不能再进行发布前的公平竞争审查。"), code="policy_published")
    opinion = (opinion or "").strip() or None
    if opinion and len(opinion) > NOTE_MAX:
        message = _("审查意见不能超过 %(n)d 字。", n=NOTE_MAX)
        raise ValidationFailed(message, fields={"opinion": message})
    if decision == LegalDecision.RETURNED and not opinion:
        message = _("退回修改时请写明审查意见。")
        raise ValidationFailed(message, fields={"opinion": message})
    if actor.id == policy.created_by_id:
        raise NotAllowed(_("起草人不能审查自己起草的文件。"), code="own_policy")
    review = CompetitionReview(policy=policy, reviewer_id=actor.id, decision=decision,
                               opinion=opinion, at=clock.now())
    db.session.add(review)
    audit.record(actor, "competition_review", policy, unit_id=policy.unit_id,
                 reason=opinion, detail={"decision": decision.value})
    return review


# --- validity: amended, repealed, replaced, renewed ----------------------------------------------


@dataclass
class ChangeInput:
    kind: ChangeKind
    effective_on: date
    by_policy: Policy | None = None
    document: str | None = None
    valid_until: date | None = None
    note: str | None = None


def record_change(policy: Policy, data: ChangeInput, *, actor: User) -> PolicyChange:
    """Record what a later document did to `policy`, from a date: amended, repealed, replaced
    (by a policy in the library, which then shows the change the other way), or its 有效期
    renewed."""
    if policy.published_at is None:
        raise InvalidTransition(_("文件发布后才能记录效力变化。"))
    document = (data.document or "").strip() or None
    note = (data.note or "").strip() or None
    if document and len(document) > 300:
        message = _("文件名称和文号不能超过 300 字。")
        raise ValidationFailed(message, fields={"document": message})
    if note and len(note) > NOTE_MAX:
        message = _("说明不能超过 %(n)d 字。", n=NOTE_MAX)
        raise ValidationFailed(message, fields={"note": message})
    if data.effective_on < policy.issued_on:
        message = _("变化的日期不能早于本文件的印发日期（%(date)s）。",
                    date=policy.issued_on.isoformat())
        raise ValidationFailed(message, fields={"effective_on": message})
    by_policy = data.by_policy
    if by_policy is not None:
        if by_policy.id == policy.id:
            message = _("文件不能修改或废止它自己。")
            raise ValidationFailed(message, fields={"by_policy": message})
        if by_policy.published_at is None:
            message = _("作出变化的文件尚未发布。")
            raise ValidationFailed(message, fields={"by_policy": message})
    if data.kind == ChangeKind.RENEW:
        if data.valid_until is None or (policy.valid_until and
                                        data.valid_until <= policy.valid_until):
            message = _("请填写晚于现有效期的新有效期。")
            raise ValidationFailed(message, fields={"valid_until": message})
    elif by_policy is None and not document:
        message = _("请选择作出变化的文件，或填写其名称和文号。")
        raise ValidationFailed(message, fields={"document": message})
    if data.kind == ChangeKind.REPLACE and by_policy is None:
        message = _("被替代时请选择替代它的文件（须已在文件库中）。")
        raise ValidationFailed(message, fields={"by_policy": message})
    ended = [c for c in policy.changes if c.kind in (ChangeKind.REPEAL, ChangeKind.REPLACE)]
    if ended:
        raise Conflict(_("该文件已于 %(date)s 废止，不能再记录变化。",
                         date=ended[0].effective_on.isoformat()), code="policy_repealed")
    change = PolicyChange(
        policy=policy, kind=data.kind, effective_on=data.effective_on, by_policy=by_policy,
        document=document, valid_until=data.valid_until, note=note, actor_id=actor.id,
        at=clock.now(),
    )
    db.session.add(change)
    if data.kind == ChangeKind.RENEW:
        policy.valid_until = data.valid_until
    db.session.flush()
    db.session.refresh(policy, ["changes"])
    # The stored validity: the last recorded one (expiry is read off the clock, never stored).
    shown = validity_on(policy, clock.today())
    policy.validity = Validity.IN_FORCE if shown == Validity.EXPIRED else shown
    audit.record(actor, "policy_change", policy, unit_id=policy.unit_id, reason=note,
                 detail={"kind": data.kind.value, "effective_on": data.effective_on.isoformat(),
                         "by_policy_id": by_policy.id if by_policy else None})
    return change


# --- filing (备案) -------------------------------------------------------------------------------


def record_filing(policy: Policy, *, filed_with: str, filed_on: date, filing_number: str | None,
                  actor: User) -> Policy:
    """Record the filing: to whom, when, under which number (late ones stay flagged)."""
    if policy.published_at is None:
        raise InvalidTransition(_("文件发布后才能记录备案。"))
    filed_with = (filed_with or "").strip()
    if not filed_with:
        message = _("请填写备案机关。")
        raise ValidationFailed(message, fields={"filed_with": message})
    if filed_on < policy.issued_on:
        message = _("备案日期不能早于印发日期。")
        raise ValidationFailed(message, fields={"filed_on": message})
    if filed_on > clock.today():
        message = _("备案日期不能晚于今天。")
        raise ValidationFailed(message, fields={"filed_on": message})
    policy.filed_with = filed_with[:200]
    policy.filed_on = filed_on
    policy.filing_number = (filing_number or "").strip()[:100] or None
    audit.record(actor, "policy_filing", policy, unit_id=policy.unit_id,
                 detail={"filed_on": filed_on.isoformat()})
    return policy


# --- adopted answers and the articles they changed -----------------------------------------------


def adopted_answers(policy: Policy) -> list[Disposition]:
    """The adopted and partly adopted answers of the policy's consultation."""
    if policy.consultation is None:
        return []
    return db.session.scalars(
        db.select(Disposition).join(Comment, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == policy.consultation_id,
               Disposition.code.in_(ADOPTING))
        .order_by(Comment.id)
    ).all()


def link_answer(policy: Policy, disposition: Disposition, article_number: int, *,
                actor: User) -> AnswerLink:
    """Link an adopted answer to the final article it changed (one article per answer)."""
    if policy.consultation is None or disposition.comment.consultation_id != policy.consultation_id:
        raise NotAllowed(_("该意见不属于本文件的意见征集。"), code="other_consultation")
    if disposition.code not in ADOPTING:
        message = _("只有采纳或部分采纳的意见才能关联到条款。")
        raise ValidationFailed(message, fields={"disposition_id": message})
    if not any(a.number == article_number for a in policy.articles):
        message = _("正式文件中没有该条款。")
        raise ValidationFailed(message, fields={"article_number": message})
    link = next((x for x in policy.answer_links if x.disposition_id == disposition.id), None)
    if link is None:
        link = AnswerLink(policy=policy, disposition_id=disposition.id,
                          article_number=article_number)
        db.session.add(link)
    link.article_number = article_number
    link.linked_by_id = actor.id
    link.linked_at = clock.now()
    audit.record(actor, "link_answer", policy, unit_id=policy.unit_id,
                 detail={"disposition_id": disposition.id, "article": article_number})
    return link


def unlink_answer(link: AnswerLink, *, actor: User) -> None:
    policy = link.policy
    audit.record(actor, "unlink_answer", policy, unit_id=policy.unit_id,
                 detail={"disposition_id": link.disposition_id})
    policy.answer_links.remove(link)
    db.session.flush()


def policy_flags(policy: Policy) -> dict[str, bool]:
    """Public warnings: linked before the report; interpretation pending (三同步, SPEC §6),
    and overdue once INTERPRETATION_DUE_WORKING_DAYS working days have passed."""
    consultation = policy.consultation
    return {
        "before_report": consultation is not None and not consultation.report_published,
        "interpretation_pending": not any(i.published_at for i in policy.interpretations),
        "interpretation_overdue": interpretation_overdue(policy),
    }
