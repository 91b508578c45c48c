"""Answering comments and publishing the adoption report (SPEC §5, §6)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from flask_babel import gettext as _

from consult import audit, clock, mail
from consult.answers.models import Disposition, DispositionCode, Report
from consult.comments.models import Category, Channel, Comment, CommentStatus, HiddenReason
from consult.comments.services import public_text
from consult.consultations.models import Consultation
from consult.consultations.services import transition
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.urls import external_url

UNSPECIFIED_REGION = "unspecified"


def published_report(consultation: Consultation) -> Report | None:
    """The newest published revision of the report, if any."""
    return db.session.scalar(
        db.select(Report)
        .where(Report.consultation_id == consultation.id, Report.published_at.is_not(None))
        .order_by(Report.revision.desc())
        .limit(1)
    )


def answer_comment(comment: Comment, code: DispositionCode, reason: str | None, *,
                   actor) -> Disposition:
    """Record or revise the unit's answer to one comment, until the report is published."""
    reason = (reason or "").strip() or None
    if code != DispositionCode.ADOPTED and not reason:
        message = _("除“采纳”外，答复须说明理由。")
        raise ValidationFailed(message, code="reason_required", fields={"reason": message})
    if not comment.needs_answer:
        message = _("该意见未公开（未验证、待审核或不予公开），无需答复。")
        raise Conflict(message, code="not_answerable")
    if published_report(comment.consultation) is not None:
        raise Conflict(_("采纳情况报告已发布，答复不能再修改。"), code="report_published")
    disposition = comment.disposition
    action = "answer" if disposition is None else "revise_answer"
    if disposition is None:
        disposition = Disposition(comment=comment)
        db.session.add(disposition)
    disposition.code = code
    disposition.reason = reason
    disposition.answered_by = actor
    disposition.answered_at = clock.now()
    audit.record(actor, action, comment, unit_id=comment.consultation.unit_id, reason=reason,
                 detail={"disposition": code.value})
    return disposition


def comments_of(consultation: Consultation) -> list[Comment]:
    return db.session.scalars(
        db.select(Comment)
        .where(Comment.consultation_id == consultation.id)
        .order_by(Comment.id)
        .options(db.selectinload(Comment.disposition), db.selectinload(Comment.article),
                 db.selectinload(Comment.version))
    ).all()


def blockers(consultation: Consultation) -> dict[str, int]:
    """What stops the report from being published: counts of comments in each unfinished state."""
    counts = Counter()
    for comment in comments_of(consultation):
        if comment.status in (CommentStatus.PENDING_MODERATION, CommentStatus.SUBMITTED):
            counts["pending_moderation"] += 1
        elif comment.needs_answer and comment.disposition is None:
            counts["unanswered"] += 1
        elif (comment.needs_answer and comment.disposition.code != DispositionCode.ADOPTED
              and not comment.disposition.reason):
            counts["missing_reason"] += 1
    return dict(counts)


def _zero(enum_cls) -> dict[str, int]:
    return {member.value: 0 for member in enum_cls}


