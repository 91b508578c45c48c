"""Staff workspace: the dashboard, drafting, and the approval workflow of a consultation.

Every view loads its object, asks `consultations.policy` whether the user may act (403, or 409
when only the consultation's state stands in the way), calls one service with
`actor=current_user`, and is committed by `@commits` as it redirects.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from consult import audit, clock, settings, workspace
from consult.answers import policy as answers_policy
from consult.auth.models import Unit
from consult.catalogue.queries import drafting_choices
from consult.comments.services import received_counts
from consult.consultations import legal, policy, services, windows
from consult.consultations.forms import ConsultationForm, ExtendForm, LegalReviewForm, ReasonForm
from consult.consultations.models import TYPE_LABELS, Consultation, ConsultationType, State
from consult.consultations.views import bp
from consult.extensions import db
from consult.policies import policy as policies_policy
from consult.web import commits, form_errors, load_or_403, staff_required

# Dashboard sections, in lifecycle order.
STATUS_ORDER = (
    State.DRAFT, State.PENDING_APPROVAL, State.SCHEDULED, State.OPEN, State.CLOSED,
    State.REPORT_PUBLISHED, State.POLICY_ISSUED, State.WITHDRAWN,
)


def _window_minimums(minimums: dict[str, int] | None = None) -> list[tuple[str, str]]:
    """Each type's minimum window in words (「政府规章 不少于 30 日」), and the business rule:
    those in force now, or a consultation's own (`minimums`)."""
    def rule(type_, business=False):
        return windows.minimum(type_, concerns_business=business, minimums=minimums)

    rows = [(str(TYPE_LABELS[t]), rule(t).describe()) for t in ConsultationType]
    business = rule(ConsultationType.NORMATIVE_DOCUMENT, True)
    if business != rule(ConsultationType.NORMATIVE_DOCUMENT):
        rows.append((_("涉及市场主体经营活动的行政规范性文件"), business.describe()))
    return rows


def load_for_staff(consultation_id: int) -> Consultation:
    """The consultation, if the user may see it in the staff workspace (404, else 403)."""
    return load_or_403(Consultation, consultation_id, policy.can_view_staff)


