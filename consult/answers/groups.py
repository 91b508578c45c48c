"""Groups of near-identical comments (F13): suggest, confirm, split, merge, answer once.

The detector (`consult/answers/similarity.py`) only *suggests*: staff confirm a group, take
members out of it, or merge groups. A confirmed group is answered as a whole — the answer is
written to every member that needs one — and its members cannot be answered one by one, so a
group never disagrees with itself. Nothing is deleted but the group rows: comments stay, each
with its own answer, and the report counts every member (SPEC §6: identical comments are
grouped and counted, one representative shown).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from flask_babel import gettext as _

from consult import audit, clock
from consult.answers.bulk import CHUNK, check_editable, check_reason, write_answers
from consult.answers.models import CommentGroup, Disposition, DispositionCode, GroupStatus
from consult.answers.similarity import DEFAULT_SIMILARITY, find_groups
from consult.auth.models import User
from consult.comments.models import Comment, CommentStatus
from consult.comments.services import public_text
from consult.consultations.models import Consultation
from consult.errors import Conflict, NotFound, ValidationFailed
from consult.extensions import db


def groups_query(consultation: Consultation, status: GroupStatus | None = None):
    query = db.select(CommentGroup).where(CommentGroup.consultation_id == consultation.id)
    if status is not None:
        query = query.where(CommentGroup.status == status)
    return query.order_by(CommentGroup.id)


def _set_group(ids: Sequence[int], group_id: int | None) -> None:
    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            db.update(Comment).where(Comment.id.in_(ids[start:start + CHUNK]))
            .values(group_id=group_id)
        )


def _drop(groups: Sequence[CommentGroup]) -> None:
    """Remove group rows (their members become ungrouped; the comments stay)."""
    ids = [g.id for g in groups]
    if not ids:
        return
    db.session.execute(
        db.update(Comment).where(Comment.group_id.in_(ids)).values(group_id=None)
    )
    for group in groups:
        group.representative_comment_id = None
        db.session.delete(group)
    db.session.flush()


def _pick_representative(group: CommentGroup) -> None:
    """The first member that the public can read (else the first member)."""
    members = group.members
    published = [m for m in members if m.status == CommentStatus.PUBLISHED]
    chosen = (published or members or [None])[0]
    group.representative = chosen


def suggest_groups(consultation: Consultation, *, actor: User,
                   similarity: int | None = None) -> list[CommentGroup]:
    """Run the detector over the comments not in a confirmed group and store what it finds as
    suggested groups, replacing earlier suggestions. Hidden comments are left out. (A large
    consultation runs the same three steps as a job: consult/answers/jobs.py.)"""
    similarity = similarity or default_similarity()
    rows = suggestion_input(consultation)
    found = find_groups(rows, similarity=similarity)
    return store_suggestions(consultation, found, actor=actor, similarity=similarity)


def default_similarity() -> int:
    return current_app.config.get("GROUP_SIMILARITY", DEFAULT_SIMILARITY)


def suggestion_input(consultation: Consultation) -> list[tuple[int, str]]:
    """(id, body) of the comments the detector looks at: neither hidden nor in a confirmed
    group (members of earlier suggestions are looked at again)."""
    check_editable(consultation)
    confirmed = db.select(CommentGroup.id).where(
        CommentGroup.consultation_id == consultation.id,
        CommentGroup.status == GroupStatus.CONFIRMED)
    rows = db.session.execute(
        db.select(Comment.id, Comment.body)
        .where(Comment.consultation_id == consultation.id,
               Comment.status != CommentStatus.HIDDEN,
               db.or_(Comment.group_id.is_(None), Comment.group_id.not_in(confirmed)))
        .order_by(Comment.id)
    ).all()
    return [(row.id, row.body) for row in rows]


def store_suggestions(consultation: Consultation, found: Sequence[Sequence[int]], *, actor: User,
                      similarity: int) -> list[CommentGroup]:
    """Replace the consultation's suggested groups with `found` (lists of comment ids). The
    comments are checked again, as the detector may have run on a slightly older state: a
    comment hidden or confirmed into a group meanwhile is left out."""
    check_editable(consultation)
    _drop(db.session.scalars(groups_query(consultation, GroupStatus.SUGGESTED)).all())
    wanted = {i for ids in found for i in ids}
    eligible: dict[int, CommentStatus] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), CHUNK):
        eligible.update(db.session.execute(
            db.select(Comment.id, Comment.status)
            .where(Comment.id.in_(ordered[start:start + CHUNK]),
                   Comment.consultation_id == consultation.id, Comment.group_id.is_(None),
                   Comment.status != CommentStatus.HIDDEN)
        ).all())
    now = clock.now()
    groups, grouped = [], 0
    for ids in found:
        ids = [i for i in ids if i in eligible]
        if len(ids) < 2:
            continue
        group = CommentGroup(consultation=consultation, status=GroupStatus.SUGGESTED,
                             created_at=now)
        db.session.add(group)
        db.session.flush()
        _set_group(ids, group.id)
        group.representative_comment_id = next(
            (i for i in ids if eligible[i] == CommentStatus.PUBLISHED), ids[0])
        groups.append(group)
        grouped += len(ids)
    db.session.flush()
    audit.record(actor, "suggest_groups", consultation, unit_id=consultation.unit_id,
                 detail={"groups": len(groups), "comments": grouped, "similarity": similarity})
    return groups


def _answered_alike(group: CommentGroup):
    """(code, reason) if every answered member that needs an answer has the same one, with
    the members that need one and have none; `None` when they disagree."""
    answers, unanswered = set(), []
    for member in group.members:
        if not member.needs_answer:
            continue
        if member.disposition is None:
            unanswered.append(member)
        else:
            answers.add((member.disposition.code, member.disposition.reason))
    if len(answers) > 1:
        return None, unanswered
    return (next(iter(answers)) if answers else None), unanswered


def group_answer(group: CommentGroup) -> dict:
    """The group's answer as staff see it: {"code", "reason", "mixed", "unanswered"}."""
    answer, unanswered = _answered_alike(group)
    return {
        "code": answer[0] if answer else None, "reason": answer[1] if answer else None,
        "mixed": answer is None and any(
            m.disposition is not None for m in group.members if m.needs_answer),
        "unanswered": len(unanswered),
    }