def build_report(consultation: Consultation, *, revision: int, summary: str,
                 published_at) -> dict:
    """The report's JSON (SPEC §5), without the digest. Anyone can re-compute the totals."""
    totals = {
        "received": 0, "unverified": 0, "hidden": 0, "hidden_by_reason": _zero(HiddenReason),
        "answered": 0, "by_disposition": _zero(DispositionCode), "by_category": _zero(Category),
        "by_channel": _zero(Channel), "by_region": {},
    }
    by_article: dict[tuple[int, int | None], dict] = {}
    items = []
    for comment in comments_of(consultation):
        version = comment.version.number
        article = comment.article.number if comment.article else None
        region = comment.region or UNSPECIFIED_REGION
        row = by_article.setdefault((version, article), {
            "version": version, "article": article,
            "label": comment.article.label if comment.article else None,
            "received": 0, "by_disposition": _zero(DispositionCode),
        })
        totals["received"] += 1
        row["received"] += 1
        totals["by_category"][comment.category.value] += 1
        totals["by_channel"][comment.channel.value] += 1
        totals["by_region"][region] = totals["by_region"].get(region, 0) + 1
        disposition = None
        if comment.status == CommentStatus.HIDDEN:
            totals["hidden"] += 1
            reason = (comment.hidden_reason or HiddenReason.OTHER).value
            totals["hidden_by_reason"][reason] += 1
        elif comment.status == CommentStatus.UNVERIFIED:
            totals["unverified"] += 1
        else:
            disposition = comment.disposition
            totals["answered"] += 1
            totals["by_disposition"][disposition.code.value] += 1
            row["by_disposition"][disposition.code.value] += 1
        items.append({
            "kind": "comment", "tracking_no": comment.tracking_no, "count": 1,
            "version": version, "article": article, "category": comment.category.value,
            "channel": comment.channel.value, "region": comment.region,
            "visibility": comment.status.value, "text": public_text(comment),
            "name": comment.public_name,
            "disposition": disposition.code.value if disposition else None,
            "reason": disposition.reason if disposition else None,
        })
    return {
        "consultation_id": consultation.id,
        "title": consultation.title,
        "revision": revision,
        "published_at": clock.local(published_at).isoformat(),
        "summary": summary,
        "totals": totals,
        "by_article": sorted(
            by_article.values(), key=lambda r: (r["version"], r["article"] or 0)
        ),
        "items": items,
    }


def digest_of(content: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, UTF-8, no spaces) without the digest field."""
    body = {key: value for key, value in content.items() if key != "digest"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def publish_report(consultation: Consultation, *, summary: str, actor,
                   correction_note: str | None = None) -> Report:
    """Freeze and publish the next revision of the report, then tell commenters who asked."""
    previous = published_report(consultation)
    if previous is not None and not (correction_note or "").strip():
        message = _("更正已发布的报告须说明更正内容。")
        raise ValidationFailed(message, code="correction_note_required",
                               fields={"correction_note": message})
    open_items = blockers(consultation)
    if open_items:
        raise Conflict(
            _("还有 %(pending)d 条意见待审核、%(unanswered)d 条意见未答复、"
              "%(reasonless)d 条答复缺少理由，暂不能发布采纳情况报告。",
              pending=open_items.get("pending_moderation", 0),
              unanswered=open_items.get("unanswered", 0),
              reasonless=open_items.get("missing_reason", 0)),
            code="report_incomplete", fields=open_items,
        )
    if previous is None:
        transition(consultation, "publish_report", actor=actor)
    elif consultation.status.value not in ("report_published", "policy_issued"):
        raise InvalidTransition()
    now = clock.now()
    revision = previous.revision + 1 if previous else 1
    content = build_report(consultation, revision=revision, summary=summary.strip(),
                           published_at=now)
    content["digest"] = digest_of(content)
    report = Report(
        consultation=consultation, revision=revision, summary=summary.strip(),
        correction_note=(correction_note or "").strip() or None, content=content,
        digest=content["digest"], published_at=now, published_by=actor,
    )
    db.session.add(report)
    audit.record(actor, "publish_report", report, unit_id=consultation.unit_id,
                 reason=report.correction_note, detail={"revision": revision})
    if previous is None:
        _notify_commenters(consultation)
    return report


def _notify_commenters(consultation: Consultation) -> None:
    link = external_url("answers.report", consultation_id=consultation.id)
    for comment in comments_of(consultation):
        if not (comment.email and comment.notify):
            continue
        disposition = comment.disposition
        answer = (
            _("采纳情况：%(code)s\n理由：%(reason)s", code=disposition_label(disposition.code),
              reason=disposition.reason or "—")
            if disposition and comment.needs_answer else _("（该意见未公开，无需答复。）")
        )
        body = _(
            "您好：\n\n《%(title)s》的意见采纳情况已公布。\n您的意见编号：%(no)s\n%(answer)s\n\n"
            "查看完整报告：%(link)s",
            title=consultation.title, no=comment.tracking_no, answer=answer, link=link,
        )
        mail.queue("report_published", comment.email,
                   _("意见采纳情况已公布：%(title)s", title=consultation.title), body)


def disposition_label(code: DispositionCode) -> str:
    from consult.labels import label

    return label(code, "disposition")
