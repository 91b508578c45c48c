"""The answering workbench (issue 13): what awaits an answer, one comment at a time or a page
of them, with its article, the unit's earlier answers and the progress of the whole.

A comment *awaits an answer* when it is published (SPEC §6), has none, and is not in a
confirmed group (the group answers for it). The queue runs article by article, so that the
answers given to an article stay in view while its comments are answered; a comment skipped
comes back after the others.

What the workbench showed is recorded (`CommentSeen`) when the person acts on it — saves,
skips, answers a group, a topic or a page of the table — so that a unit can show that every
comment was read, not only answered in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from consult import clock
from consult.answers.bulk import (
    CHUNK,
    REASON_MAX,
    check_editable,
    in_confirmed_group,
    load_comments,
    write_answer_list,
)
from consult.answers.models import (
    CommentGroup,
    CommentSeen,
    Disposition,
    DispositionCode,
    GroupStatus,
    ReasonTemplate,
    Topic,
    TopicMember,
)
from consult.auth.models import User
from consult.comments.models import Category, Channel, Comment, CommentStatus
from consult.consultations.models import Article, Consultation
from consult.errors import ValidationFailed
from consult.extensions import db
from consult.paging import id_filter

STATES = ("awaiting", "answered", "all")
TABLE_PAGE = 25  # comments per page of the compact table
EARLIER_ANSWERS = 6  # distinct earlier answers shown beside a comment


@dataclass(frozen=True)
class Filters:
    """The workbench's filters, from the query string (unknown values mean "any")."""

    article: str = ""  # an article number, "whole", or ""
    category: str = ""
    channel: str = ""
    group: str = ""  # "ungrouped", a group id, or ""
    topic: str = ""  # "none", a topic id, or ""
    state: str = "awaiting"

    @classmethod
    def parse(cls, args) -> Filters:
        article = args.get("article", "")
        category = args.get("category", "")
        channel = args.get("channel", "")
        group = args.get("group", "")
        topic = args.get("topic", "")
        state = args.get("state", "awaiting")
        return cls(
            article=article if article == "whole" or id_filter(article) is not None else "",
            category=category if category in {c.value for c in Category} else "",
            channel=channel if channel in {c.value for c in Channel} else "",
            group=group if group == "ungrouped" or id_filter(group) is not None else "",
            topic=topic if topic == "none" or id_filter(topic) is not None else "",
            state=state if state in STATES else "awaiting",
        )

    def args(self) -> dict[str, str]:
        """The non-default filters, for links and redirects."""
        return {key: value for key, value in asdict(self).items()
                if value and not (key == "state" and value == "awaiting")}


def _confirmed(consultation: Consultation):
    return db.select(CommentGroup.id).where(CommentGroup.consultation_id == consultation.id,
                                            CommentGroup.status == GroupStatus.CONFIRMED)


def awaiting_condition(consultation: Consultation):
    return db.and_(
        Comment.status == CommentStatus.PUBLISHED,
        ~Comment.disposition.has(),
        db.or_(Comment.group_id.is_(None), Comment.group_id.not_in(_confirmed(consultation))),
    )


def _order_key():
    return db.func.coalesce(Article.number, 0)


def _query(consultation: Consultation, filters: Filters, *columns):
    query = (db.select(*columns).select_from(Comment)
             .outerjoin(Article, Article.id == Comment.article_id)
             .where(Comment.consultation_id == consultation.id))
    if filters.article == "whole":
        query = query.where(Comment.article_id.is_(None))
    elif filters.article:
        query = query.where(Article.number == int(filters.article))
    if filters.category:
        query = query.where(Comment.category == filters.category)
    if filters.channel:
        query = query.where(Comment.channel == filters.channel)
    if filters.group == "ungrouped":
        query = query.where(Comment.group_id.is_(None))
    elif filters.group:
        query = query.where(Comment.group_id == int(filters.group))
    if filters.topic == "none":
        query = query.where(~Comment.id.in_(
            db.select(TopicMember.comment_id).join(Topic, Topic.id == TopicMember.topic_id)
            .where(Topic.consultation_id == consultation.id)))
    elif filters.topic:
        query = query.where(Comment.id.in_(
            db.select(TopicMember.comment_id).where(TopicMember.topic_id == int(filters.topic))))
    if filters.state == "awaiting":
        query = query.where(awaiting_condition(consultation))
    elif filters.state == "answered":
        query = query.where(Comment.disposition.has())
    return query


