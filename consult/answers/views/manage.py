"""Staff workspace: the answering queue and publishing the adoption report."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from consult import clock
from consult.answers import policy
from consult.answers.bulk import (
    add_reason_template,
    answer_many,
    delete_reason_template,
    fill_from_template,
    load_comments,
    reason_templates,
    template_for,
)
from consult.answers.forms import AnswerForm, BulkForm, ReportForm, TemplateForm
from consult.answers.groups import group_comments, ungroup_comments
from consult.answers.jobs import PREVIEW, PUBLISH, queue_preview, queue_publication
from consult.answers.models import (
    DISPOSITION_LABELS,
    CommentGroup,
    Disposition,
    DispositionCode,
    GroupStatus,
    ReasonTemplate,
)
from consult.answers.services import (
    answer_comment,
    blockers,
    build_report,
    builds_in_a_job,
    publish_report,
    published_report,
    save_summary_draft,
    suggested_summary,
    summary_draft,
)
from consult.answers.sheet import group_key
from consult.answers.views import bp
from consult.comments.models import Category, Channel, Comment, CommentStatus
from consult.consultations.models import Article, Consultation
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.jobs.queue import REFRESH_SECONDS, latest_job
from consult.paging import id_filter, page_number
from consult.web import commits, form_errors, load_or_403, staff_required

PER_PAGE = 50
STATE_FILTERS = ("all", "unanswered", "answered", "missing_reason", "hidden", "unverified",
                 "pending")
GROUP_FILTERS = ("", "ungrouped", "suggested", "confirmed")
# Query-string keys of the queue that a form posted from it carries back after the redirect.
QUEUE_ARGS = ("article", "category", "channel", "state", "answered", "group", "page")


def _load(consultation_id: int) -> Consultation:
    return load_or_403(Consultation, consultation_id, policy.can_view_comments)


def _load_for_answering(consultation_id: int) -> Consultation:
    return load_or_403(Consultation, consultation_id, policy.can_answer)


def _filters() -> dict[str, str]:
    """The queue's filters from the query string, normalised (unknown values mean "all").
    `answered` is the older name of `state`, still used by links elsewhere."""
    article = request.args.get("article", "")
    state = request.args.get("state") or request.args.get("answered", "all")
    category = request.args.get("category", "")
    channel = request.args.get("channel", "")
    group = request.args.get("group", "")
    return {
        "article": article if article == "whole" or id_filter(article) is not None else "",
        "state": state if state in STATE_FILTERS else "all",
        "category": category if category in {c.value for c in Category} else "",
        "channel": channel if channel in {c.value for c in Channel} else "",
        "group": group if group in GROUP_FILTERS or id_filter(group) is not None else "",
    }


def _queue_query(consultation: Consultation, filters: dict[str, str]):
    query = db.select(Comment).where(Comment.consultation_id == consultation.id)
    if filters["article"] == "whole":
        query = query.where(Comment.article_id.is_(None))
    elif filters["article"]:
        query = query.join(Article, Comment.article_id == Article.id).where(
            Article.number == int(filters["article"])
        )
    if filters["category"]:
        query = query.where(Comment.category == filters["category"])
    if filters["channel"]:
        query = query.where(Comment.channel == filters["channel"])
    state = filters["state"]
    if state == "answered":
        query = query.where(Comment.disposition.has())
    elif state == "unanswered":
        query = query.where(Comment.status == CommentStatus.PUBLISHED, ~Comment.disposition.has())
    elif state == "missing_reason":
        query = query.where(Comment.status == CommentStatus.PUBLISHED, Comment.disposition.has(
            db.and_(Disposition.code != DispositionCode.ADOPTED,
                    db.or_(Disposition.reason.is_(None), Disposition.reason == ""))))
    elif state == "hidden":
        query = query.where(Comment.status == CommentStatus.HIDDEN)
    elif state == "unverified":
        query = query.where(Comment.status == CommentStatus.UNVERIFIED)
    elif state == "pending":
        query = query.where(Comment.status.in_(
            [CommentStatus.PENDING_MODERATION, CommentStatus.SUBMITTED]))
    group = filters["group"]
    if group == "ungrouped":
        query = query.where(Comment.group_id.is_(None))
    elif group in ("suggested", "confirmed"):
        query = query.where(Comment.group_id.in_(
            db.select(CommentGroup.id).where(CommentGroup.consultation_id == consultation.id,
                                             CommentGroup.status == GroupStatus(group))))
    elif group:
        query = query.where(Comment.group_id == int(group))
    return query.order_by(Comment.id).options(
        selectinload(Comment.disposition).selectinload(Disposition.answered_by),
        selectinload(Comment.article), selectinload(Comment.group),
    )


def _group_sizes(comments) -> dict[int, int]:
    ids = {c.group_id for c in comments if c.group_id}
    if not ids:
        return {}
    return dict(db.session.execute(
        db.select(Comment.group_id, db.func.count(Comment.id))
        .where(Comment.group_id.in_(ids)).group_by(Comment.group_id)
    ).all())


def _render_queue(consultation: Consultation, *, failed=None, bulk=None, bulk_message=None,
                  template_form=None, status=200):
    """The queue page; `failed` = (comment id, form, message) re-shows one rejected answer,
    `bulk` a rejected bulk action (with the ids that were selected), `template_form` a
    rejected reason template."""
    filters = _filters()
    page = page_number()
    comments = db.paginate(_queue_query(consultation, filters), page=page, per_page=PER_PAGE,
                           error_out=False)
    templates = reason_templates(consultation)
    report = published_report(consultation)
    can_answer = policy.can_answer(current_user, consultation)
    # Keyboard flow: focus starts on the first comment of the page still waiting for an answer.
    focus = next((c.id for c in comments.items if c.needs_answer and c.disposition is None
                  and not (c.group and c.group.confirmed)), None)
    group = None
    if filters["group"].isdigit():
        group = db.session.get(CommentGroup, int(filters["group"]))
        if group is not None and group.consultation_id != consultation.id:
            group = None
    return render_template(
        "answers/staff/queue.html",
        c=consultation,
        comments=comments,
        filters=filters,
        page=page,
        articles=consultation.current_version.articles if consultation.current_version else [],
        choices=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        failed=failed,
        bulk=bulk or BulkForm(formdata=None, prefix="bulk"),
        bulk_message=bulk_message,
        selected={int(i) for i in request.form.getlist("comment_ids") if i.isdigit()}
        if bulk is not None else set(),
        template_form=template_form or TemplateForm(formdata=None, prefix="template"),
        templates=templates,
        group_sizes=_group_sizes(comments.items),
        filter_group=group,
        focus=focus,
        can_answer=can_answer and report is None,
        report=report,
        open_items=blockers(consultation),
        categories=list(Category),
        channels=list(Channel),
        state_filters=STATE_FILTERS,
    ), status


def _back_to_queue(consultation: Consultation, anchor: str | None = None):
    args = {k: v for k, v in request.args.items() if k in QUEUE_ARGS}
    return redirect(url_for(".manage_queue", consultation_id=consultation.id, **args,
                            _anchor=anchor))


@bp.get("/staff/consultations/<int:consultation_id>/comments")
@staff_required
def manage_queue(consultation_id: int):
    """Every comment with its original text and contact data, and a form to answer each."""
    return _render_queue(_load(consultation_id))


@bp.post("/staff/comments/<int:comment_id>/answer")
@staff_required
@commits
def manage_answer(comment_id: int):
    """Record or revise the answer to one comment, then return to it in the queue. A chosen
    reason template fills what the form left empty."""
    comment = load_or_403(Comment, comment_id,
                          lambda user, c: policy.can_answer(user, c.consultation))
    consultation = comment.consultation
    template = template_for(consultation, request.form.get("template_id"))
    data = request.form.copy()
    code, reason = fill_from_template(template, data.get("code"), data.get("reason"))
    if code:
        data["code"] = code
    data["reason"] = reason or ""
    form = AnswerForm(formdata=data)
    if not form.validate():
        return _render_queue(consultation, failed=(comment.id, form, None), status=422)
    with form_errors(form) as failed:
        answer_comment(comment, DispositionCode(form.code.data), form.reason.data,
                       actor=current_user)
    if failed:
        return _render_queue(consultation, failed=(comment.id, form, failed.message), status=422)
    flash(_("已答复意见 %(no)s。", no=comment.tracking_no), "success")
    return _back_to_queue(consultation, f"comment-{comment.id}")


@bp.post("/staff/consultations/<int:consultation_id>/comments/bulk")
@staff_required
@commits
def manage_bulk(consultation_id: int):
    """The comments ticked in the queue: one answer for all, made into one group, or taken
    out of their groups. All or nothing."""
    consultation = _load_for_answering(consultation_id)
    form = BulkForm(prefix="bulk")
    if not form.validate():
        return _render_queue(consultation, bulk=form, status=422)
    ids = [i for i in request.form.getlist("comment_ids") if i.isdigit()]
    comments = load_comments(consultation, ids)
    action = form.action.data
    with form_errors(form, catch=(ValidationFailed, Conflict)) as failed:
        if action == "answer":
            template = template_for(consultation, form.template_id.data)
            code, reason = fill_from_template(template, form.code.data, form.reason.data)
            if not code:
                message = _("请选择采纳情况。")
                raise ValidationFailed(message, code="code_required", fields={"code": message})
            changed = answer_many(consultation, comments, DispositionCode(code), reason,
                                  actor=current_user)
            flash(_("已统一答复 %(n)d 条意见。", n=changed), "success")
        elif action == "group":
            group = group_comments(consultation, comments, actor=current_user)
            flash(_("已将 %(n)d 条意见合并为相同意见组 %(key)s。", n=len(comments),
                    key=group_key(group.id)), "success")
        else:
            ungroup_comments(consultation, comments, actor=current_user)
            flash(_("已将 %(n)d 条意见移出所在的组。", n=len(comments)), "success")
    if failed:
        return _render_queue(consultation, bulk=form, bulk_message=failed.message,
                             status=failed.status)
    return _back_to_queue(consultation)


@bp.post("/staff/consultations/<int:consultation_id>/reason-templates")
@staff_required
@commits
def manage_add_template(consultation_id: int):
    """Keep a reason to reuse when answering."""
    consultation = _load_for_answering(consultation_id)
    form = TemplateForm(prefix="template")
    if not form.validate():
        return _render_queue(consultation, template_form=form, status=422)
    template = add_reason_template(consultation, title=form.title.data,
                                   code=DispositionCode(form.code.data), text=form.text.data,
                                   actor=current_user)
    flash(_("已添加理由模板“%(title)s”。", title=template.title), "success")
    return _back_to_queue(consultation, "reason-templates")


@bp.post("/staff/reason-templates/<int:template_id>/delete")
@staff_required
@commits
def manage_delete_template(template_id: int):
    """Remove a reason template (answers already given keep their text)."""
    template = load_or_403(ReasonTemplate, template_id,
                           lambda user, t: policy.can_answer(user, t.consultation))
    consultation = template.consultation
    delete_reason_template(template, actor=current_user)
    flash(_("已删除理由模板。"), "success")
    return _back_to_queue(consultation, "reason-templates")


def _report_form(consultation: Consultation) -> ReportForm:
    """The publish form, starting from the editors' draft of the 总体情况说明."""
    form = ReportForm(formdata=None)
    draft = summary_draft(consultation)
    form.summary.data = draft.summary if draft is not None else ""
    return form


