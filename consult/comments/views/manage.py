"""Staff pages of the comments domain: moderation (F9) and the register of comments received by
letter, e-mail, hearing or symposium (F11b).

Every view loads its object, asks `comments.policy` whether the user may act (403 when not),
calls one service with `actor=current_user`, and is committed by `@commits` as it redirects.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from consult import uploads
from consult.answers import policy as answers_policy
from consult.answers.services import published_report
from consult.comments import policy
from consult.comments.attachments import files_of
from consult.comments.forms import HideForm, RecordForm, UnhideForm
from consult.comments.masking import likely_names, mask
from consult.comments.models import HIDDEN_REASON_LABELS, Channel, Comment, CommentStatus
from consult.comments.moderation import (
    AWAITING,
    approve_comment,
    awaiting_count,
    awaiting_moderation_query,
    hide_comment,
    status_counts,
    unhide_comment,
)
from consult.comments.services import accepts_recorded, record_comment
from consult.comments.views import bp
from consult.consultations.models import Consultation, Moderation
from consult.extensions import db
from consult.hearings.models import Hearing
from consult.paging import page_number
from consult.web import commits, form_errors, load_or_403, safe_next, staff_required

PER_PAGE = 50
# The moderation page's filters: status codes, "pending" (awaiting moderation) and "all".
STATUS_FILTERS = ("pending", "published", "hidden", "unverified", "all")


def _moderatable_ids():
    return policy.moderated_consultations_query(current_user).with_only_columns(Consultation.id)


@bp.app_context_processor
def _moderation_helpers():
    """The same checks the moderation and record actions make, for the staff templates' links."""
    return {"can_moderate": lambda obj: policy.can_moderate(current_user, obj),
            "can_record": lambda c: policy.can_record(current_user, c),
            "awaiting_moderation": lambda c=None: awaiting_count(
                [c.id] if c is not None else _moderatable_ids()),
            "masked": mask,
            "likely_names": likely_names,
            "hidden_reasons": [(code.value, text) for code, text in HIDDEN_REASON_LABELS.items()]}


def _back_to(comment: Comment):
    """Where a moderation action returns: the page it came from (`next`), else the comment."""
    target = safe_next(request.form.get("next") or request.args.get("next"))
    return redirect(target or url_for(".manage_moderation", consultation_id=comment.consultation_id,
                                      _anchor=f"comment-{comment.id}"))


# ---------------------------------------------------------------------------- moderation


@bp.get("/staff/moderation")
@staff_required
def manage_moderation_index():
    """The unit's moderation queue: comments awaiting moderation everywhere, oldest first."""
    ids = _moderatable_ids()
    counts = status_counts(ids)
    pending = {cid: sum(n for s, n in by.items() if s in AWAITING) for cid, by in counts.items()}
    consultations = db.session.scalars(
        db.select(Consultation)
        .where(Consultation.id.in_([cid for cid, n in pending.items() if n] or [-1]))
        .order_by(Consultation.closes_at, Consultation.id)
        .options(selectinload(Consultation.unit))
    ).all()
    comments = db.paginate(
        awaiting_moderation_query(ids).options(
            selectinload(Comment.article), selectinload(Comment.consultation)
        ),
        page=page_number(), per_page=PER_PAGE, error_out=False,
    )
    return render_template(
        "comments/staff/moderation_index.html", consultations=consultations, pending=pending,
        counts=counts, comments=comments, hide_form=HideForm(formdata=None),
    )


def _status_filter(consultation: Consultation, counts: dict[str, int]) -> str:
    wanted = request.args.get("status", "")
    if wanted in STATUS_FILTERS:
        return wanted
    return "pending" if any(counts.get(s.value) for s in AWAITING) else "all"


def _render_moderation(consultation: Consultation, *, failed=None, status=200):
    """The moderation page; `failed` = (comment id, form, message) re-shows one refused action."""
    counts = status_counts([consultation.id]).get(consultation.id, {})
    current = _status_filter(consultation, counts)
    query = db.select(Comment).where(Comment.consultation_id == consultation.id)
    if current == "pending":
        query = query.where(Comment.status.in_(AWAITING))
    elif current != "all":
        query = query.where(Comment.status == CommentStatus(current))
    page = page_number()
    comments = db.paginate(
        query.order_by(Comment.created_at, Comment.id).options(
            selectinload(Comment.article), selectinload(Comment.hearing)
        ),
        page=page, per_page=PER_PAGE, error_out=False,
    )
    return render_template(
        "comments/staff/moderation.html", c=consultation, comments=comments, counts=counts,
        pending=sum(counts.get(s.value, 0) for s in AWAITING), current=current,
        filters=STATUS_FILTERS, page=page, failed=failed, files=files_of(comments.items),
        report=published_report(consultation), hide_form=HideForm(formdata=None),
        unhide_form=UnhideForm(formdata=None),
    ), status


@bp.get("/staff/consultations/<int:consultation_id>/moderation")
@staff_required
def manage_moderation(consultation_id: int):
    """Every comment of a consultation with its original text, masked preview and contact data."""
    return _render_moderation(load_or_403(Consultation, consultation_id, policy.can_moderate))