def count(consultation: Consultation, filters: Filters) -> int:
    return db.session.scalar(_query(consultation, filters, db.func.count(Comment.id)))


def comments_page(consultation: Consultation, filters: Filters, *, page: int,
                  per_page: int = TABLE_PAGE):
    """One page of the filtered comments, in the workbench's order (for the table)."""
    query = (_query(consultation, filters, Comment)
             .order_by(_order_key(), Comment.id)
             .options(selectinload(Comment.disposition), selectinload(Comment.article),
                      selectinload(Comment.group)))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def next_comment(consultation: Consultation, filters: Filters,
                 after: Comment | None = None) -> Comment | None:
    """The next comment under `filters` after `after` in the workbench's order (article,
    then arrival), wrapping round to the first: a skipped comment comes back last."""
    base = _query(consultation, filters, Comment).order_by(_order_key(), Comment.id).limit(1)
    if after is not None:
        key = after.article.number if after.article is not None else 0
        later = db.session.scalar(base.where(db.or_(
            _order_key() > key, db.and_(_order_key() == key, Comment.id > after.id))))
        if later is not None:
            return later
        first = db.session.scalar(base.where(Comment.id != after.id))
        return first
    return db.session.scalar(base)


def progress(consultation: Consultation) -> dict[str, int]:
    """How far the answering is: comments that need an answer, answered, still awaiting (a
    confirmed group's unanswered members count as awaiting), and how many were seen."""
    published = Comment.status == CommentStatus.PUBLISHED
    need, answered = db.session.execute(
        db.select(db.func.count(Comment.id), db.func.count(Disposition.id))
        .select_from(Comment).outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.consultation_id == consultation.id, published)
    ).one()
    seen = db.session.scalar(
        db.select(db.func.count(db.distinct(CommentSeen.comment_id)))
        .join(Comment, Comment.id == CommentSeen.comment_id)
        .where(Comment.consultation_id == consultation.id))
    need, answered = int(need or 0), int(answered or 0)
    return {"need": need, "answered": answered, "remaining": need - answered,
            "seen": int(seen or 0),
            "percent": int(answered * 100 / need) if need else 100}


def earlier_answers(consultation: Consultation, article_id: int | None, *,
                    limit: int = EARLIER_ANSWERS) -> list[dict]:
    """The unit's answers so far to comments on this article (or on the whole draft), the most
    given first: {"code", "reason", "count"} — to reuse in one click."""
    condition = (Comment.article_id == article_id if article_id is not None
                 else Comment.article_id.is_(None))
    rows = db.session.execute(
        db.select(Disposition.code, Disposition.reason, db.func.count(Disposition.id))
        .join(Comment, Comment.id == Disposition.comment_id)
        .where(Comment.consultation_id == consultation.id, condition)
        .group_by(Disposition.code, Disposition.reason)
        .order_by(db.func.count(Disposition.id).desc(), db.func.max(Disposition.id).desc())
        .limit(limit)
    ).all()
    return [{"code": code, "reason": reason or "", "count": int(n)} for code, reason, n in rows]