def load_to(action: str, consultation_id: int) -> Consultation:
    """The consultation, if the user may do `action` to it now (404; 403; 409 for the state)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    policy.require(current_user, consultation, action)
    return consultation


def abilities(consultation: Consultation) -> dict[str, bool]:
    """The buttons the page shows: the same checks the actions make."""
    user = current_user
    return {
        "edit": policy.can_edit(user, consultation),
        "submit": policy.can_submit(user, consultation),
        "approve": policy.can_approve(user, consultation),
        "return": policy.can_return(user, consultation),
        "withdraw": policy.can_withdraw(user, consultation),
        "answer": answers_policy.can_answer(user, consultation),
        "publish_report": answers_policy.can_publish_report(user, consultation),
        "draft_policy": policies_policy.can_draft_policy(user, consultation),
        "extend": policy.can_extend(user, consultation),
        "new_version": policy.can_new_version(user, consultation),
        "legal_review": policy.can_legal_review(user, consultation),
    }


@bp.get("/staff")
@staff_required
def dashboard():
    """The workspace: the user's units' consultations by status, and what awaits an answer."""
    consultations = db.session.scalars(
        policy.staff_query(current_user).options(selectinload(Consultation.unit))
    ).all()
    groups: dict[State, list[Consultation]] = {}
    for consultation in consultations:
        groups.setdefault(consultation.status, []).append(consultation)
    ids = [c.id for c in consultations]
    return render_template(
        "consultations/staff/dashboard.html",
        sections=[(status, groups[status]) for status in STATUS_ORDER if status in groups],
        received=received_counts(consultations),
        awaiting=workspace.awaiting_counts(ids),
        can_create=policy.can_create(current_user),
        memberships=sorted(current_user.memberships, key=lambda m: (m.unit.name, m.role)),
        moderation=workspace.moderation_counts(ids),
        closing_soon=workspace.closing_soon(consultations),
        overdue=workspace.overdue_reports(consultations),
        report_due_days=settings.value("REPORT_DUE_DAYS"),
        legal_reviewer=policy.is_legal_reviewer(current_user),
        legal_pending=workspace.legal_pending(current_user),
    )


def _render_form(form, *, consultation=None, message=None, status=200):
    form.catalogue_item_id.choices = drafting_choices(
        [consultation.unit] if consultation else policy.drafting_units(current_user)
    )
    return render_template(
        "consultations/staff/consultation_form.html", form=form, consultation=consultation,
        minimums=_window_minimums(consultation.window_minimums if consultation else None),
        message=message,
    ), status


@bp.route("/staff/consultations/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_new():
    """Create a draft: pasted text is split into articles by its own headings."""
    units = policy.drafting_units(current_user)
    if not units:
        abort(403)
    form = ConsultationForm()
    form.unit_id.choices = [(u.id, u.name) for u in units]
    if request.method == "GET":
        opens_on = clock.today() + timedelta(days=1)
        form.opens_on.data = opens_on
        form.closes_on.data = opens_on + timedelta(days=29)
        if len(units) == 1:
            form.unit_id.data = units[0].id
        return _render_form(form)
    if form.unit_id.data is not None:
        unit = db.session.get(Unit, form.unit_id.data)
        if unit is None or not policy.can_create(current_user, unit):
            abort(403)
    if not form.validate():
        return _render_form(form, status=422)
    with form_errors(form) as failed:  # a refused draft leaves nothing behind
        consultation = services.create_draft(unit, form.draft_input(), actor=current_user)
    if failed:
        return _render_form(form, message=failed.message, status=422)
    flash(_("草稿已保存，共 %(n)d 条。请核对条款拆分是否正确，再提交审核。",
            n=len(consultation.current_version.articles)), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.route("/staff/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
@staff_required
@commits
def manage_edit(consultation_id: int):
    """Edit a draft that has not gone public (its unit stays)."""
    consultation = load_to("edit", consultation_id)
    if request.method == "GET":
        form = ConsultationForm(data={
            "title": consultation.title, "type": consultation.type.value,
            "summary": consultation.summary, "explanation": consultation.explanation,
            "opens_on": clock.local_date(consultation.opens_at),
            "closes_on": clock.local_date(consultation.closes_at),
            "short_window_reason": consultation.short_window_reason or "",
            "concerns_business": consultation.concerns_business,
            "catalogue_item_id": consultation.catalogue_item_id,
            "text": services.draft_text(consultation),
        })
        del form.unit_id
        return _render_form(form, consultation=consultation)
    form = ConsultationForm()
    del form.unit_id
    if not form.validate():
        return _render_form(form, consultation=consultation, status=422)
    with form_errors(form) as failed:
        services.update_draft(consultation, form.draft_input(), actor=current_user)
    if failed:
        return _render_form(form, consultation=consultation, message=failed.message, status=422)
    flash(_("草稿已更新，共 %(n)d 条。", n=len(consultation.current_version.articles)), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


def render_detail(consultation: Consultation, *, return_form=None, withdraw_form=None,
                  message=None, status=200, extend_form=None, legal_form=None):
    return render_template(
        "consultations/staff/consultation_detail.html",
        c=consultation,
        status=consultation.status,
        is_public=policy.is_public(consultation),
        can=abilities(consultation),
        events=audit.events_for(consultation),
        received=received_counts([consultation]).get(consultation.id, 0),
        awaiting=workspace.awaiting_counts([consultation.id]).get(consultation.id, 0),
        window_rule=consultation.window_rule,
        working_days=windows.working_days(clock.local_date(consultation.opens_at),
                                          clock.local_date(consultation.closes_at)),
        legal_state=legal.review_state(consultation),
        extend_form=extend_form or ExtendForm(prefix="extend", formdata=None),
        legal_form=legal_form or LegalReviewForm(prefix="legal", formdata=None),
        window_days=services.window_days(clock.local_date(consultation.opens_at),
                                         clock.local_date(consultation.closes_at)),
        return_form=return_form or ReasonForm(prefix="return", formdata=None),
        withdraw_form=withdraw_form or ReasonForm(prefix="withdraw", formdata=None),
        message=message,
    ), status


@bp.get("/staff/consultations/<int:consultation_id>")
@staff_required
def manage_detail(consultation_id: int):
    """Everything staff need about one consultation: state, window, articles, who did what."""
    return render_detail(load_for_staff(consultation_id))


@bp.post("/staff/consultations/<int:consultation_id>/submit")
@staff_required
@commits
def manage_submit(consultation_id: int):
    """Editor sends the draft to an approver."""
    consultation = load_to("submit", consultation_id)
    with form_errors(None) as failed:
        services.submit(consultation, actor=current_user)
    if failed:
        return render_detail(consultation, message=failed.message, status=422)
    flash(_("已提交审核。须由本单位的其他审核人审核通过后才会发布。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.get("/staff/consultations/<int:consultation_id>/approve")
@staff_required
def manage_approve_check(consultation_id: int):
    """What approving will do (it cannot be undone): when the draft opens and closes, that it
    becomes public; the confirm button posts the approval."""
    consultation = load_for_staff(consultation_id)
    now = clock.now()
    return render_template(
        "consultations/staff/check_approve.html", c=consultation, can=abilities(consultation),
        opens_now=consultation.opens_at <= now,
        window_days=services.window_days(clock.local_date(max(consultation.opens_at, now)),
                                         clock.local_date(consultation.closes_at)),
        articles=len(consultation.current_version.articles)
        if consultation.current_version else 0,
    )


@bp.get("/staff/consultations/<int:consultation_id>/return")
@staff_required
def manage_return_check(consultation_id: int):
    """Returning a draft: what happens, and the reason to give."""
    consultation = load_for_staff(consultation_id)
    return render_template("consultations/staff/check_return.html", c=consultation,
                           can=abilities(consultation),
                           return_form=ReasonForm(prefix="return", formdata=None))


@bp.post("/staff/consultations/<int:consultation_id>/approve")
@staff_required
@commits
def manage_approve(consultation_id: int):
    """Approver releases the draft; it opens and closes by the clock."""
    consultation = load_to("approve", consultation_id)
    services.approve(consultation, actor=current_user)  # 409 when the window no longer fits
    if consultation.opens_at <= clock.now():
        flash(_("已审核通过。原定开始日期已过，意见征集自审核通过时开始。"), "success")
    else:
        flash(_("已审核通过。意见征集将于 %(date)s 开始。",
                date=clock.local_date(consultation.opens_at).isoformat()), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.post("/staff/consultations/<int:consultation_id>/return")
@staff_required
@commits
def manage_return(consultation_id: int):
    """Approver sends the draft back to its editors, with a reason."""
    consultation = load_to("return", consultation_id)
    form = ReasonForm(prefix="return")
    if not form.validate():
        return render_template("consultations/staff/check_return.html", c=consultation,
                               can=abilities(consultation), return_form=form), 422
    services.return_to_draft(consultation, actor=current_user, reason=form.reason.data)
    flash(_("已退回修改。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.post("/staff/consultations/<int:consultation_id>/withdraw")
@staff_required
@commits
def manage_withdraw(consultation_id: int):
    """Approver withdraws the consultation; the reason is published."""
    consultation = load_to("withdraw", consultation_id)
    form = ReasonForm(prefix="withdraw")
    if not form.validate():
        return render_detail(consultation, withdraw_form=form, status=422)
    services.withdraw(consultation, actor=current_user, reason=form.reason.data)
    flash(_("已撤回。撤回理由将向社会公布。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))
