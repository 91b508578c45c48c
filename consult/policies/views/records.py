"""Staff records on a policy after drafting: the fair-competition review (before issue), the
filing (备案), changes in validity (amended, repealed, replaced, renewed) and the links of
adopted answers to the final articles they changed. Each form posts here and returns to the
policy's staff page; a refused form is shown again there with its errors (422)."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.answers.models import Disposition
from consult.consultations.models import LegalDecision
from consult.errors import NotAllowed, ValidationFailed
from consult.extensions import db
from consult.policies import policy, queries, services
from consult.policies.forms import AnswerLinkForm, ChangeForm, CompetitionReviewForm, FilingForm
from consult.policies.models import Policy
from consult.policies.views import bp
from consult.policies.views.manage import render_detail
from consult.web import commits, form_errors, load_or_403, staff_required


def _again(item: Policy, name: str, form, message: str | None = None):
    """The policy's staff page with this form and its errors, 422."""
    return render_detail(item, bound={name: form}, message=message, status=422)


def _record(item: Policy, name: str, form, save: Callable[[], object], done: str, *,
            refused: dict[str, str] | None = None):
    """The shape of a record form: checked, then `save` (its service call) in a savepoint, then
    back to the policy's staff page with `done`; a refused form — invalid, `refused` by the
    view (field → message), or refused by the service — is shown there again with its errors."""
    if not form.validate():
        return _again(item, name, form)
    if refused:
        for field, message in refused.items():
            form[field].errors = [message]
        return _again(item, name, form)
    with form_errors(form) as failed:
        save()
    if failed:
        return _again(item, name, form, failed.message)
    flash(done, "success")
    return redirect(url_for(".manage_detail", policy_id=item.id))


@bp.post("/staff/policies/<int:policy_id>/competition-review")
@staff_required
@commits
def manage_competition_review(policy_id: int):
    """The legal office signs off (or returns) the fair-competition review before issue."""
    item = load_or_403(Policy, policy_id, policy.can_review_competition)
    form = CompetitionReviewForm()
    return _record(item, "review", form, lambda: services.review_competition(
        item, LegalDecision(form.decision.data), form.opinion.data, actor=current_user),
        _("公平竞争审查结论已记录。"))


@bp.post("/staff/policies/<int:policy_id>/filing")
@staff_required
@commits
def manage_filing(policy_id: int):
    """Record the filing (备案) of a published rule or normative document."""
    item = load_or_403(Policy, policy_id, policy.can_draft_policy)
    form = FilingForm()
    return _record(item, "filing", form, lambda: services.record_filing(
        item, filed_with=form.filed_with.data, filed_on=form.filed_on.data,
        filing_number=form.filing_number.data, actor=current_user), _("备案情况已记录。"))


@bp.post("/staff/policies/<int:policy_id>/changes")
@staff_required
@commits
def manage_change(policy_id: int):
    """Record that a later document amended, repealed, replaced or renewed the policy."""
    item = load_or_403(Policy, policy_id, policy.can_publish_policy)
    form = ChangeForm()
    number = (form.by_policy.data or "").strip()
    by_policy = queries.by_number(form.by_policy.data) if number else None
    refused = {"by_policy": _("文件库中没有已发布的该文号的文件。")} \
        if number and by_policy is None else None
    return _record(item, "change", form, lambda: services.record_change(
        item, form.change_input(by_policy), actor=current_user), _("效力变化已记录。"),
        refused=refused)


@bp.post("/staff/policies/<int:policy_id>/links")
@staff_required
@commits
def manage_link(policy_id: int):
    """Link an adopted answer to the final article it changed, or remove the link (0)."""
    item = load_or_403(Policy, policy_id, policy.can_draft_policy)
    form = AnswerLinkForm()
    form.article_number.choices = [(0, "")] + [(a.number, a.label) for a in item.articles]
    if not form.validate() or not str(form.disposition_id.data).isdigit():
        return _again(item, "link", form)
    disposition = db.session.get(Disposition, int(form.disposition_id.data))
    if disposition is None:
        raise NotAllowed(_("该意见不属于本文件的意见征集。"), code="other_consultation")
    if form.article_number.data == 0:
        link = next((x for x in item.answer_links if x.disposition_id == disposition.id), None)
        if link is not None:
            services.unlink_answer(link, actor=current_user)
        flash(_("已取消关联。"), "success")
        return redirect(url_for(".manage_detail", policy_id=item.id, _anchor="answers"))
    try:
        services.link_answer(item, disposition, form.article_number.data, actor=current_user)
    except ValidationFailed as error:
        return _again(item, "link", form, error.message)
    flash(_("已将该意见关联到正式文件的条款。"), "success")
    return redirect(url_for(".manage_detail", policy_id=item.id, _anchor="answers"))