def frequent_answers(consultation: Consultation, *, limit: int = EARLIER_ANSWERS,
                     article_ids: Iterable[int | None] | None = None) -> list[dict]:
    """The answers given most in the whole consultation, or to comments on these articles
    (a topic's or a group's: None stands for the whole draft)."""
    query = (
        db.select(Disposition.code, Disposition.reason, db.func.count(Disposition.id))
        .join(Comment, Comment.id == Disposition.comment_id)
        .where(Comment.consultation_id == consultation.id))
    if article_ids is not None:
        wanted = set(article_ids)
        ids = {i for i in wanted if i is not None}
        whole = None in wanted
        query = query.where(db.or_(Comment.article_id.in_(sorted(ids)),
                                   Comment.article_id.is_(None) if whole else db.false()))
    rows = db.session.execute(
        query
        .group_by(Disposition.code, Disposition.reason)
        .order_by(db.func.count(Disposition.id).desc(), db.func.max(Disposition.id).desc())
        .limit(limit)
    ).all()
    return [{"code": code, "reason": reason or "", "count": int(n)} for code, reason, n in rows]


def record_seen(user: User, comment_ids: Iterable[int], consultation: Consultation) -> int:
    """Note that `user` was shown these comments of `consultation` (ids of other
    consultations are ignored). Returns how many were new to them."""
    ids = sorted({int(i) for i in comment_ids})
    if not ids or user is None or getattr(user, "id", None) is None:
        return 0
    now = clock.now()
    known: set[int] = set()
    valid: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        valid.update(db.session.scalars(db.select(Comment.id).where(
            Comment.id.in_(chunk), Comment.consultation_id == consultation.id)))
        known.update(db.session.scalars(db.select(CommentSeen.comment_id).where(
            CommentSeen.user_id == user.id, CommentSeen.comment_id.in_(chunk))))
    again = sorted(valid & known)
    for start in range(0, len(again), CHUNK):
        db.session.execute(
            db.update(CommentSeen)
            .where(CommentSeen.user_id == user.id,
                   CommentSeen.comment_id.in_(again[start:start + CHUNK]))
            .values(last_seen_at=now))
    new = sorted(valid - known)
    db.session.add_all(CommentSeen(comment_id=i, user_id=user.id, first_seen_at=now,
                                   last_seen_at=now) for i in new)
    db.session.flush()
    return len(new)


def seen_by(comment: Comment) -> list[CommentSeen]:
    return db.session.scalars(
        db.select(CommentSeen).where(CommentSeen.comment_id == comment.id)
        .order_by(CommentSeen.first_seen_at)).all()


