"""Slow work of the answers domain, run as jobs (consult/jobs): finding groups, building and
publishing large reports, building the report's downloads, the staff daily digest.

Each handler checks again, when it runs, that the person who asked may still do it (a job can
wait while roles change); a refusal fails the job at once with the reason.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import clock
from consult.answers import groups, policy, topics
from consult.answers.clustering import find_topics
from consult.answers.digest import send_digests
from consult.answers.files import JOB_KIND as FILE_JOB
from consult.answers.files import built_file, file_inputs, render_file, store_file
from consult.answers.models import Report
from consult.answers.services import blockers, build_report, publish_report, published_report
from consult.answers.similarity import find_groups
from consult.comments.models import Comment
from consult.consultations.models import Consultation
from consult.errors import Conflict, NotAllowed, NotFound
from consult.extensions import db
from consult.jobs.queue import enqueue, handler

SUGGEST = "suggest_groups"
TOPICS = "find_topics"
PREVIEW = "report_preview"
PUBLISH = "publish_report"


def _consultation(job) -> Consultation:
    consultation = db.session.get(Consultation, job.consultation_id or 0)
    if consultation is None:
        raise NotFound(_("意见征集已不存在。"))
    return consultation


def _allowed(check, ctx, consultation) -> None:
    if ctx.actor is None or not check(ctx.actor, consultation):
        raise NotAllowed(_("提出该任务的人员已无权进行此操作。"), code="no_longer_allowed")


# --- group suggestions -------------------------------------------------------------------------


def queue_suggestions(consultation: Consultation, *, actor):
    """Queue the group detector for `consultation` (one at a time per consultation)."""
    return enqueue(SUGGEST, {"similarity": groups.default_similarity()}, actor=actor,
                   consultation=consultation, dedupe_key=f"{SUGGEST}:{consultation.id}")


@handler(SUGGEST, _l("查找相同意见"))
def run_suggestions(job, ctx) -> dict:
    consultation = _consultation(job)
    _allowed(policy.can_answer, ctx, consultation)
    ctx.progress(1, _("读取意见"))
    rows = groups.suggestion_input(consultation)
    db.session.commit()  # the detector's minutes hold no database lock
    steps = {"normalise": _("整理文字"), "compare": _("比对相近意见")}
    report = ctx.scaled(5, 90)
    found = find_groups(
        rows, similarity=ctx.args.get("similarity") or groups.default_similarity(),
        progress=lambda fraction, step=None: report(fraction, steps.get(step)))
    ctx.progress(92, _("保存分组"))
    ctx.begin_writing()
    created = groups.store_suggestions(
        consultation, found, actor=ctx.actor,
        similarity=ctx.args.get("similarity") or groups.default_similarity())
    grouped = db.session.scalar(db.select(db.func.count(Comment.id)).where(
        Comment.group_id.in_([g.id for g in created]))) if created else 0
    return {"groups": len(created), "comments": grouped, "looked_at": len(rows)}


# --- topics ------------------------------------------------------------------------------------


def queue_topics(consultation: Consultation, *, actor):
    """Queue the clustering of `consultation`'s comments into topics (one at a time)."""
    return enqueue(TOPICS, {}, actor=actor, consultation=consultation,
                   dedupe_key=f"{TOPICS}:{consultation.id}")


@handler(TOPICS, _l("查找意见主题"))
def run_topics(job, ctx) -> dict:
    consultation = _consultation(job)
    _allowed(policy.can_answer, ctx, consultation)
    ctx.progress(1, _("读取意见"))
    rows = topics.topic_input(consultation)
    db.session.commit()  # the clustering holds no database lock
    report = ctx.scaled(5, 90)
    found = find_topics(rows, progress=lambda fraction: report(fraction, _("归类意见")))
    ctx.progress(92, _("保存主题"))
    ctx.begin_writing()
    created = topics.store_topics(consultation, found, actor=ctx.actor)
    return {"topics": len(created), "comments": sum(t.size for t in created),
            "looked_at": len(rows)}


# --- large reports -----------------------------------------------------------------------------


def _answered(consultation: Consultation) -> None:
    """Unanswered comments have no totals yet: a preview waits until every one is answered."""
    if blockers(consultation):
        raise Conflict(_("还有意见未处理完，暂不能生成报告预览。"), code="report_incomplete")


def queue_preview(consultation: Consultation, *, actor):
    _answered(consultation)  # refused at once (409), not in the job
    return enqueue(PREVIEW, {}, actor=actor, consultation=consultation,
                   dedupe_key=f"{PREVIEW}:{consultation.id}")


@handler(PREVIEW, _l("生成报告预览"))
def run_preview(job, ctx) -> dict:
    """The totals and the per-article table the report would freeze now."""
    consultation = _consultation(job)
    _allowed(policy.can_view_comments, ctx, consultation)
    _answered(consultation)
    ctx.progress(1, _("统计意见"))
    now = clock.now()
    content = build_report(consultation, revision=1, summary="", published_at=now,
                           progress=ctx.scaled(2, 98))
    return {"totals": content["totals"], "by_article": content["by_article"],
            "built_at": now.isoformat()}


def queue_publication(consultation: Consultation, *, summary: str, actor):
    return enqueue(PUBLISH, {"summary": summary}, actor=actor, consultation=consultation,
                   dedupe_key=f"{PUBLISH}:{consultation.id}")


@handler(PUBLISH, _l("发布采纳情况报告"))
def run_publication(job, ctx) -> dict:
    consultation = _consultation(job)
    done = published_report(consultation)
    if (done is not None and done.published_by_id == job.requested_by_id
            and done.published_at >= job.created_at):
        # This job published it, and its worker died before marking the job done.
        return {"report_id": done.id, "revision": done.revision}
    _allowed(policy.can_publish_report, ctx, consultation)
    ctx.progress(1, _("统计意见"))
    # The build reads for a long time before publish_report writes anything; on SQLite a
    # writer meanwhile makes the write fail, and the job tries again later.
    report = publish_report(consultation, summary=ctx.args.get("summary", ""), actor=ctx.actor,
                            progress=ctx.scaled(2, 95))
    db.session.flush()
    ctx.writing = True  # the job is marked done in the report's own transaction
    return {"report_id": report.id, "revision": report.revision}


# --- downloads ---------------------------------------------------------------------------------


@handler(FILE_JOB, _l("生成报告下载文件"))
def run_file_build(job, ctx) -> dict:
    report = db.session.get(Report, ctx.args.get("report_id") or 0)
    if report is None or report.published_at is None:
        raise NotFound(_("报告已不存在。"))
    extension, locale = ctx.args["format"], ctx.args["locale"]
    built = built_file(report, extension, locale)
    if built is None:
        inputs = file_inputs(report)
        db.session.commit()  # the layout below holds no database lock
        ctx.progress(5, _("排版 %(format)s", format=extension.upper()))
        data, disposition = render_file(inputs, extension, locale)
        ctx.progress(95, _("保存文件"))
        ctx.begin_writing()
        report = db.session.get(Report, ctx.args["report_id"])
        built = store_file(report, extension, locale, data, disposition)
    return {"built_file_id": built.id, "size": built.size}


# --- the staff daily digest --------------------------------------------------------------------


@handler("staff_digest", _l("每日新意见提醒"))
def run_digest(job, ctx) -> dict:
    ctx.begin_writing()
    result = send_digests()
    return {"sent": result.sent, "nothing_new": result.nothing_new,
            "already_sent": result.already_sent}
