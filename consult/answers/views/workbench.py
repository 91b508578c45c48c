"""The answering workbench (issue 13): triage first (groups, then topics), then one comment at a
time beside its article and the unit's earlier answers, or a compact table; save and next by
plain POST. JavaScript (static/js/workbench.js) adds keyboard shortcuts and saves without a
page load, with the very same forms."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from consult.answers import policy
from consult.answers.bulk import REASON_MAX, fill_from_template, reason_templates, template_for
from consult.answers.forms import AnswerForm
from consult.answers.groups import answer_group, group_answer, groups_query
from consult.answers.jobs import SUGGEST, TOPICS, queue_suggestions, queue_topics
from consult.answers.models import (
    DISPOSITION_LABELS,
    CommentGroup,
    DispositionCode,
    GroupStatus,
    Topic,
)
from consult.answers.services import answer_comment
from consult.answers.topics import answer_topic, next_topic, topic_members, topics_overview
from consult.answers.views import bp
from consult.answers.workbench import (
    Filters,
    answer_rows,
    awaiting_groups,
    comments_page,
    count,
    earlier_answers,
    frequent_answers,
    group_options,
    next_comment,
    progress,
    record_seen,
    suggested_groups,
    template_keys,
)
from consult.comments.models import Category, Channel, Comment
from consult.consultations.models import Consultation
from consult.errors import Conflict, NotFound, ValidationFailed
from consult.extensions import db
from consult.jobs.queue import REFRESH_SECONDS, latest_job
from consult.paging import id_filter, page_number
from consult.web import commits, form_errors, load_or_403, staff_required


def _load(consultation_id: int, check=policy.can_view_comments) -> Consultation:
    return load_or_403(Consultation, consultation_id, check)


def _choices():
    return [(code.value, text) for code, text in DISPOSITION_LABELS.items()]


def _shown() -> list[int]:
    """The comment ids the page that posted showed (recorded as seen)."""
    return [int(i) for i in request.form.getlist("shown") if i.isdigit()][:20_000]


def _answer_data() -> MultiDict:
    """The posted answer: an earlier answer reused in one click (`reuse` = "code|reason"), or
    the form's code and reason, filled from a chosen template where left empty."""
    data = request.form.copy()
    reuse = data.get("reuse", "")
    if reuse:
        code, _sep, reason = reuse.partition("|")
        data["code"], data["reason"] = code, reason
        return data
    return data


def _fill(consultation: Consultation, data: MultiDict) -> MultiDict:
    template = template_for(consultation, data.get("template_id"))
    code, reason = fill_from_template(template, data.get("code"), data.get("reason"))
    if code:
        data["code"] = code
    data["reason"] = reason or ""
    return data


def _triage(consultation: Consultation) -> dict:
    counts = dict(db.session.execute(
        db.select(CommentGroup.status, db.func.count(CommentGroup.id))
        .where(CommentGroup.consultation_id == consultation.id).group_by(CommentGroup.status)
    ).all())
    suggesting, clustering = latest_job(consultation, SUGGEST), latest_job(consultation, TOPICS)
    topics = topics_overview(consultation)
    return {
        "suggested": int(counts.get(GroupStatus.SUGGESTED, 0)),
        "confirmed": int(counts.get(GroupStatus.CONFIRMED, 0)),
        "groups": awaiting_groups(consultation),
        "to_check": suggested_groups(consultation, limit=8),
        "topics": [row for row in topics if row["awaiting"]],
        "topics_total": len(topics),
        "suggesting": suggesting,
        "clustering": clustering,
        "working": any(j is not None and j.active for j in (suggesting, clustering)),
    }


def _common(consultation: Consultation) -> dict:
    templates = reason_templates(consultation)
    return {
        "c": consultation,
        "report": consultation.report_published,
        "can_answer": policy.can_answer(current_user, consultation)
        and not consultation.report_published,
        "progress": progress(consultation),
        "templates": templates,
        "template_keys": template_keys(templates),
        "choices": _choices(),
        "next_triage": next_triage_url(consultation),
        "topic_options": topics_overview(consultation),
        "group_options": group_options(consultation),
    }