def _render_report(consultation: Consultation, form: ReportForm, *, message=None, status=200,
                   template="answers/staff/report.html", draft_form=None):
    open_items = blockers(consultation)
    report = published_report(consultation)
    preview = preview_job = publishing = None
    in_a_job = report is None and builds_in_a_job(consultation)
    if in_a_job:
        # Too large to build within the request: the preview and the publication are jobs.
        publishing = latest_job(consultation, PUBLISH)
        preview_job = latest_job(consultation, PREVIEW)
        if preview_job is not None and preview_job.result and not open_items:
            preview = preview_job.result
    elif not open_items and report is None:
        # Unanswered comments have no totals yet; the preview is what would be frozen now.
        preview = build_report(consultation, revision=1, summary=form.summary.data or "",
                               published_at=clock.now())
    working = [j for j in (publishing, preview_job) if j is not None and j.active]
    draft = summary_draft(consultation)
    if draft_form is None:
        draft_form = ReportForm(formdata=None, prefix="draft")
        draft_form.summary.data = draft.summary if draft is not None else suggested_summary(
            consultation)
    return render_template(
        template,
        c=consultation,
        status_now=consultation.status,
        draft=draft,
        draft_form=draft_form,
        can_draft=policy.can_answer(current_user, consultation) and report is None,
        notified=_notified(consultation) if template.endswith("check_publish.html") else 0,
        form=form,
        open_items=open_items,
        preview=preview,
        report=report,
        in_a_job=in_a_job,
        preview_job=preview_job,
        publishing=publishing,
        refresh=REFRESH_SECONDS if working else None,
        can_publish=policy.can_publish_report(current_user, consultation)
        and not (publishing is not None and publishing.active),
        dispositions=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        message=message,
    ), status


