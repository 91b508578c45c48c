"""Staff workspace: the final policy of a consultation and its interpretations (F16, F17)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import audit
from consult.consultations.models import Consultation, State
from consult.extensions import db
from consult.policies import policy, services
from consult.policies.forms import InterpretationForm, PolicyForm
from consult.policies.models import Interpretation, InterpretationKind, Policy
from consult.policies.views import bp
from consult.web import commits, form_errors, load_or_403, staff_required

READY = (State.CLOSED, State.REPORT_PUBLISHED)  # when a policy can be linked (SPEC §3)


def _load_policy(policy_id: int, check=policy.can_view_policy) -> Policy:
    return load_or_403(Policy, policy_id, check)


def _render_policy_form(form, *, consultation, item=None, message=None, status=200):
    return render_template(
        "policies/staff/policy_form.html", form=form, c=consultation, policy=item, message=message,
        ready=consultation is None or item is not None or consultation.status in READY,
    ), status


@bp.route("/staff/consultations/<int:consultation_id>/policy/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_new(consultation_id: int):
    """Draft the final policy of a closed consultation: title, 文号, dates, text."""
    consultation = load_or_403(Consultation, consultation_id, policy.can_draft_policy)
    if request.method == "GET":
        if consultation.policy is not None:
            flash(_("该意见征集已关联正式文件。"), "info")
            return redirect(url_for(".manage_detail", policy_id=consultation.policy.id))
        return _render_policy_form(PolicyForm(formdata=None), consultation=consultation)
    form = PolicyForm()
    if not form.validate():
        return _render_policy_form(form, consultation=consultation, status=422)
    with form_errors(form) as failed:
        item = services.create_policy(consultation, form.policy_input(), actor=current_user)
    if failed:
        return _render_policy_form(form, consultation=consultation, message=failed.message,
                                   status=422)
    flash(_("正式文件已保存，尚未发布。请添加政策解读后由审核人发布。"), "success")
    return redirect(url_for(".manage_detail", policy_id=item.id))


@bp.get("/staff/policies/<int:policy_id>")
@staff_required
def manage_detail(policy_id: int):
    """The policy draft or published policy, its interpretations, and what can be done next."""
    item = _load_policy(policy_id)
    user = current_user
    return render_template(
        "policies/staff/policy_detail.html",
        policy=item,
        c=item.consultation,
        flags=services.policy_flags(item),
        events=audit.events_for(item),
        can={
            "edit": item.published_at is None and policy.can_draft_policy(user, item),
            "publish": item.published_at is None and policy.can_publish_policy(user, item),
            "interpret": policy.can_draft_policy(user, item),
            "publish_interpretation": (
                item.published_at is not None and policy.can_publish_policy(user, item)
            ),
        },
    )


@bp.route("/staff/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@staff_required
@commits
def manage_edit(policy_id: int):
    """Correct the policy before it is published (afterwards it is fixed)."""
    item = db.get_or_404(Policy, policy_id)
    policy.require_edit(current_user, item)
    if request.method == "GET":
        form = PolicyForm(obj=item)
        return _render_policy_form(form, consultation=item.consultation, item=item)
    form = PolicyForm()
    if not form.validate():
        return _render_policy_form(form, consultation=item.consultation, item=item, status=422)
    with form_errors(form) as failed:
        services.update_policy(item, form.policy_input(), actor=current_user)
    if failed:
        return _render_policy_form(form, consultation=item.consultation, item=item,
                                   message=failed.message, status=422)
    flash(_("正式文件已更新。"), "success")
    return redirect(url_for(".manage_detail", policy_id=item.id))


@bp.get("/staff/policies/<int:policy_id>/publish")
@staff_required
def manage_publish_check(policy_id: int):
    """What publishing the policy will do (it cannot be undone), to be confirmed."""
    item = _load_policy(policy_id)
    return render_template(
        "policies/staff/check_publish.html", policy=item, c=item.consultation,
        flags=services.policy_flags(item),
        can_publish=item.published_at is None and policy.can_publish_policy(current_user, item),
    )


@bp.post("/staff/policies/<int:policy_id>/publish")
@staff_required
@commits
def manage_publish(policy_id: int):
    """Approver publishes the policy with its interpretations; the consultation is policy_issued."""
    item = _load_policy(policy_id, policy.can_publish_policy)
    services.publish_policy(item, actor=current_user)
    if item.interpretations:
        flash(_("正式文件及其政策解读已发布。"), "success")
    else:
        flash(_("正式文件已发布。尚无政策解读，公开页面将显示“解读待发布”，请尽快补充。"),
              "warning")
    return redirect(url_for(".manage_detail", policy_id=item.id))


@bp.route("/staff/policies/<int:policy_id>/interpretations/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_interpretation_new(policy_id: int):
    """Add an interpretation: published with the policy, or at once if the policy is out."""
    item = _load_policy(policy_id, policy.can_draft_policy)
    form = InterpretationForm(formdata=None) if request.method == "GET" else InterpretationForm()
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 422
        return render_template("policies/staff/interpretation_form.html", form=form,
                               policy=item), status
    publish = item.published_at is not None and policy.can_publish_policy(current_user, item)
    interpretation = services.add_interpretation(
        item, title=form.title.data, kind=InterpretationKind(form.kind.data),
        body=form.body.data, actor=current_user, publish=publish,
    )
    if interpretation.published_at:
        flash(_("政策解读已发布。"), "success")
    elif item.published_at:
        flash(_("政策解读已保存，待审核人发布。"), "success")
    else:
        flash(_("政策解读已保存，将随正式文件一同发布。"), "success")
    return redirect(url_for(".manage_detail", policy_id=item.id))


@bp.post("/staff/interpretations/<int:interpretation_id>/publish")
@staff_required
@commits
def manage_interpretation_publish(interpretation_id: int):
    """Approver publishes an interpretation added after the policy went out."""
    interpretation = load_or_403(Interpretation, interpretation_id,
                                 lambda user, i: policy.can_publish_policy(user, i.policy))
    services.publish_interpretation(interpretation, actor=current_user)
    flash(_("政策解读已发布。"), "success")
    return redirect(url_for(".manage_detail", policy_id=interpretation.policy_id))