def _render_one(consultation: Consultation, filters: Filters, *, comment: Comment | None = None,
                form: AnswerForm | None = None, message: str | None = None, status: int = 200):
    current = comment or next_comment(consultation, filters)
    triage = _triage(consultation)
    earlier = earlier_answers(consultation, current.article_id) if current else []
    return render_template(
        "answers/staff/workbench.html",
        **_common(consultation),
        filters=filters,
        filter_args=filters.args(),
        current=current,
        form=form,
        message=message,
        earlier=[e for e in earlier if e["reason"] or e["code"] == DispositionCode.ADOPTED],
        matching=count(consultation, filters),
        triage=triage,
        refresh=REFRESH_SECONDS if triage["working"] else None,
        articles=consultation.current_version.articles if consultation.current_version else [],
        categories=list(Category),
        channels=list(Channel),
        view="one",
    ), status


def _render_table(consultation: Consultation, filters: Filters, *, errors=None, posted=None,
                  message=None, status=200):
    page = comments_page(consultation, filters, page=page_number())
    return render_template(
        "answers/staff/workbench_table.html",
        **_common(consultation),
        filters=filters,
        filter_args=filters.args(),
        comments=page,
        errors=errors or {},
        posted=posted,
        message=message,
        articles=consultation.current_version.articles if consultation.current_version else [],
        categories=list(Category),
        channels=list(Channel),
        reason_max=REASON_MAX,
        view="table",
    ), status


def _workbench_url(consultation: Consultation, filters: Filters, comment: Comment | None,
                   **extra) -> str:
    return url_for(".manage_workbench", consultation_id=consultation.id, **filters.args(),
                   comment=comment.id if comment is not None else None, **extra)


@bp.get("/staff/consultations/<int:consultation_id>/workbench")
@staff_required
def manage_workbench(consultation_id: int):
    """What awaits an answer: triage (groups, topics), then one comment at a time (or the
    compact table with `?view=table`)."""
    consultation = _load(consultation_id)
    filters = Filters.parse(request.args)
    if request.args.get("view") == "table":
        return _render_table(consultation, filters)
    comment = None
    wanted = id_filter(request.args.get("comment", ""))
    if wanted is not None:
        comment = db.session.get(Comment, wanted)
        if comment is None or comment.consultation_id != consultation.id:
            raise NotFound()
    return _render_one(consultation, filters, comment=comment)


@bp.post("/staff/comments/<int:comment_id>/workbench")
@staff_required
@commits
def manage_workbench_answer(comment_id: int):
    """Save this comment's answer and show the next one (or skip it: it comes back last)."""
    comment = load_or_403(Comment, comment_id,
                          lambda user, c: policy.can_answer(user, c.consultation))
    consultation = comment.consultation
    filters = Filters.parse(request.args)
    if request.form.get("action") == "skip":
        record_seen(current_user, [comment.id], consultation)
        return redirect(_workbench_url(consultation, filters,
                                       next_comment(consultation, filters, after=comment)))
    form = AnswerForm(formdata=_fill(consultation, _answer_data()))
    if not form.validate():
        return _render_one(consultation, filters, comment=comment, form=form, status=422)
    with form_errors(form, catch=(ValidationFailed, Conflict)) as failed:
        answer_comment(comment, DispositionCode(form.code.data), form.reason.data,
                       actor=current_user)
        record_seen(current_user, [comment.id], consultation)
    if failed:
        return _render_one(consultation, filters, comment=comment, form=form,
                           message=failed.message, status=failed.status)
    flash(_("已答复意见 %(no)s。", no=comment.tracking_no), "success")
    following = next_comment(consultation, filters, after=comment)
    return redirect(_workbench_url(consultation, filters, following))