@bp.route("/staff/consultations/<int:consultation_id>/report", methods=["GET", "POST"])
@staff_required
@commits
def manage_report(consultation_id: int):
    """What stops the report, a preview of its totals, and (for approvers) the publish button.
    A large report is published by a job; the page shows its progress."""
    consultation = _load(consultation_id)
    if request.method == "GET":
        return _render_report(consultation, _report_form(consultation))
    policy.require_publish_report(current_user, consultation)
    form = ReportForm()
    if not form.validate():
        return _render_report(consultation, form, status=422,
                              template="answers/staff/check_publish.html")
    if builds_in_a_job(consultation):
        open_items = blockers(consultation)  # refused at once, not minutes later in the job
        if open_items:
            return _render_report(consultation, form, status=409, message=_(
                "还有意见未处理完，暂不能发布采纳情况报告。"))
        queue_publication(consultation, summary=form.summary.data or "", actor=current_user)
        flash(_("报告正在后台生成，完成后自动发布；本页显示进度。"), "success")
        return redirect(url_for(".manage_report", consultation_id=consultation.id))
    with form_errors(form, catch=(Conflict,)) as failed:
        publish_report(consultation, summary=form.summary.data or "", actor=current_user)
    if failed:
        if failed.error.code != "report_incomplete":
            raise failed.error
        return _render_report(consultation, form, message=failed.message, status=409)
    flash(_("意见采纳情况报告已发布。"), "success")
    return redirect(url_for("answers.report", consultation_id=consultation.id))


