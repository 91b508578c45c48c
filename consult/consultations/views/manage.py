"""Staff workspace: the dashboard, drafting, and the approval workflow of a consultation.

Every view loads its object, asks `consultations.policy` whether the user may act (403 when not),
calls one service with `actor=current_user`, commits once and redirects.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from consult import audit, clock
from consult.answers import policy as answers_policy
from consult.answers.models import Disposition
from consult.auth.models import Unit
from consult.auth.views import staff_required
from consult.catalogue.queries import drafting_choices
from consult.comments.models import Comment, CommentStatus
from consult.consultations import dashboard as dashboard_figures
from consult.consultations import legal, policy, services, windows
from consult.consultations.forms import (
    ConsultationForm,
    ExtendForm,
    LegalReviewForm,
    ReasonForm,
    attach_errors,
)
from consult.consultations.models import Consultation, ConsultationType, State
from consult.consultations.states import target_state
from consult.consultations.views import bp
from consult.consultations.views.public import received_counts
from consult.errors import InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.labels import TYPE_LABELS, label
from consult.permissions import Perm, unit_ids_with
from consult.policies import policy as policies_policy

# Dashboard sections, in lifecycle order.
STATUS_ORDER = (
    State.DRAFT, State.PENDING_APPROVAL, State.SCHEDULED, State.OPEN, State.CLOSED,
    State.REPORT_PUBLISHED, State.POLICY_ISSUED, State.WITHDRAWN,
)

# What each audit action means, for the audit trail on staff pages.
AUDIT_ACTIONS = {
    "create": _l("创建草稿"),
    "edit": _l("修改草稿"),
    "submit": _l("提交审核"),
    "approve": _l("审核通过"),
    "return": _l("退回修改"),
    "withdraw": _l("撤回"),
    "publish_report": _l("发布意见采纳情况报告"),
    "link_policy": _l("正式文件出台"),
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
    "create_policy": _l("起草正式文件"),
    "edit_policy": _l("修改正式文件"),
    "publish_policy": _l("发布正式文件"),
    "add_interpretation": _l("添加政策解读"),
    "publish_interpretation": _l("发布政策解读"),
    "extend": _l("延长征求意见期限"),
    "new_version": _l("发布新版本"),
    "legal_review": _l("合法性审核"),
    "legal_sign_off": _l("合法性审核通过"),
    "legal_return": _l("合法性审核退回"),
    "change_settings": _l("更改意见设置"),
    "approve_comment": _l("意见审核通过"),
    "hide_comment": _l("意见不予公开"),
    "unhide_comment": _l("意见恢复公开"),
    "record_comment": _l("登记意见"),
    "create_hearing": _l("新建听证会/座谈会"),
    "edit_hearing": _l("修改听证会/座谈会"),
    "publish_hearing_notice": _l("发布会议公告"),
    "add_hearing_participant": _l("添加参加人"),
    "remove_hearing_participant": _l("移除参加人"),
    "save_hearing_record": _l("保存会议记录"),
    "publish_hearing_record": _l("发布会议记录"),
    "attach_hearing_file": _l("上传会议文件"),
}


@bp.app_template_filter("audit_action")
def audit_action_label(action: str) -> str:
    return str(AUDIT_ACTIONS.get(action, action))


def awaiting_counts(ids: list[int]) -> dict[int, int]:
    """Comments that need an answer (SPEC §6) and have none yet, per consultation."""
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(Comment.consultation_id, db.func.count(Comment.id))
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id.in_(ids), Comment.status == CommentStatus.PUBLISHED,
               Disposition.id.is_(None))
        .group_by(Comment.consultation_id)
    )
    return dict(rows.all())


def _draft_units() -> list[Unit]:
    """Units in which the user may create drafts (their units and the units below them)."""
    ids = unit_ids_with(current_user, Perm.EDIT_DRAFT)
    if not ids:
        return []
    return db.session.scalars(db.select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)).all()


def _window_minimums() -> list[tuple[str, str]]:
    """Each type's minimum window in words (「政府规章 不少于 30 日」), and the business rule."""
    rows = [(str(TYPE_LABELS[t]), windows.minimum(t).describe()) for t in ConsultationType]
    business = windows.minimum(ConsultationType.NORMATIVE_DOCUMENT, concerns_business=True)
    if business != windows.minimum(ConsultationType.NORMATIVE_DOCUMENT):
        rows.append((_("涉及市场主体经营活动的行政规范性文件"), business.describe()))
    return rows


def load_for_staff(consultation_id: int) -> Consultation:
    """The consultation, if the user may see it in the staff workspace (404, else 403)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    if not policy.can_view_staff(current_user, consultation):
        abort(403)
    return consultation


def _authorize(check, consultation: Consultation, action: str) -> None:
    """403 unless `check` allows; 409 when only the consultation's state stands in the way."""
    if check(current_user, consultation):
        return
    if policy.can_view_staff(current_user, consultation) and (
        target_state(action, consultation.status) is None
    ):
        raise InvalidTransition(
            _("当前状态（%(status)s）不允许此操作。", status=label(consultation.status, "state"))
        )
    abort(403)


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
    reviewer = policy.is_legal_reviewer(current_user)
    return render_template(
        "staff/dashboard.html",
        sections=[(status, groups[status]) for status in STATUS_ORDER if status in groups],
        received=received_counts(consultations),
        awaiting=awaiting_counts(ids),
        can_create=policy.can_create(current_user),
        memberships=sorted(current_user.memberships, key=lambda m: (m.unit.name, m.role)),
        moderation=dashboard_figures.moderation_counts(ids),
        closing_soon=dashboard_figures.closing_soon(consultations),
        overdue=dashboard_figures.overdue_reports(consultations),
        report_due_days=current_app.config["REPORT_DUE_DAYS"],
        legal_reviewer=reviewer,
        legal_pending=legal.pending_count(
            None if reviewer else unit_ids_with(current_user, Perm.VIEW_STAFF)),
    )


