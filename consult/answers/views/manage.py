"""Staff workspace: the answering queue and publishing the adoption report."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from consult import clock
from consult.answers import policy
from consult.answers.forms import AnswerForm, ReportForm
from consult.answers.models import DispositionCode
from consult.answers.services import (
    answer_comment,
    blockers,
    build_report,
    publish_report,
    published_report,
)
from consult.answers.views import bp
from consult.auth.views import staff_required
from consult.comments.models import Comment, CommentStatus
from consult.consultations.forms import attach_errors
from consult.consultations.models import Article, Consultation
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.labels import DISPOSITION_LABELS
from consult.permissions import Perm, has_permission

PER_PAGE = 50
ANSWERED_FILTERS = ("all", "unanswered", "answered")


def _load(consultation_id: int) -> Consultation:
    consultation = db.get_or_404(Consultation, consultation_id)
    if not policy.can_view_comments(current_user, consultation):
        abort(403)
    return consultation


def _filters() -> dict[str, str]:
    """The queue's filters from the query string, normalised (unknown values mean "all")."""
    article = request.args.get("article", "")
    answered = request.args.get("answered", "all")
    return {
        "article": article if article == "whole" or article.isdigit() else "",
        "answered": answered if answered in ANSWERED_FILTERS else "all",
    }


def _queue_query(consultation: Consultation, filters: dict[str, str]):
    query = db.select(Comment).where(Comment.consultation_id == consultation.id)
    if filters["article"] == "whole":
        query = query.where(Comment.article_id.is_(None))
    elif filters["article"]:
        query = query.join(Article, Comment.article_id == Article.id).where(
            Article.number == int(filters["article"])
        )
    if filters["answered"] == "answered":
        query = query.where(Comment.disposition.has())
    elif filters["answered"] == "unanswered":
        query = query.where(Comment.status == CommentStatus.PUBLISHED, ~Comment.disposition.has())
    return query.order_by(Comment.id).options(
        selectinload(Comment.disposition), selectinload(Comment.article)
    )


def _render_queue(consultation: Consultation, *, failed=None, status=200):
    """The queue page; `failed` = (comment id, form, message) re-shows one rejected answer."""
    filters = _filters()
    page = request.args.get("page", 1, type=int)
    comments = db.paginate(_queue_query(consultation, filters), page=page, per_page=PER_PAGE,
                           error_out=False)
    return render_template(
        "staff/queue.html",
        c=consultation,
        comments=comments,
        filters=filters,
        page=page,
        articles=consultation.current_version.articles if consultation.current_version else [],
        choices=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        failed=failed,
        can_answer=policy.can_answer(current_user, consultation),
        report=published_report(consultation),
        open_items=blockers(consultation),
    ), status


@bp.get("/staff/consultations/<int:consultation_id>/comments")
@staff_required
def manage_queue(consultation_id: int):
    """Every comment with its original text and contact data, and a form to answer each."""
    return _render_queue(_load(consultation_id))


@bp.post("/staff/comments/<int:comment_id>/answer")
@staff_required
def manage_answer(comment_id: int):
    """Record or revise the answer to one comment, then return to it in the queue."""
    comment = db.get_or_404(Comment, comment_id)
    consultation = comment.consultation
    if not policy.can_answer(current_user, consultation):
        abort(403)
    form = AnswerForm()
    if not form.validate():
        return _render_queue(consultation, failed=(comment.id, form, None), status=422)
    try:
        with db.session.begin_nested():
            answer_comment(comment, DispositionCode(form.code.data), form.reason.data,
                           actor=current_user)
    except ValidationFailed as error:
        attach_errors(form, error)
        return _render_queue(consultation, failed=(comment.id, form, error.message), status=422)
    db.session.commit()
    flash(_("已答复意见 %(no)s。", no=comment.tracking_no), "success")
    args = {k: v for k, v in request.args.items() if k in ("article", "answered", "page")}
    return redirect(url_for(".manage_queue", consultation_id=consultation.id, **args,
                            _anchor=f"comment-{comment.id}"))


def _render_report(consultation: Consultation, form: ReportForm, *, message=None, status=200):
    open_items = blockers(consultation)
    report = published_report(consultation)
    preview = None
    if not open_items and report is None:
        # Unanswered comments have no totals yet; the preview is what would be frozen now.
        preview = build_report(consultation, revision=1, summary=form.summary.data or "",
                               published_at=clock.now())
    return render_template(
        "staff/report.html",
        c=consultation,
        status_now=consultation.status,
        form=form,
        open_items=open_items,
        preview=preview,
        report=report,
        can_publish=policy.can_publish_report(current_user, consultation),
        dispositions=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        message=message,
    ), status


@bp.route("/staff/consultations/<int:consultation_id>/report", methods=["GET", "POST"])
@staff_required
def manage_report(consultation_id: int):
    """What stops the report, a preview of its totals, and (for approvers) the publish button."""
    consultation = _load(consultation_id)
    if request.method == "GET":
        return _render_report(consultation, ReportForm(formdata=None))
    if not policy.can_publish_report(current_user, consultation):
        if has_permission(current_user, Perm.PUBLISH_REPORT, consultation.unit):
            raise InvalidTransition(_("只能在征求意见截止后、报告尚未发布时发布采纳情况报告。"))
        abort(403)
    form = ReportForm()
    if not form.validate():
        return _render_report(consultation, form, status=422)
    try:
        with db.session.begin_nested():
            publish_report(consultation, summary=form.summary.data or "", actor=current_user)
    except Conflict as error:
        if error.code != "report_incomplete":
            raise
        return _render_report(consultation, form, message=error.message, status=409)
    db.session.commit()
    flash(_("意见采纳情况报告已发布。"), "success")
    return redirect(url_for("answers.report", consultation_id=consultation.id))