@bp.post("/staff/consultations/<int:consultation_id>/workbench/table")
@staff_required
@commits
def manage_workbench_table(consultation_id: int):
    """Save the answers given on one page of the compact table (rows left empty stay
    unanswered); all or nothing."""
    consultation = _load(consultation_id, policy.can_answer)
    filters = Filters.parse(request.args)
    shown = _shown()
    rows = []
    for comment_id in shown:
        data = MultiDict({
            "code": request.form.get(f"code-{comment_id}", ""),
            "reason": request.form.get(f"reason-{comment_id}", ""),
            "template_id": request.form.get(f"template-{comment_id}", ""),
        })
        data = _fill(consultation, data)
        if data.get("code") or data.get("reason").strip():
            rows.append((comment_id, data.get("code") or "", data.get("reason")))
    with form_errors(None, catch=(ValidationFailed, Conflict)) as failed:
        changed = answer_rows(consultation, rows, actor=current_user)
        record_seen(current_user, shown, consultation)
    if failed:
        return _render_table(consultation, filters, errors=failed.error.fields or {},
                             posted=request.form, message=failed.message,
                             status=failed.status)
    flash(_("已保存 %(n)d 条答复。", n=changed) if changed else _("本页没有填写答复。"),
          "success")
    return redirect(url_for(".manage_workbench", consultation_id=consultation.id,
                            **filters.args(), view="table"))


# --- triage: groups and topics --------------------------------------------------------------


def next_triage_url(consultation: Consultation) -> str:
    """Where triage goes on: the next confirmed group awaiting its answer, else the next
    suggested group to check, else the next topic, else the one-at-a-time queue."""
    groups = awaiting_groups(consultation)
    if groups:
        return url_for(".manage_group", group_id=groups[0]["group"].id)
    suggested = suggested_groups(consultation, limit=1)
    if suggested:
        return url_for(".manage_group", group_id=suggested[0]["group"].id)
    topic = next_topic(consultation)
    if topic is not None:
        return url_for(".manage_topic", topic_id=topic.id)
    return url_for(".manage_workbench", consultation_id=consultation.id)


@bp.post("/staff/consultations/<int:consultation_id>/workbench/triage")
@staff_required
@commits
def manage_triage(consultation_id: int):
    """Look for near-identical comments and for topics, as jobs; the workbench shows their
    progress and then what they found."""
    consultation = _load(consultation_id, policy.can_answer)
    what = request.form.get("find")
    if what == "topics":
        queue_topics(consultation, actor=current_user)
        flash(_("正在按主题归类意见，完成后本页显示结果。"), "success")
    else:
        queue_suggestions(consultation, actor=current_user)
        flash(_("正在查找相同或相近的意见，完成后本页显示结果。"), "success")
    return redirect(url_for(".manage_workbench", consultation_id=consultation.id))


def _render_group(group: CommentGroup, *, form=None, message=None, status=200):
    consultation = group.consultation
    members = db.session.scalars(
        db.select(Comment).where(Comment.group_id == group.id).order_by(Comment.id)
        .options(db.selectinload(Comment.disposition), db.selectinload(Comment.article))
    ).all()
    return render_template(
        "answers/staff/workbench_group.html",
        **_common(consultation),
        group=group,
        members=members,
        awaiting=[m for m in members if m.needs_answer and m.disposition is None],
        answered=[m for m in members if m.disposition is not None],
        not_public=[m for m in members if not m.needs_answer],
        answer=group_answer(group),
        earlier=frequent_answers(consultation, article_ids=[m.article_id for m in members]),
        form=form,
        message=message,
    ), status


def _group(group_id: int, check=policy.can_view_comments) -> CommentGroup:
    return load_or_403(CommentGroup, group_id, lambda user, g: check(user, g.consultation))


@bp.get("/staff/groups/<int:group_id>")
@staff_required
def manage_group(group_id: int):
    """One group of near-identical comments: every member, and its answer form."""
    return _render_group(_group(group_id))


