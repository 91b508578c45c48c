"""Answering comments and publishing the adoption report (SPEC §5, §6)."""

from __future__ import annotations

import hashlib
import json

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock, mail
from consult.answers.bulk import in_confirmed_group, write_answer_list
from consult.answers.files import queue_builds
from consult.answers.groups import report_groups
from consult.answers.models import (
    UNSPECIFIED_REGION,
    Disposition,
    DispositionCode,
    Report,
    ReportDraft,
)
from consult.auth.models import User
from consult.comments.models import Category, Channel, Comment, CommentStatus, HiddenReason
from consult.comments.services import public_text
from consult.consultations.models import Article, Consultation, DraftVersion
from consult.consultations.services import transition
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.labels import label
from consult.urls import external_url

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "publish_report": _l("发布意见采纳情况报告"),
    "answer": _l("答复意见"),
    "revise_answer": _l("修改答复"),
    "suggest_groups": _l("查找相同意见"),
    "confirm_group": _l("确认相同意见组"),
    "split_group": _l("移出相同意见组"),
    "merge_groups": _l("合并相同意见组"),
    "group_comments": _l("合并为相同意见组"),
    "answer_group": _l("统一答复相同意见组"),
    "add_reason_template": _l("添加理由模板"),
    "delete_reason_template": _l("删除理由模板"),
    "import_answers": _l("导入答复表"),
    "save_report_summary": _l("起草总体情况说明"),
})



def published_report(consultation: Consultation) -> Report | None:
    """The newest published revision of the report, if any. Its frozen JSON (tens of MB for
    100 000 comments) is loaded only when `.content` is read: most callers only ask whether
    there is one."""
    return db.session.scalar(
        db.select(Report)
        .where(Report.consultation_id == consultation.id, Report.published_at.is_not(None))
        .order_by(Report.revision.desc())
        .limit(1)
        .options(db.defer(Report.content))
    )


def answer_comment(comment: Comment, code: DispositionCode, reason: str | None, *,
                   actor: User) -> Disposition:
    """Record or revise the unit's answer to one comment, until the report is published."""
    reason = (reason or "").strip() or None
    if code != DispositionCode.ADOPTED and not reason:
        message = _("除“采纳”外，答复须说明理由。")
        raise ValidationFailed(message, code="reason_required", fields={"reason": message})
    if not comment.needs_answer:
        message = _("该意见未公开（未验证、待审核或不予公开），无需答复。")
        raise Conflict(message, code="not_answerable")
    if comment.consultation.report_published:
        raise Conflict(_("采纳情况报告已发布，答复不能再修改。"), code="report_published")
    if in_confirmed_group(comment):  # its group answers for it (consult/answers/groups.py)
        raise Conflict(_("该意见属于已确认的相同意见组，请答复整组或先将其移出该组。"),
                       code="answer_the_group")
    write_answer_list([(comment, code, reason)], actor=actor, detail={})
    return comment.disposition


def comments_of(consultation: Consultation) -> list[Comment]:
    return db.session.scalars(
        db.select(Comment)
        .where(Comment.consultation_id == consultation.id)
        .order_by(Comment.id)
        .options(db.selectinload(Comment.disposition), db.selectinload(Comment.article),
                 db.selectinload(Comment.version))
    ).all()


def blockers(consultation: Consultation) -> dict[str, int]:
    """What stops the report from being published: counts of comments in each unfinished state.
    One aggregate query (the queue shows it on every page of 3 000 comments)."""
    published = Comment.status == CommentStatus.PUBLISHED

    def count(condition):
        return db.func.coalesce(db.func.sum(db.case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        db.select(
            count(Comment.status.in_([CommentStatus.PENDING_MODERATION,
                                      CommentStatus.SUBMITTED])),
            count(db.and_(published, Disposition.id.is_(None))),
            count(db.and_(published, Disposition.code != DispositionCode.ADOPTED,
                          db.or_(Disposition.reason.is_(None), Disposition.reason == ""))),
        )
        .select_from(Comment)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == consultation.id)
    ).one()
    names = ("pending_moderation", "unanswered", "missing_reason")
    return {name: int(n) for name, n in zip(names, row, strict=True) if n}


def _zero(enum_cls) -> dict[str, int]:
    return {member.value: 0 for member in enum_cls}