def _notified(consultation: Consultation) -> int:
    """How many commenters will be mailed when the report is published."""
    return db.session.scalar(
        db.select(db.func.count(Comment.id)).where(
            Comment.consultation_id == consultation.id, Comment.email.is_not(None),
            Comment.notify.is_(True)))


@bp.get("/staff/consultations/<int:consultation_id>/report/publish")
@staff_required
def manage_report_check(consultation_id: int):
    """What publishing the report will do (it cannot be undone), with the 总体情况说明 as
    the editors drafted it, to be confirmed by an approver."""
    consultation = _load(consultation_id)
    return _render_report(consultation, _report_form(consultation),
                          template="answers/staff/check_publish.html")


@bp.post("/staff/consultations/<int:consultation_id>/report/summary")
@staff_required
@commits
def manage_report_summary(consultation_id: int):
    """Save the editors' draft of the 总体情况说明 (the approver publishes from it)."""
    consultation = _load_for_answering(consultation_id)
    form = ReportForm(prefix="draft")
    if not form.validate():
        return _render_report(consultation, _report_form(consultation), draft_form=form,
                              status=422)
    with form_errors(form, catch=(ValidationFailed, Conflict)) as failed:
        save_summary_draft(consultation, form.summary.data or "", actor=current_user)
    if failed:
        return _render_report(consultation, _report_form(consultation), draft_form=form,
                              message=failed.message, status=failed.status)
    flash(_("总体情况说明草稿已保存，审核人发布报告时以此为准。"), "success")
    return redirect(url_for(".manage_report", consultation_id=consultation.id,
                            _anchor="summary-title"))


@bp.post("/staff/consultations/<int:consultation_id>/report/preview")
@staff_required
@commits
def manage_report_preview(consultation_id: int):
    """Build the preview of a large report in a job (the report page shows it when done)."""
    consultation = _load(consultation_id)
    if consultation.report_published:
        raise Conflict(_("采纳情况报告已发布。"), code="report_published")
    queue_preview(consultation, actor=current_user)
    flash(_("正在生成报告预览，完成后本页显示。"), "success")
    return redirect(url_for(".manage_report", consultation_id=consultation.id))