def _render_form(form, *, consultation=None, message=None, status=200):
    form.catalogue_item_id.choices = drafting_choices(
        [consultation.unit] if consultation else _draft_units()
    )
    return render_template(
        "staff/consultation_form.html", form=form, consultation=consultation,
        minimums=_window_minimums(), message=message,
    ), status


@bp.route("/staff/consultations/new", methods=["GET", "POST"])
@staff_required
def manage_new():
    """Create a draft: pasted text is split into articles by its own headings."""
    units = _draft_units()
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
    try:
        with db.session.begin_nested():  # a refused draft leaves nothing behind
            consultation = services.create_draft(unit, form.draft_input(), actor=current_user)
    except ValidationFailed as error:
        attach_errors(form, error)
        return _render_form(form, message=error.message, status=422)
    db.session.commit()
    flash(_("草稿已保存，共 %(n)d 条。请核对条款拆分是否正确，再提交审核。",
            n=len(consultation.current_version.articles)), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.route("/staff/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
@staff_required
def manage_edit(consultation_id: int):
    """Edit a draft that has not gone public (its unit stays)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    if not policy.can_edit(current_user, consultation):
        if policy.can_view_staff(current_user, consultation) and (
            consultation.state != State.DRAFT
        ):
            raise InvalidTransition(_("只有草稿可以修改。"))
        abort(403)
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
    try:
        with db.session.begin_nested():
            services.update_draft(consultation, form.draft_input(), actor=current_user)
    except ValidationFailed as error:
        attach_errors(form, error)
        return _render_form(form, consultation=consultation, message=error.message, status=422)
    db.session.commit()
    flash(_("草稿已更新，共 %(n)d 条。", n=len(consultation.current_version.articles)), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


def render_detail(consultation: Consultation, *, return_form=None, withdraw_form=None,
                  message=None, status=200, extend_form=None, legal_form=None):
    return render_template(
        "staff/consultation_detail.html",
        c=consultation,
        status=consultation.status,
        is_public=policy.is_public(consultation),
        can=abilities(consultation),
        events=audit.events_for(consultation),
        received=received_counts([consultation]).get(consultation.id, 0),
        awaiting=awaiting_counts([consultation.id]).get(consultation.id, 0),
        minimum=services.minimum_days(consultation.type,
                                      concerns_business=consultation.concerns_business),
        window_rule=windows.minimum(consultation.type,
                                    concerns_business=consultation.concerns_business),
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
def manage_submit(consultation_id: int):
    """Editor sends the draft to an approver."""
    consultation = db.get_or_404(Consultation, consultation_id)
    _authorize(policy.can_submit, consultation, "submit")
    try:
        with db.session.begin_nested():
            services.submit(consultation, actor=current_user)
    except ValidationFailed as error:
        return render_detail(consultation, message=error.message, status=422)
    db.session.commit()
    flash(_("已提交审核。须由本单位的其他审核人审核通过后才会发布。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.post("/staff/consultations/<int:consultation_id>/approve")
@staff_required
def manage_approve(consultation_id: int):
    """Approver releases the draft; it opens and closes by the clock."""
    consultation = db.get_or_404(Consultation, consultation_id)
    _authorize(policy.can_approve, consultation, "approve")
    services.approve(consultation, actor=current_user)  # 409 when the window no longer fits
    db.session.commit()
    if consultation.opens_at <= clock.now():
        flash(_("已审核通过。原定开始日期已过，意见征集自审核通过时开始。"), "success")
    else:
        flash(_("已审核通过。意见征集将于 %(date)s 开始。",
                date=clock.local_date(consultation.opens_at).isoformat()), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.post("/staff/consultations/<int:consultation_id>/return")
@staff_required
def manage_return(consultation_id: int):
    """Approver sends the draft back to its editors, with a reason."""
    consultation = db.get_or_404(Consultation, consultation_id)
    _authorize(policy.can_return, consultation, "return")
    form = ReasonForm(prefix="return")
    if not form.validate():
        return render_detail(consultation, return_form=form, status=422)
    services.return_to_draft(consultation, actor=current_user, reason=form.reason.data)
    db.session.commit()
    flash(_("已退回修改。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))


@bp.post("/staff/consultations/<int:consultation_id>/withdraw")
@staff_required
def manage_withdraw(consultation_id: int):
    """Approver withdraws the consultation; the reason is published."""
    consultation = db.get_or_404(Consultation, consultation_id)
    _authorize(policy.can_withdraw, consultation, "withdraw")
    form = ReasonForm(prefix="withdraw")
    if not form.validate():
        return render_detail(consultation, withdraw_form=form, status=422)
    services.withdraw(consultation, actor=current_user, reason=form.reason.data)
    db.session.commit()
    flash(_("已撤回。撤回理由将向社会公布。"), "success")
    return redirect(url_for(".manage_detail", consultation_id=consultation.id))
