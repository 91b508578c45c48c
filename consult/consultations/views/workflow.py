"""Staff steps after approval: extending the window, revised versions (a second round), and the
legality review of rules and major decisions with its queue.

Same flow as manage.py: load, authorize with `consultations.policy`, validate, one service,
redirect (committed by `@commits`). The forms of the consultation's staff page re-render it
with 422.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from consult import clock, workspace
from consult.consultations import legal, policy, services, versions
from consult.consultations.forms import ExtendForm, LegalReviewForm, NewVersionForm
from consult.consultations.models import Consultation, LegalDecision
from consult.consultations.views import bp
from consult.consultations.views.manage import load_for_staff, load_to, render_detail
from consult.extensions import db
from consult.permissions import Perm, has_permission
from consult.web import commits, form_errors, load_or_403, staff_required


def _back(consultation: Consultation, anchor: str | None = None):
    return redirect(url_for(".manage_detail", consultation_id=consultation.id, _anchor=anchor))


@bp.post("/staff/consultations/<int:consultation_id>/extend")
@staff_required
@commits
def manage_extend(consultation_id: int):
    """Approver moves the closing date later; the notice and its reason are published."""
    consultation = load_to("extend", consultation_id)
    form = ExtendForm(prefix="extend")
    if not form.validate():
        return render_detail(consultation, extend_form=form, status=422)
    with form_errors(form) as failed:
        notice = services.extend(consultation, form.closes_on.data, form.reason.data,
                                 actor=current_user)
    if failed:
        return render_detail(consultation, extend_form=form, message=failed.message, status=422)
    flash(_("征求意见期限已延长至 %(date)s，延长公告已在公开页面发布。",
            date=clock.local_date(notice.new_closes_at).isoformat()), "success")
    return _back(consultation, "window-title")


def _render_new_version(consultation: Consultation, form, *, message=None, status=200):
    return render_template(
        "consultations/staff/new_version.html", c=consultation, form=form, message=message,
        allowed=policy.can_new_version(current_user, consultation),
        minimum=consultation.window_rule,
    ), status


@bp.route("/staff/consultations/<int:consultation_id>/versions/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_new_version(consultation_id: int):
    """Approver publishes a revised draft (version n+1), optionally with a second round."""
    consultation = load_for_staff(consultation_id)
    if request.method == "GET":
        if not has_permission(current_user, Perm.APPROVE, consultation.unit):
            abort(403)
        form = NewVersionForm(formdata=None, data={"text": services.draft_text(consultation)})
        return _render_new_version(consultation, form)
    policy.require(current_user, consultation, "new_version")
    form = NewVersionForm()
    if not form.validate():
        return _render_new_version(consultation, form, status=422)
    with form_errors(form) as failed:
        version = versions.new_version(
            consultation, form.text.data, form.changelog.data, actor=current_user,
            reopen_until=form.reopen_until.data,
            short_window_reason=form.short_window_reason.data,
        )
    if failed:
        return _render_new_version(consultation, form, message=failed.message, status=422)
    flash(_("第 %(n)d 稿已发布，共 %(count)d 条。", n=version.number,
            count=len(version.articles)), "success")
    return _back(consultation, "versions-title")


@bp.post("/staff/consultations/<int:consultation_id>/legal-review")
@staff_required
@commits
def manage_legal_review(consultation_id: int):
    """Legal reviewer signs off a rule or major decision, or returns it with an opinion."""
    consultation = load_or_403(Consultation, consultation_id, policy.can_see_legal_review)
    form = LegalReviewForm(prefix="legal")
    if not form.validate():
        return render_detail(consultation, legal_form=form, status=422)
    with form_errors(form) as failed:
        review = legal.review(consultation, LegalDecision(form.decision.data),
                              form.opinion.data, actor=current_user)
    if failed:
        return render_detail(consultation, legal_form=form, message=failed.message, status=422)
    if review.decision == LegalDecision.APPROVED:
        flash(_("合法性审核已通过。起草单位可以关联正式文件。"), "success")
    else:
        flash(_("已退回起草单位，审核意见已记录。"), "success")
    return redirect(url_for(".manage_legal_queue"))


@bp.get("/staff/legal")
@staff_required
def manage_legal_queue():
    """Rules and major decisions closed without a legal sign-off: every unit's for legal
    reviewers (with the review form on each one's page), the user's own units' for others."""
    reviewer = policy.is_legal_reviewer(current_user)
    consultations = db.session.scalars(
        workspace.legal_queue(current_user).options(selectinload(Consultation.unit))
    ).all()
    return render_template(
        "consultations/staff/legal_queue.html", consultations=consultations, reviewer=reviewer,
        latest=legal.latest, can_review=lambda c: policy.can_legal_review(current_user, c),
    )