def _report_rows(consultation: Consultation):
    """Every comment with its version, article and answer as plain rows, streamed in order: a
    report of 100 000 comments loads no ORM objects (measured in bench/report_bench.py). The
    rows carry the columns that `public_text` and `Comment.public_*` read."""
    return db.session.execute(
        db.select(
            Comment.tracking_no, Comment.status, Comment.hidden_reason, Comment.body,
            Comment.category, Comment.channel, Comment.region, Comment.display_name,
            Comment.publish_name, Comment.received_at, Comment.created_at,
            DraftVersion.number.label("version_number"),
            Article.number.label("article_number"), Article.label.label("article_label"),
            Disposition.code.label("disposition_code"),
            Disposition.reason.label("disposition_reason"),
            Comment.group_id,
        )
        .join(DraftVersion, DraftVersion.id == Comment.version_id)
        .outerjoin(Article, Article.id == Comment.article_id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == consultation.id)
        .order_by(Comment.id)
        .execution_options(yield_per=2000)
    )


PROGRESS_STEP = 5000  # comments between two progress reports of a report build


def comment_count(consultation: Consultation) -> int:
    return db.session.scalar(
        db.select(db.func.count(Comment.id)).where(Comment.consultation_id == consultation.id))


def builds_in_a_job(consultation: Consultation) -> bool:
    """Whether the report of `consultation` is too large to build within a request
    (REPORT_JOB_MIN_COMMENTS)."""
    return comment_count(consultation) >= current_app.config["REPORT_JOB_MIN_COMMENTS"]