def _spread_answer(group: CommentGroup, *, actor: User) -> int:
    """Members of a confirmed group that have no answer get the one its answered members share
    (none when they disagree: then staff answer the group)."""
    answer, unanswered = _answered_alike(group)
    if not answer or not unanswered:
        return 0
    code, reason = answer
    return write_answers(unanswered, code, reason, actor=actor,
                         detail={"group": group.id, "spread": True})


def _confirm(group: CommentGroup, actor: User) -> None:
    if group.status != GroupStatus.CONFIRMED:
        group.status = GroupStatus.CONFIRMED
        group.confirmed_by = actor
        group.confirmed_at = clock.now()


def confirm_group(group: CommentGroup, *, actor: User) -> int:
    """Staff agree the members are one comment; return how many members got the answer the
    others already share."""
    check_editable(group.consultation)
    if group.confirmed:
        raise Conflict(_("该组已确认。"), code="already_confirmed")
    _confirm(group, actor)
    audit.record(actor, "confirm_group", group, unit_id=group.consultation.unit_id,
                 detail={"members": len(group.members)})
    return _spread_answer(group, actor=actor)


def split_group(group: CommentGroup, comments: Sequence[Comment], *, actor: User
                ) -> CommentGroup | None:
    """Take members out of a group (they keep any answer they have, now as their own). A group
    left with fewer than two members is dissolved: None is returned."""
    check_editable(group.consultation)
    if not comments:
        message = _("请选择要移出该组的意见。")
        raise ValidationFailed(message, code="nothing_selected", fields={"comment_ids": message})
    if any(c.group_id != group.id for c in comments):
        raise NotFound()
    removed = {c.id for c in comments}
    remaining = [m for m in group.members if m.id not in removed]
    audit.record(actor, "split_group", group, unit_id=group.consultation.unit_id,
                 detail={"removed": sorted(removed), "remaining": len(remaining)})
    if len(remaining) < 2:
        _drop([group])
        return None
    _set_group(sorted(removed), None)
    db.session.expire(group, ["members"])
    if group.representative_comment_id in removed:
        _pick_representative(group)
    db.session.flush()
    return group


