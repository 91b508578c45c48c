"""Receiving comments: content rules, status from the consultation's settings, receipt."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from consult import clock, mail
from consult.comments.masking import mask
from consult.comments.models import Category, Channel, Comment, CommentStatus
from consult.comments.tracking import new_tracking_no, normalize
from consult.consultations.models import Article, Consultation, Moderation, State, Verification
from consult.errors import NotFound, ValidationFailed, WindowClosed
from consult.extensions import db
from consult.urls import external_url


@dataclass
class CommentInput:
    body: str
    category: Category
    article_number: int | None = None
    display_name: str | None = None
    publish_name: bool = False
    email: str | None = None
    phone: str | None = None
    region: str | None = None
    notify: bool = True
    channel: Channel = Channel.WEB


def find_article(consultation: Consultation, number: int | None) -> Article | None:
    """The article `number` of the current version; None for the whole draft."""
    if number is None:
        return None
    for article in consultation.current_version.articles:
        if article.number == number:
            return article
    raise ValidationFailed(
        _("第 %(number)s 条不存在。", number=number), code="unknown_article",
        fields={"article": _("所选条款不存在。")},
    )


def initial_status(consultation: Consultation) -> CommentStatus:
    if consultation.verification != Verification.NONE:
        return CommentStatus.UNVERIFIED
    if consultation.moderation == Moderation.PRE:
        return CommentStatus.PENDING_MODERATION
    return CommentStatus.PUBLISHED


def submit_comment(consultation: Consultation, data: CommentInput, *,
                   idempotency_key: str | None = None) -> tuple[Comment, bool]:
    """Save a citizen's comment while the window is open; return (comment, created).

    A retry with the same idempotency key returns the first comment instead of a second one.
    """
    if idempotency_key:
        existing = db.session.scalar(
            db.select(Comment).where(Comment.idempotency_key == idempotency_key)
        )
        if existing is not None:
            if existing.consultation_id != consultation.id:
                message = _("该幂等键已用于其他意见征集。")
                raise ValidationFailed(message, code="idempotency_conflict")
            return existing, False
    if consultation.status != State.OPEN:
        raise WindowClosed(_("该意见征集不在征求意见期限内，不能提交意见。"))
    body = (data.body or "").strip()
    if not body:
        raise ValidationFailed(_("请填写意见内容。"), fields={"body": _("请填写意见内容。")})
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if len(body) > limit:
        message = _("意见内容不能超过 %(limit)d 字。", limit=limit)
        raise ValidationFailed(message, code="too_long", fields={"body": message})
    article = find_article(consultation, data.article_number)
    now = clock.now()
    comment = Comment(
        tracking_no=new_tracking_no(),
        consultation=consultation,
        version=consultation.current_version,
        article=article,
        body=body,
        category=data.category,
        channel=data.channel,
        region=_clean(data.region),
        display_name=_clean(data.display_name),
        publish_name=bool(data.publish_name and _clean(data.display_name)),
        email=_clean(data.email),
        phone=_clean(data.phone),
        notify=data.notify,
        status=initial_status(consultation),
        idempotency_key=idempotency_key,
        created_at=now,
        received_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(comment)
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its comment.
        if idempotency_key:
            existing = db.session.scalar(
                db.select(Comment).where(Comment.idempotency_key == idempotency_key)
            )
            if existing is not None:
                return existing, False
        raise
    if comment.email:
        _queue_receipt(comment)
    return comment, True


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _queue_receipt(comment: Comment) -> None:
    link = external_url("comments.receipt", tracking_no=comment.tracking_no)
    body = _(
        "您好：\n\n您对《%(title)s》提出的意见已收到。\n意见编号：%(no)s\n"
        "您可以随时凭意见编号查询办理情况和采纳情况：\n%(link)s\n\n此邮件由系统自动发送，请勿回复。",
        title=comment.consultation.title, no=comment.tracking_no, link=link,
    )
    mail.queue("receipt", comment.email, _("意见回执：%(no)s", no=comment.tracking_no), body)


def get_by_tracking_no(value: str) -> Comment:
    tracking_no = normalize(value)
    comment = None
    if tracking_no:
        comment = db.session.scalar(db.select(Comment).where(Comment.tracking_no == tracking_no))
    if comment is None:
        raise NotFound(_("没有找到该意见编号，请核对后重新输入。"))
    return comment


def public_text(comment: Comment) -> str | None:
    """What the public may read of a comment: masked text, or nothing when hidden."""
    if comment.status == CommentStatus.HIDDEN:
        return None
    return mask(comment.body)


def public_comments_query(consultation: Consultation):
    """Published comments of a consultation, oldest first."""
    return (
        db.select(Comment)
        .where(Comment.consultation_id == consultation.id,
               Comment.status == CommentStatus.PUBLISHED)
        .order_by(Comment.created_at, Comment.id)
    )


def received_count(consultation: Consultation) -> int:
    return db.session.scalar(
        db.select(db.func.count(Comment.id)).where(Comment.consultation_id == consultation.id)
    )
