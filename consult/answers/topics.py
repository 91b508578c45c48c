"""Topics (issue 13): store what the clustering found (consult/answers/clustering.py) and answer
one topic at a time.

A topic is an aid to answering, not a group: its members keep their own answers, staff leave
out the members that say something else (they stay in the queue, to be answered one by one)
and may revise any member afterwards. Finding topics again replaces the earlier ones; answers
stay.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult import audit, clock
from consult.answers.bulk import CHUNK, check_editable, check_reason, write_answers
from consult.answers.clustering import FoundTopic
from consult.answers.models import (
    CommentGroup,
    Disposition,
    DispositionCode,
    GroupStatus,
    Topic,
    TopicMember,
)
from consult.auth.models import User
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.errors import Conflict
from consult.extensions import db

audit.register_actions({
    "find_topics": _l("查找意见主题"),
    "answer_topic": _l("按主题答复意见"),
})


def _confirmed_groups(consultation: Consultation):
    return db.select(CommentGroup.id).where(CommentGroup.consultation_id == consultation.id,
                                            CommentGroup.status == GroupStatus.CONFIRMED)


def topic_input(consultation: Consultation) -> list[tuple[int, str]]:
    """(id, body) of the comments topics are looked for among: published (they need an
    answer) and not in a confirmed group (the group answers for them)."""
    check_editable(consultation)
    rows = db.session.execute(
        db.select(Comment.id, Comment.body)
        .where(Comment.consultation_id == consultation.id,
               Comment.status == CommentStatus.PUBLISHED,
               db.or_(Comment.group_id.is_(None),
                      Comment.group_id.not_in(_confirmed_groups(consultation))))
        .order_by(Comment.id)
    ).all()
    return [(row.id, row.body) for row in rows]


def store_topics(consultation: Consultation, found: Sequence[FoundTopic], *,
                 actor: User) -> list[Topic]:
    """Replace the consultation's topics with `found`. Comments hidden or confirmed into a
    group since the clustering read them are left out."""
    check_editable(consultation)
    old = db.session.scalars(db.select(Topic.id).where(
        Topic.consultation_id == consultation.id)).all()
    if old:
        db.session.execute(db.delete(TopicMember).where(TopicMember.topic_id.in_(old)))
        db.session.execute(db.delete(Topic).where(Topic.id.in_(old)))
    wanted = sorted({cid for topic in found for cid, _ in topic.members})
    eligible: set[int] = set()
    for start in range(0, len(wanted), CHUNK):
        eligible.update(db.session.scalars(
            db.select(Comment.id).where(
                Comment.id.in_(wanted[start:start + CHUNK]),
                Comment.consultation_id == consultation.id,
                Comment.status == CommentStatus.PUBLISHED,
                db.or_(Comment.group_id.is_(None),
                       Comment.group_id.not_in(_confirmed_groups(consultation))))))
    now = clock.now()
    topics = []
    for item in found:
        members = [(cid, score) for cid, score in item.members if cid in eligible]
        if len(members) < 2:
            continue
        topic = Topic(consultation=consultation, label=item.label, size=len(members),
                      created_at=now)
        db.session.add(topic)
        db.session.flush()
        db.session.add_all(TopicMember(comment_id=cid, topic_id=topic.id, score=score)
                           for cid, score in members)
        topics.append(topic)
    db.session.flush()
    audit.record(actor, "find_topics", consultation, unit_id=consultation.unit_id,
                 detail={"topics": len(topics),
                         "comments": sum(t.size for t in topics)})
    return topics


def topic_of(consultation: Consultation | None, topic_id: int) -> Topic | None:
    topic = db.session.get(Topic, topic_id)
    if topic is None or (consultation is not None and topic.consultation_id != consultation.id):
        return None
    return topic


def topic_members(topic: Topic) -> list[tuple[Comment, float]]:
    """The topic's comments with their closeness, the most typical first (the least typical,
    where a different point hides, are at the end, nearest the answer button)."""
    rows = db.session.execute(
        db.select(Comment, TopicMember.score)
        .join(TopicMember, TopicMember.comment_id == Comment.id)
        .where(TopicMember.topic_id == topic.id)
        .order_by(TopicMember.score.desc(), Comment.id)
        .options(db.selectinload(Comment.disposition), db.selectinload(Comment.article))
    ).all()
    return [(comment, score) for comment, score in rows]


def topics_overview(consultation: Consultation) -> list[dict]:
    """Every topic with how many of its members still await an answer, those first."""
    awaiting = db.func.sum(db.case(
        (db.and_(Comment.status == CommentStatus.PUBLISHED, Disposition.id.is_(None),
                 db.or_(Comment.group_id.is_(None),
                        Comment.group_id.not_in(_confirmed_groups(consultation)))), 1),
        else_=0))
    rows = db.session.execute(
        db.select(Topic, awaiting, db.func.count(Comment.id))
        .join(TopicMember, TopicMember.topic_id == Topic.id)
        .join(Comment, Comment.id == TopicMember.comment_id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Topic.consultation_id == consultation.id)
        .group_by(Topic.id)
        .order_by(Topic.id)
    ).all()
    out = [{"topic": topic, "awaiting": int(waiting or 0), "size": int(size)}
           for topic, waiting, size in rows]
    out.sort(key=lambda row: (row["awaiting"] == 0, -row["size"], row["topic"].id))
    return out


def next_topic(consultation: Consultation, after: Topic | None = None) -> Topic | None:
    """The next topic with members awaiting an answer: the first (the largest: topics are
    stored largest first), or the first after `after` — never one before it, so that skipping
    topics walks through them once instead of going round."""
    rows = [row for row in topics_overview(consultation) if row["awaiting"]]
    if after is not None:
        rows = [row for row in rows if row["topic"].id > after.id]
    rows.sort(key=lambda row: row["topic"].id)
    return rows[0]["topic"] if rows else None


def answer_topic(topic: Topic, code: DispositionCode, reason: str | None, *,
                 leave_out: Collection[int] = (), actor: User) -> int:
    """One answer for the topic's members that still await one, but those left out (they stay
    in the queue) and those in a confirmed group (answered with it). Answers already given are
    kept: a topic never overwrites a member's own answer. Returns how many were answered."""
    reason = check_reason(code, reason)
    check_editable(topic.consultation)
    confirmed = set(db.session.scalars(_confirmed_groups(topic.consultation)))
    members = [comment for comment, _score in topic_members(topic)]
    if any(cid not in {m.id for m in members} for cid in leave_out):
        raise Conflict(_("所选意见不属于本主题。"), code="not_in_topic")
    chosen = [m for m in members
              if m.needs_answer and m.disposition is None and m.id not in leave_out
              and m.group_id not in confirmed]
    if not chosen:
        raise Conflict(_("本主题没有待答复的意见（或均已选择不按本主题答复）。"),
                       code="nothing_to_answer")
    changed = write_answers(chosen, code, reason, actor=actor, detail={"topic": topic.id})
    audit.record(actor, "answer_topic", topic, unit_id=topic.consultation.unit_id,
                 reason=reason, detail={"disposition": code.value, "members": changed,
                                        "left_out": len(leave_out)})
    return changed