def ungroup_comments(consultation: Consultation, comments: Sequence[Comment], *,
                     actor: User) -> int:
    """Take comments out of whatever groups they are in (see `split_group`)."""
    check_editable(consultation)
    by_group: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.consultation_id != consultation.id:
            raise NotFound()
        if comment.group_id is not None:
            by_group.setdefault(comment.group_id, []).append(comment)
    if not by_group:
        message = _("所选意见都不在相同意见组中。")
        raise ValidationFailed(message, code="not_grouped", fields={"comment_ids": message})
    for group_id, members in sorted(by_group.items()):
        split_group(db.session.get(CommentGroup, group_id), members, actor=actor)
    return sum(len(members) for members in by_group.values())


def _gather(consultation: Consultation, target: CommentGroup, comments: Sequence[Comment]):
    """Move comments into `target`, dissolving groups that are left with fewer than two."""
    moved = {c.id for c in comments if c.group_id != target.id}
    left_behind = {c.group_id for c in comments if c.group_id not in (None, target.id)}
    _set_group(sorted(moved), target.id)
    db.session.flush()
    for old_id in sorted(left_behind):
        old = db.session.get(CommentGroup, old_id)
        db.session.expire(old, ["members"])
        if len(old.members) < 2:
            _drop([old])
        elif old.representative_comment_id in moved:
            _pick_representative(old)
    db.session.expire(target, ["members"])
    return moved


def merge_groups(target: CommentGroup, sources: Sequence[CommentGroup], *, actor: User) -> int:
    """Merge other groups of the same consultation into `target`, which is then confirmed;
    return how many members got the answer the others share."""
    check_editable(target.consultation)
    sources = [s for s in sources if s.id != target.id]
    if not sources:
        message = _("请选择要并入的组。")
        raise ValidationFailed(message, code="nothing_selected", fields={"into": message})
    if any(s.consultation_id != target.consultation_id for s in sources):
        raise NotFound()
    members = [m for s in sources for m in s.members]
    _gather(target.consultation, target, members)
    _drop([s for s in sources if db.inspect(s).persistent])
    _confirm(target, actor)
    audit.record(actor, "merge_groups", target, unit_id=target.consultation.unit_id,
                 detail={"merged": sorted(s.id for s in sources), "members": len(target.members)})
    return _spread_answer(target, actor=actor)


def group_comments(consultation: Consultation, comments: Sequence[Comment], *, actor: User
                   ) -> CommentGroup:
    """Make a confirmed group of comments staff chose (the detector may miss a paraphrase)."""
    check_editable(consultation)
    if len(comments) < 2:
        message = _("至少选择两条意见才能合并为一组。")
        raise ValidationFailed(message, code="too_few", fields={"comment_ids": message})
    if any(c.consultation_id != consultation.id for c in comments):
        raise NotFound()
    group = CommentGroup(consultation=consultation, status=GroupStatus.SUGGESTED,
                         created_at=clock.now())
    db.session.add(group)
    db.session.flush()
    _gather(consultation, group, comments)
    _confirm(group, actor)
    _pick_representative(group)
    audit.record(actor, "group_comments", group, unit_id=consultation.unit_id,
                 detail={"members": len(group.members)})
    _spread_answer(group, actor=actor)
    return group


def answer_group(group: CommentGroup, code: DispositionCode, reason: str | None, *,
                 actor: User) -> int:
    """One answer for a confirmed group: every member that needs an answer gets it (each
    keeps its own Disposition, so receipts and the report count every member)."""
    reason = check_reason(code, reason)
    check_editable(group.consultation)
    if not group.confirmed:
        raise Conflict(_("请先确认该组，再统一答复。"), code="group_not_confirmed")
    members = db.session.scalars(
        db.select(Comment).where(Comment.group_id == group.id)
        .options(db.selectinload(Comment.disposition)).order_by(Comment.id)
    ).all()
    answerable = [m for m in members if m.needs_answer]
    if not answerable:
        raise Conflict(_("该组的意见均未公开，无需答复。"), code="not_answerable")
    changed = write_answers(answerable, code, reason, actor=actor, detail={"group": group.id})
    audit.record(actor, "answer_group", group, unit_id=group.consultation.unit_id,
                 reason=reason, detail={"disposition": code.value, "members": len(answerable)})
    return changed