@bp.post("/staff/groups/<int:group_id>/workbench-answer")
@staff_required
@commits
def manage_group_answer(group_id: int):
    """One answer for every member of a confirmed group; then the next thing to triage."""
    group = _group(group_id, policy.can_answer)
    consultation = group.consultation
    form = AnswerForm(formdata=_fill(consultation, _answer_data()))
    if not form.validate():
        return _render_group(group, form=form, status=422)
    with form_errors(form, catch=(ValidationFailed, Conflict)) as failed:
        changed = answer_group(group, DispositionCode(form.code.data), form.reason.data,
                               actor=current_user)
        # the page listed every member (a campaign's 1 500 ids are not posted back)
        record_seen(current_user, [m.id for m in group.members], consultation)
    if failed:
        return _render_group(group, form=form, message=failed.message, status=failed.status)
    flash(_("已答复组%(n)d 的 %(k)d 条意见。", n=group.id, k=changed), "success")
    return redirect(next_triage_url(consultation))


def _topic(topic_id: int, check=policy.can_view_comments) -> Topic:
    return load_or_403(Topic, topic_id, lambda user, t: check(user, t.consultation))


def _render_topic(topic: Topic, *, form=None, message=None, left_out=(), status=200):
    consultation = topic.consultation
    members = topic_members(topic)
    confirmed = {g.id for g in db.session.scalars(groups_query(consultation,
                                                                GroupStatus.CONFIRMED))}
    awaiting = [(m, s) for m, s in members
                if m.needs_answer and m.disposition is None and m.group_id not in confirmed]
    return render_template(
        "answers/staff/workbench_topic.html",
        **_common(consultation),
        topic=topic,
        members=members,
        awaiting=awaiting,
        answered=[(m, s) for m, s in members if m.disposition is not None],
        others=[(m, s) for m, s in members
                if m.disposition is None and (not m.needs_answer or m.group_id in confirmed)],
        earlier=frequent_answers(consultation,
                                 article_ids=[m.article_id for m, _score in members]),
        form=form,
        message=message,
        left_out=set(left_out),
        following=next_topic(consultation, after=topic),
    ), status


@bp.get("/staff/topics/<int:topic_id>")
@staff_required
def manage_topic(topic_id: int):
    """One topic: its comments (the least typical last), and one answer for those that await
    one, leaving out the ones that say something else."""
    return _render_topic(_topic(topic_id))


@bp.post("/staff/topics/<int:topic_id>/answer")
@staff_required
@commits
def manage_topic_answer(topic_id: int):
    """Answer the topic's waiting comments but those left out; then the next topic."""
    topic = _topic(topic_id, policy.can_answer)
    consultation = topic.consultation
    left_out = [int(i) for i in request.form.getlist("leave_out") if i.isdigit()]
    # the page listed every member awaiting an answer, in full (those are recorded as seen)
    shown = [m.id for m, _score in topic_members(topic)
             if m.needs_answer and m.disposition is None]
    form = AnswerForm(formdata=_fill(consultation, _answer_data()))
    if not form.validate():
        return _render_topic(topic, form=form, left_out=left_out, status=422)
    with form_errors(form, catch=(ValidationFailed, Conflict)) as failed:
        changed = answer_topic(topic, DispositionCode(form.code.data), form.reason.data,
                               leave_out=left_out, actor=current_user)
        record_seen(current_user, shown, consultation)
    if failed:
        return _render_topic(topic, form=form, message=failed.message, left_out=left_out,
                             status=failed.status)
    flash(_("已按主题答复 %(n)d 条意见。", n=changed)
          + (_("另有 %(k)d 条留待逐条答复。", k=len(left_out)) if left_out else ""), "success")
    following = next_topic(consultation, after=topic)
    if following is not None:
        return redirect(url_for(".manage_topic", topic_id=following.id))
    return redirect(url_for(".manage_workbench", consultation_id=consultation.id))

