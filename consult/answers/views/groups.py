"""Staff pages for groups of near-identical comments (F13): find, confirm, split, merge, answer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from rapidfuzz import fuzz

from consult.answers import policy
from consult.answers.bulk import (
    check_editable,
    fill_from_template,
    load_comments,
    reason_templates,
    template_for,
)
from consult.answers.forms import GroupAnswerForm
from consult.answers.groups import (
    answer_group,
    confirm_group,
    group_answer,
    groups_query,
    merge_groups,
    split_group,
)
from consult.answers.jobs import SUGGEST, queue_suggestions
from consult.answers.models import DISPOSITION_LABELS, CommentGroup, DispositionCode, GroupStatus
from consult.answers.services import published_report
from consult.answers.views import bp
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.jobs.queue import REFRESH_SECONDS, latest_job
from consult.paging import id_filter, page_number
from consult.textfold import normalise
from consult.web import commits, form_errors, load_or_403, staff_required

GROUPS_PER_PAGE = 20
MEMBERS_SHOWN = 20  # per group; the queue's group filter lists them all
PAGE_ARGS = ("status", "group", "page")


def _load(consultation_id: int, check=policy.can_view_comments) -> Consultation:
    return load_or_403(Consultation, consultation_id, check)


def _group_for_answering(group_id: int) -> CommentGroup:
    return load_or_403(CommentGroup, group_id,
                       lambda user, group: policy.can_answer(user, group.consultation))


def _card(group: CommentGroup) -> dict:
    """A group as staff check it: the least similar members first, where mistakes hide."""
    representative = group.representative or (group.members[0] if group.members else None)
    base = normalise(representative.body if representative else "")
    scored = sorted(
        ((fuzz.ratio(base, normalise(m.body)), m) for m in group.members),
        key=lambda pair: (pair[0], pair[1].id),
    )
    return {
        "group": group, "representative": representative, "size": len(group.members),
        "answerable": sum(1 for m in group.members if m.needs_answer),
        "hidden": sum(1 for m in group.members if m.status == CommentStatus.HIDDEN),
        "members": scored[:MEMBERS_SHOWN], "answer": group_answer(group),
    }


def _render(consultation: Consultation, *, failed=None, status=200):
    """The groups page; `failed` = (group id, form, message) re-shows a rejected answer."""
    wanted = request.args.get("status", "")
    wanted = wanted if wanted in ("suggested", "confirmed") else ""
    query = groups_query(consultation, GroupStatus(wanted) if wanted else None)
    single = request.args.get("group", "")
    if id_filter(single) is not None:
        query = query.where(CommentGroup.id == id_filter(single))
    page = page_number()
    groups = db.paginate(query.options(
        db.selectinload(CommentGroup.members).selectinload(Comment.disposition)),
        page=page, per_page=GROUPS_PER_PAGE, error_out=False)
    counts = dict(db.session.execute(
        db.select(CommentGroup.status, db.func.count(CommentGroup.id))
        .where(CommentGroup.consultation_id == consultation.id).group_by(CommentGroup.status)
    ).all())
    report = published_report(consultation)
    suggesting = latest_job(consultation, SUGGEST)
    others = db.session.execute(
        db.select(CommentGroup.id, CommentGroup.status)
        .where(CommentGroup.consultation_id == consultation.id).order_by(CommentGroup.id)
    ).all()
    return render_template(
        "answers/staff/groups.html",
        c=consultation,
        groups=groups,
        cards=[_card(g) for g in groups.items],
        counts={str(k): v for k, v in counts.items()},
        others=others,
        wanted=wanted,
        single=single if single.isdigit() else "",
        page=page,
        failed=failed,
        templates=reason_templates(consultation),
        choices=[(code.value, text) for code, text in DISPOSITION_LABELS.items()],
        can_answer=policy.can_answer(current_user, consultation) and report is None,
        report=report,
        suggesting=suggesting,
        refresh=REFRESH_SECONDS if suggesting is not None and suggesting.active else None,
    ), status


def _back(consultation: Consultation, group_id: int | None = None):
    args = {k: v for k, v in request.args.items() if k in PAGE_ARGS}
    return redirect(url_for(".manage_groups", consultation_id=consultation.id, **args,
                            _anchor=f"group-{group_id}" if group_id else None))


@bp.get("/staff/consultations/<int:consultation_id>/groups")
@staff_required
def manage_groups(consultation_id: int):
    """Suggested and confirmed groups of near-identical comments, to check and answer."""
    return _render(_load(consultation_id))


@bp.post("/staff/consultations/<int:consultation_id>/groups/suggest")
@staff_required
@commits
def manage_suggest_groups(consultation_id: int):
    """Run the detector again, as a job (earlier suggestions are replaced; confirmed groups
    stay): the page shows its progress, then what it found."""
    consultation = _load(consultation_id, policy.can_answer)
    check_editable(consultation)
    queue_suggestions(consultation, actor=current_user)
    flash(_("正在查找相同或相近的意见，完成后本页显示结果。"), "success")
    return redirect(url_for(".manage_groups", consultation_id=consultation.id,
                            status="suggested"))


@bp.post("/staff/groups/<int:group_id>/confirm")
@staff_required
@commits
def manage_confirm_group(group_id: int):
    """Staff agree: these comments are one, answered together."""
    group = _group_for_answering(group_id)
    spread = confirm_group(group, actor=current_user)
    flash(_("已确认相同意见组 组%(n)d。", n=group.id)
          + (_("组内 %(k)d 条未答复的意见已按组内已有的答复答复。", k=spread) if spread else ""),
          "success")
    # Straight on to the group's answer form (issue 13): the group never seems to vanish.
    return redirect(url_for(".manage_group", group_id=group.id, _anchor="answer"))


@bp.post("/staff/groups/<int:group_id>/split")
@staff_required
@commits
def manage_split_group(group_id: int):
    """Take the ticked members out of the group."""
    group = _group_for_answering(group_id)
    consultation = group.consultation
    comments = load_comments(consultation, [i for i in request.form.getlist("comment_ids")
                                            if i.isdigit()])
    with form_errors(None) as failed:
        left = split_group(group, comments, actor=current_user)
    if failed:
        return _render(consultation, failed=(group_id, None, failed.message), status=422)
    if left is None:
        flash(_("组%(n)d 剩余不足两条意见，已解散。", n=group_id), "success")
        return _back(consultation)
    flash(_("已将 %(k)d 条意见移出组%(n)d。", k=len(comments), n=group_id), "success")
    return _back(consultation, group_id)


@bp.post("/staff/groups/<int:group_id>/merge")
@staff_required
@commits
def manage_merge_group(group_id: int):
    """Merge this group into another group of the same consultation."""
    group = _group_for_answering(group_id)
    consultation = group.consultation
    into = request.form.get("into", "")
    target = db.session.get(CommentGroup, int(into)) if into.isdigit() else None
    if target is None or target.consultation_id != consultation.id or target.id == group.id:
        return _render(consultation, failed=(group_id, None, _("请选择要并入的另一个组。")),
                       status=422)
    merge_groups(target, [group], actor=current_user)
    flash(_("已将组%(a)d 并入组%(b)d。", a=group_id, b=target.id), "success")
    return _back(consultation, target.id)


@bp.post("/staff/groups/<int:group_id>/answer")
@staff_required
@commits
def manage_answer_group(group_id: int):
    """One answer for every member of a confirmed group."""
    group = _group_for_answering(group_id)
    consultation = group.consultation
    template = template_for(consultation, request.form.get("template_id"))
    data = request.form.copy()
    code, reason = fill_from_template(template, data.get("code"), data.get("reason"))
    if code:
        data["code"] = code
    data["reason"] = reason or ""
    form = GroupAnswerForm(formdata=data)
    if not form.validate():
        return _render(consultation, failed=(group.id, form, None), status=422)
    with form_errors(form, catch=(ValidationFailed, Conflict)) as failed:
        changed = answer_group(group, DispositionCode(form.code.data), form.reason.data,
                               actor=current_user)
    if failed:
        if isinstance(failed.error, Conflict) and failed.error.code != "group_not_confirmed":
            raise failed.error
        return _render(consultation, failed=(group.id, form, failed.message),
                       status=failed.status)
    flash(_("已答复组%(n)d 的 %(k)d 条意见。", n=group.id, k=changed), "success")
    return _back(consultation, group.id)