def awaiting_groups(consultation: Consultation) -> list[dict]:
    """Confirmed groups with members still awaiting an answer, largest first:
    {"group", "awaiting"}."""
    rows = db.session.execute(
        db.select(CommentGroup, db.func.count(Comment.id))
        .join(Comment, Comment.group_id == CommentGroup.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(CommentGroup.consultation_id == consultation.id,
               CommentGroup.status == GroupStatus.CONFIRMED,
               Comment.status == CommentStatus.PUBLISHED, Disposition.id.is_(None))
        .group_by(CommentGroup.id)
        .order_by(db.func.count(Comment.id).desc(), CommentGroup.id)
    ).all()
    return [{"group": group, "awaiting": int(n)} for group, n in rows]


def suggested_groups(consultation: Consultation, *, limit: int | None = None) -> list[dict]:
    """Suggested groups still to check that have members awaiting an answer, largest first
    (a campaign of 1 500 letters before a pair of look-alikes): {"group", "size"}."""
    query = (
        db.select(CommentGroup, db.func.count(Comment.id))
        .join(Comment, Comment.group_id == CommentGroup.id)
        .where(CommentGroup.consultation_id == consultation.id,
               CommentGroup.status == GroupStatus.SUGGESTED,
               Comment.status == CommentStatus.PUBLISHED, ~Comment.disposition.has())
        .group_by(CommentGroup.id)
        .order_by(db.func.count(Comment.id).desc(), CommentGroup.id)
    )
    if limit:
        query = query.limit(limit)
    return [{"group": group, "size": int(n)} for group, n in db.session.execute(query).all()]


GROUP_EXCERPT = 18  # characters of a group's representative comment in the filter's label


def group_options(consultation: Consultation) -> list[dict]:
    """Every group of near-identical comments of the consultation, for the workbench's filter,
    largest first: {"id", "status", "size", "excerpt"} — the excerpt is the beginning of its
    representative comment (else of its first member), so that staff know the group by what
    it says rather than by its number."""
    rows = db.session.execute(
        db.select(CommentGroup.id, CommentGroup.status, CommentGroup.representative_comment_id,
                  db.func.min(Comment.id), db.func.count(Comment.id))
        .join(Comment, Comment.group_id == CommentGroup.id)
        .where(CommentGroup.consultation_id == consultation.id)
        .group_by(CommentGroup.id, CommentGroup.status, CommentGroup.representative_comment_id)
        .order_by(db.func.count(Comment.id).desc(), CommentGroup.id)
    ).all()
    shown = {row.id: row.representative_comment_id or row[3] for row in rows}
    heads: dict[int, str] = {}
    ids = sorted(set(shown.values()))
    for start in range(0, len(ids), CHUNK):
        heads.update(db.session.execute(
            db.select(Comment.id, db.func.substr(Comment.body, 1, GROUP_EXCERPT * 4))
            .where(Comment.id.in_(ids[start:start + CHUNK]))).all())
    out = []
    for row in rows:
        text = " ".join((heads.get(shown[row.id]) or "").split())
        excerpt = text[:GROUP_EXCERPT] + ("…" if len(text) > GROUP_EXCERPT else "")
        out.append({"id": row.id, "status": row.status, "size": int(row[4]),
                    "excerpt": excerpt})
    return out


def answer_rows(consultation: Consultation, rows: Sequence[tuple[int, str, str | None]], *,
                actor: User) -> int:
    """Answers given on one page of the table: (comment id, code, reason) each. All or
    nothing: a row without a disposition, or without a reason where one is needed, fails the
    page with the row's field named (`code-<id>`, `reason-<id>`)."""
    check_editable(consultation)
    if not rows:
        return 0
    comments = {c.id: c for c in load_comments(consultation, [cid for cid, _c, _r in rows])}
    fields: dict[str, str] = {}
    answers = []
    for comment_id, code, reason in rows:
        comment = comments[comment_id]
        if code not in {c.value for c in DispositionCode}:
            fields[f"code-{comment_id}"] = _("请选择采纳情况。")
            continue
        reason = (reason or "").replace("\x00", "").strip() or None
        if reason and len(reason) > REASON_MAX:
            fields[f"reason-{comment_id}"] = _("理由不能超过 %(n)d 个字。", n=REASON_MAX)
            continue
        if code != DispositionCode.ADOPTED and not reason:
            fields[f"reason-{comment_id}"] = _("除“采纳”外，答复须说明理由。")
            continue
        if not comment.needs_answer:
            fields[f"code-{comment_id}"] = _("该意见未公开（未验证、待审核或不予公开），无需答复。")
            continue
        if in_confirmed_group(comment):
            fields[f"code-{comment_id}"] = _("该意见属于已确认的相同意见组，请答复整组。")
            continue
        answers.append((comment, DispositionCode(code), reason))
    if fields:
        raise ValidationFailed(_("有 %(n)d 条答复未能保存，请按提示修改后再保存本页。",
                                 n=len(fields)), code="rows_invalid", fields=fields)
    return write_answer_list(answers, actor=actor, detail={"table": True})


def template_keys(templates: list[ReasonTemplate]) -> list[tuple[str, ReasonTemplate]]:
    """Letters for the keyboard shortcuts of the reason templates (a, b, c …; j, k, r, s and
    ? are taken by the workbench's own keys)."""
    letters = [ch for ch in "abcdefghilmnopqtuvwxyz"]
    return list(zip(letters, templates, strict=False))
