"""Staff workspace: the final policy of a consultation and its interpretations (F16, F17)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import audit
from consult.auth.models import Unit
from consult.consultations import importing
from consult.consultations.models import Consultation, State
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.permissions import Perm, is_admin, unit_ids_with
from consult.policies import changes, policy, services, standing
from consult.policies.forms import (
    AnswerLinkForm,
    ChangeForm,
    CompetitionReviewForm,
    FilingForm,
    InterpretationForm,
    PolicyForm,
    StandalonePolicyForm,
)
from consult.policies.models import Interpretation, InterpretationKind, Policy
from consult.policies.views import bp
from consult.uploads import TooLarge
from consult.web import commits, form_errors, load_or_403, staff_required

READY = (State.CLOSED, State.REPORT_PUBLISHED)  # when a policy can be linked (SPEC §3)


@bp.app_context_processor
def _policy_todo():
    def policy_todo() -> dict:
        """What the user's units must still do about their policies (the staff dashboard):
        interpretations past the 三同步 deadline, filings past due; every unit for admins."""
        user = current_user
        if is_admin(user):
            ids = None
        else:
            ids = unit_ids_with(user, Perm.DRAFT_POLICY)
            if not ids:
                return {"can_add": False, "interpretations": [], "filings": []}
        return {"can_add": bool(policy.drafting_units(user)),
                "interpretations": standing.overdue_interpretations(ids),
                "filings": standing.filing_overdue(ids)}
    return {"policy_todo": policy_todo}


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


def _render_standalone(form, units, *, preview=None, message=None, status=200):
    form.unit_id.choices = [(u.id, u.name) for u in units]
    return render_template("policies/staff/standalone_form.html", form=form, preview=preview,
                           message=message,
                           max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024)
                           ), status


@bp.route("/staff/policies/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_standalone_new():
    """Add an older policy without a consultation: typed, or imported from .docx/.txt (the
    text is split and shown for checking before it is saved)."""
    units = policy.drafting_units(current_user)
    if not units:
        abort(403)
    form = StandalonePolicyForm() if request.method == "POST" else \
        StandalonePolicyForm(formdata=None)
    if request.method == "GET":
        if len(units) == 1:
            form.unit_id.data = units[0].id
        return _render_standalone(form, units)
    unit = db.session.get(Unit, form.unit_id.data or 0) if form.unit_id.data else None
    if unit is not None and unit.id not in {u.id for u in units}:
        abort(403)
    upload = form.file.data
    if request.form.get("action") == "import":
        if not upload or not upload.filename:
            form.file.errors = [_("请选择要上传的文件。")]
            return _render_standalone(form, units, status=422)
        with form_errors(form, catch=(ValidationFailed, TooLarge), field="file") as failed:
            data = importing.read_limited(upload.stream, current_app.config["IMPORT_MAX_BYTES"])
            extracted = importing.extract(data, upload.filename)
        if failed:
            return _render_standalone(form, units, message=failed.message, status=failed.status)
        title = form.title.data or importing.detect_title(extracted)
        form.title.data = title[:300]
        form.text.data = importing.body_text(extracted, title)
        form.source_name.data = importing.clean_filename(upload.filename)
        return _render_standalone(form, units, preview=importing.preview(form.text.data))
    if not form.validate() or unit is None:
        return _render_standalone(form, units, preview=importing.preview(form.text.data or ""),
                                  status=422)
    with form_errors(form) as failed:
        item = services.create_standalone_policy(unit, form.policy_input(), actor=current_user,
                                                 filename=form.source_name.data or None)
    if failed:
        return _render_standalone(form, units, message=failed.message, status=422)
    flash(_("正式文件已保存，尚未发布。请核对分条后由审核人发布。"), "success")
    return redirect(url_for(".manage_detail", policy_id=item.id))


@bp.get("/staff/policies/<int:policy_id>")
@staff_required
def manage_detail(policy_id: int):
    """The policy draft or published policy, its interpretations, and what can be done next:
    the fair-competition review, filing, changes in validity, and adopted answers' links."""
    return render_detail(_load_policy(policy_id))


def render_detail(item: Policy, *, bound: dict | None = None, message: str | None = None,
                  status: int = 200):
    """The staff page of a policy; `bound` replaces blank forms by ones with their errors."""
    user = current_user
    comparison = changes.compare(item)
    can_link = policy.can_draft_policy(user, item)
    link_form = AnswerLinkForm(formdata=None)
    link_form.article_number.choices = [(a.number, a.label) for a in item.articles]
    return render_template(
        "policies/staff/policy_detail.html",
        policy=item,
        c=item.consultation,
        flags=services.policy_flags(item),
        events=audit.events_for(item),
        validity=standing.validity(item),
        history=standing.history(item, public=False),
        filing=standing.filing_state(item),
        filing_due=standing.filing_due_on(item),
        competition=services.competition_review_state(item),
        comparison=comparison,
        answers=services.adopted_answers(item) if can_link else [],
        links={x.disposition_id: x.article_number for x in item.answer_links},
        proposals=changes.propose_links(item, comparison) if comparison and can_link else {},
        forms={
            "change": ChangeForm(formdata=None),
            "filing": FilingForm(formdata=None, obj=item),
            "review": CompetitionReviewForm(formdata=None),
            "link": link_form,
            **(bound or {}),
        },
        message=message,
        can={
            "edit": item.published_at is None and policy.can_draft_policy(user, item),
            "publish": item.published_at is None and policy.can_publish_policy(user, item),
            "interpret": policy.can_draft_policy(user, item),
            "publish_interpretation": (
                item.published_at is not None and policy.can_publish_policy(user, item)
            ),
            "review": item.published_at is None and item.affects_market
            and policy.can_review_competition(user, item),
            "change": policy.can_record_change(user, item),
            "filing": policy.can_record_filing(user, item)
            and standing.filing_required(item),
            "link": can_link,
        },
    ), status


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