def group_of(consultation: Consultation, group_id) -> CommentGroup:
    """The consultation's group with this id, else 404."""
    try:
        group = db.session.get(CommentGroup, int(group_id))
    except (TypeError, ValueError):
        raise NotFound() from None
    if group is None or group.consultation_id != consultation.id:
        raise NotFound()
    return group


# --- the report ------------------------------------------------------------------------------


class ReportGroup:
    """One confirmed group as one item of the report (SPEC §5): its count, a representative
    text, and its members' counts by category, channel, region, article and date, so that
    anyone can re-compute every total from the items."""

    def __init__(self, group: CommentGroup, representative: Comment, code: str, reason):
        self.item = {
            "kind": "group", "group_id": group.id, "tracking_no": None, "tracking_nos": [],
            "count": 0, "version": representative.version.number,
            "article": representative.article.number if representative.article else None,
            "category": None, "channel": None, "region": None,
            "by_category": {}, "by_channel": {}, "by_region": {}, "by_article": [],
            "visibility": CommentStatus.PUBLISHED.value, "text": public_text(representative),
            "hidden_reason": None, "name": None, "disposition": code, "reason": reason,
            "submitted_on": None, "by_submitted_on": {},
        }

    def add(self, row, version: int, article: int | None, region: str, zone) -> bool:
        """Count one member (a row of the report query); True for the first one."""
        item = self.item
        first = item["count"] == 0
        item["count"] += 1
        item["tracking_nos"].append(row.tracking_no)
        for key, value in (("by_category", row.category.value),
                           ("by_channel", row.channel.value), ("by_region", region)):
            item[key][value] = item[key].get(value, 0) + 1
        for entry in item["by_article"]:
            if entry["version"] == version and entry["article"] == article:
                entry["count"] += 1
                break
        else:
            item["by_article"].append({"version": version, "article": article, "count": 1})
        day = (row.received_at or row.created_at).astimezone(zone).date().isoformat()
        item["by_submitted_on"][day] = item["by_submitted_on"].get(day, 0) + 1
        if item["submitted_on"] is None or day < item["submitted_on"]:
            item["submitted_on"] = day
        return first


def report_groups(consultation: Consultation) -> dict[int, ReportGroup]:
    """Confirmed groups the report shows once: two or more published members, all with the
    same answer. (A group whose members were answered differently before it was confirmed
    shows its members one by one until staff answer it as a whole: totals stay exact.)"""
    answers: dict[int, list] = {}
    for row in db.session.execute(
        db.select(Comment.group_id, Disposition.code, Disposition.reason,
                  db.func.count(Comment.id))
        .join(Disposition, Disposition.comment_id == Comment.id)
        .join(CommentGroup, CommentGroup.id == Comment.group_id)
        .where(Comment.consultation_id == consultation.id,
               Comment.status == CommentStatus.PUBLISHED,
               CommentGroup.status == GroupStatus.CONFIRMED)
        .group_by(Comment.group_id, Disposition.code, Disposition.reason)
    ):
        answers.setdefault(row[0], []).append(row)
    out = {}
    for group_id, rows in answers.items():
        if len(rows) != 1 or rows[0][3] < 2:
            continue
        group = db.session.get(CommentGroup, group_id)
        representative = group.representative
        if (representative is None or representative.group_id != group_id
                or representative.status != CommentStatus.PUBLISHED):
            representative = next(m for m in group.members
                                  if m.status == CommentStatus.PUBLISHED)
        out[group_id] = ReportGroup(group, representative, rows[0][1].value, rows[0][2])
    return out