def build_report(consultation: Consultation, *, revision: int, summary: str,
                 published_at, progress=None) -> dict:
    """The report's JSON (SPEC §5), without the digest. Anyone can re-compute the totals.
    `progress(fraction)` hears how far it is (a job shows it to staff)."""
    total = comment_count(consultation) if progress else 0
    totals = {
        "received": 0, "unverified": 0, "hidden": 0, "hidden_by_reason": _zero(HiddenReason),
        "answered": 0, "by_disposition": _zero(DispositionCode), "by_category": _zero(Category),
        "by_channel": _zero(Channel), "by_region": {},
    }
    by_article: dict[tuple[int, int | None], dict] = {}
    items = []
    public_name, public_region = Comment.public_name.fget, Comment.public_region.fget
    zone = clock.local_zone()
    campaigns = report_groups(consultation)  # confirmed groups: one item each (F13)
    for done, comment in enumerate(_report_rows(consultation)):
        if progress and done % PROGRESS_STEP == 0:
            progress(done / max(total, 1))
        version = comment.version_number
        article = comment.article_number
        shown_region = public_region(comment)
        region = shown_region or UNSPECIFIED_REGION
        row = by_article.get((version, article))
        if row is None:
            row = by_article[version, article] = {
                "version": version, "article": article, "label": comment.article_label,
                "received": 0, "by_disposition": _zero(DispositionCode),
            }
        totals["received"] += 1
        row["received"] += 1
        totals["by_category"][comment.category.value] += 1
        totals["by_channel"][comment.channel.value] += 1
        totals["by_region"][region] = totals["by_region"].get(region, 0) + 1
        code = hidden_reason = None
        if comment.status == CommentStatus.HIDDEN:
            totals["hidden"] += 1
            hidden_reason = (comment.hidden_reason or HiddenReason.OTHER).value
            totals["hidden_by_reason"][hidden_reason] += 1
        elif comment.status == CommentStatus.UNVERIFIED:
            totals["unverified"] += 1
        else:
            code = comment.disposition_code.value  # publishing checked that it exists
            totals["answered"] += 1
            totals["by_disposition"][code] += 1
            row["by_disposition"][code] += 1
        campaign = campaigns.get(comment.group_id) if code else None
        if campaign is not None:  # counted above one by one; listed once, with its counts
            if campaign.add(comment, version, article, region, zone):
                items.append(campaign.item)
            continue
        items.append({
            "kind": "comment", "tracking_no": comment.tracking_no, "count": 1,
            "version": version, "article": article, "category": comment.category.value,
            "channel": comment.channel.value, "region": shown_region,
            "visibility": comment.status.value, "text": public_text(comment),
            "hidden_reason": hidden_reason,  # so that hidden_by_reason can be re-computed
            "name": public_name(comment),
            "disposition": code,
            "reason": comment.disposition_reason if code else None,
            # local date the comment reached the unit (letters: their received date), for the
            # report's timeline
            "submitted_on": (comment.received_at or comment.created_at).astimezone(zone)
            .date().isoformat(),
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


def publish_report(consultation: Consultation, *, summary: str, actor: User,
                   correction_note: str | None = None, progress=None) -> Report:
    """Freeze and publish the next revision of the report, then tell commenters who asked and
    queue the build of its PDF and XLSX. The report is built before anything is written, so a
    long build holds no write lock."""
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
    if previous is not None and consultation.status.value not in ("report_published",
                                                                  "policy_issued"):
        raise InvalidTransition()
    now = clock.now()
    revision = previous.revision + 1 if previous else 1
    content = build_report(consultation, revision=revision, summary=summary.strip(),
                           published_at=now, progress=progress)
    content["digest"] = digest_of(content)
    if previous is None:
        transition(consultation, "publish_report", actor=actor)
        consultation.report_published_at = now
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
    queue_builds(report)
    return report


def publish_revision(consultation: Consultation, *, note: str, actor: User | None,
                     content: dict | None = None) -> Report:
    """The next revision of a published report, for a change the law requires after publication
    (a comment hidden, personal data erased or masked anew), with `note` published beside it.

    Built from the comments as they are now — the frozen parts (answers, groups) cannot have
    changed — or from `content`, an edited copy of the newest revision. Unlike a correction it
    is never refused for the report's own state: unlawful content found late must come down.
    Nobody is mailed: commenters were told when the report first came out.
    """
    previous = published_report(consultation)
    if previous is None:
        raise InvalidTransition(_("采纳情况报告尚未发布。"), code="no_report")
    now = clock.now()
    revision = previous.revision + 1
    if content is None:
        content = build_report(consultation, revision=revision, summary=previous.summary,
                               published_at=now)
    else:
        content = {**content, "revision": revision, "published_at": clock.local(now).isoformat()}
    content["digest"] = digest_of(content)
    report = Report(
        consultation=consultation, revision=revision, summary=previous.summary,
        correction_note=note, content=content, digest=content["digest"], published_at=now,
        published_by=actor,
    )
    db.session.add(report)
    db.session.flush()
    audit.record(actor, "publish_report", report, unit_id=consultation.unit_id, reason=note,
                 detail={"revision": revision, "after_publication": True})
    return report


def _notify_commenters(consultation: Consultation) -> None:
    link = external_url("answers.report", consultation_id=consultation.id)
    for comment in comments_of(consultation):
        if not (comment.email and comment.notify):
            continue
        answered = comment.disposition is not None and comment.needs_answer
        mail.queue_mail("report_published", comment.email, language=comment.language,
                        consultation=consultation, comment=comment, link=link,
                        disposition=comment.disposition if answered else None)


def disposition_label(code: DispositionCode) -> str:
    return label(code, "disposition")


# --- the 总体情况说明, drafted by the editors -----------------------------------------------------

SUMMARY_MAX = 20_000


def summary_draft(consultation: Consultation) -> ReportDraft | None:
    return db.session.scalar(
        db.select(ReportDraft).where(ReportDraft.consultation_id == consultation.id))


def save_summary_draft(consultation: Consultation, summary: str, *, actor: User) -> ReportDraft:
    """Keep the editors' draft of the report's narrative; the approver publishes from it."""
    if consultation.report_published:
        raise Conflict(_("采纳情况报告已发布，答复不能再修改。"), code="report_published")
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        message = _("总体情况说明不能超过 %(n)d 个字。", n=SUMMARY_MAX)
        raise ValidationFailed(message, code="too_long", fields={"summary": message})
    draft = summary_draft(consultation)
    if draft is None:
        draft = ReportDraft(consultation_id=consultation.id)
        db.session.add(draft)
    draft.summary = summary
    draft.updated_by = actor
    draft.updated_at = clock.now()
    audit.record(actor, "save_report_summary", consultation, unit_id=consultation.unit_id,
                 detail={"characters": len(summary)})
    return draft


def suggested_summary(consultation: Consultation) -> str:
    """A first draft of the narrative from the figures, for the editor to complete: the
    window, how many comments from how many channels, on how many articles, and the answers
    given so far."""
    rows = db.session.execute(
        db.select(Comment.status, Comment.article_id, Disposition.code)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == consultation.id)
    ).all()
    received = len(rows)
    articles = len({r.article_id for r in rows if r.article_id is not None})
    by_code = {code: 0 for code in DispositionCode}
    for row in rows:
        if row.code is not None and row.status == CommentStatus.PUBLISHED:
            by_code[row.code] += 1
    opens, closes = clock.local(consultation.opens_at), clock.local(consultation.closes_at)
    parts = [_("本次意见征集自 %(opens)s 至 %(closes)s，共收到公众意见 %(n)d 条，"
               "涉及 %(k)d 个条款。", opens=opens.date().isoformat(),
               closes=closes.date().isoformat(), n=received, k=articles)]
    answered = [_("%(label)s %(n)d 条", label=disposition_label(code), n=n)
                for code, n in by_code.items() if n]
    if answered:
        parts.append(_("经认真研究，%(list)s。", list="、".join(answered)))
    parts.append(_("未予采纳的意见，理由逐条列于下表。主要意见及采纳情况：……"))
    return "".join(parts)