@bp.post("/staff/comments/<int:comment_id>/approve")
@staff_required
@commits
def manage_approve(comment_id: int):
    """A comment awaiting moderation goes public."""
    comment = load_or_403(Comment, comment_id, policy.can_moderate)
    approve_comment(comment, actor=current_user)
    flash(_("意见 %(no)s 已审核通过并公开。", no=comment.tracking_no), "success")
    return _back_to(comment)


@bp.post("/staff/comments/<int:comment_id>/hide")
@staff_required
@commits
def manage_hide(comment_id: int):
    """Withhold a comment with a reason; the author is told by mail. Nothing is deleted."""
    comment = load_or_403(Comment, comment_id, policy.can_moderate)
    form = HideForm()
    if not form.validate():
        return _render_moderation(comment.consultation, failed=(comment.id, form, None),
                                  status=422)
    revised = comment.consultation.report_published
    with form_errors(form) as failed:
        hide_comment(comment, form.reason.data, form.note.data, actor=current_user)
    if failed:
        return _render_moderation(comment.consultation,
                                  failed=(comment.id, form, failed.message), status=422)
    flash(_("意见 %(no)s 已设为不予公开。", no=comment.tracking_no)
          + (_("已发布采纳情况报告的新版本并公开说明。") if revised else "")
          + (_("已发邮件告知提出人。") if comment.email else ""), "success")
    return _back_to(comment)


@bp.post("/staff/comments/<int:comment_id>/unhide")
@staff_required
@commits
def manage_unhide(comment_id: int):
    """Publish a hidden comment after all (until the report is published)."""
    comment = load_or_403(Comment, comment_id, policy.can_moderate)
    form = UnhideForm()
    if not form.validate():
        return _render_moderation(comment.consultation, failed=(comment.id, form, None),
                                  status=422)
    unhide_comment(comment, actor=current_user, note=form.note.data)
    flash(_("意见 %(no)s 已恢复。", no=comment.tracking_no), "success")
    return _back_to(comment)


# ------------------------------------------------------------------ recording other channels


def _record_form(consultation: Consultation, hearings, **kwargs) -> RecordForm:
    articles = consultation.current_version.articles if consultation.current_version else []
    return RecordForm(articles=articles, hearings=hearings, **kwargs)


def _render_record(consultation, form, hearings, *, message=None, status=200):
    recorded = None
    wanted = request.args.get("recorded", "")
    if wanted:
        recorded = db.session.scalar(db.select(Comment).where(
            Comment.tracking_no == wanted, Comment.consultation_id == consultation.id))
    register = db.session.scalars(
        db.select(Comment)
        .where(Comment.consultation_id == consultation.id, Comment.channel != Channel.WEB)
        .order_by(Comment.id.desc()).limit(20)
        .options(selectinload(Comment.article))
    ).all()
    return render_template(
        "comments/staff/record_comment.html", c=consultation, form=form, message=message,
        accepts=accepts_recorded(consultation), recorded=recorded, register=register,
        hearings=hearings, pre_moderation=consultation.moderation == Moderation.PRE,
    ), status


@bp.route("/staff/consultations/<int:consultation_id>/comments/record",
          methods=["GET", "POST"])
@staff_required
@commits
def manage_record(consultation_id: int):
    """Register a comment received by letter, e-mail, hearing or symposium; show its number."""
    consultation = load_or_403(Consultation, consultation_id, policy.can_record)
    hearings = db.session.scalars(
        db.select(Hearing).where(Hearing.consultation_id == consultation.id)
        .order_by(Hearing.held_at, Hearing.id)
    ).all()
    if request.method == "GET":
        form = _record_form(consultation, hearings, formdata=None)
        chosen = next((h for h in hearings if str(h.id) == request.args.get("hearing")), None)
        if chosen is not None:
            form.hearing.data = str(chosen.id)
            form.channel.data = chosen.kind.value
        return _render_record(consultation, form, hearings)
    form = _record_form(consultation, hearings)
    if not form.validate():
        return _render_record(consultation, form, hearings, status=422)
    hearing = next((h for h in hearings if h.id == form.hearing_id), None)
    with form_errors(form, fields={"file": "scan"}) as failed:  # a refused scan: no comment
        comment = record_comment(
            consultation, form.comment_input(), Channel(form.channel.data),
            form.received_on.data, actor=current_user, hearing=hearing,
            scan=form.scan.data or None, idempotency_key=form.idempotency_key,
        )
    if failed:
        return _render_record(consultation, form, hearings, message=failed.message, status=422)
    flash(_("已登记，意见编号 %(no)s。请将意见编号告知提出人，凭编号可查询办理和采纳情况。",
            no=comment.tracking_no), "success")
    return redirect(url_for(".manage_record", consultation_id=consultation.id,
                            recorded=comment.tracking_no))


@bp.get("/staff/comments/<int:comment_id>/attachments/<int:attachment_id>")
@staff_required
def manage_attachment(comment_id: int, attachment_id: int):
    """A comment's file (a scanned letter, or the author's attachment), for the unit's staff."""
    comment = load_or_403(Comment, comment_id,
                          lambda user, c: answers_policy.can_view_comments(user, c.consultation))
    attachment = db.get_or_404(uploads.Attachment, attachment_id)
    if attachment.owner_type != Comment.__tablename__ or attachment.owner_id != comment.id:
        abort(404)
    return uploads.send(attachment)
