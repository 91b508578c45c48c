"""Receiving comments: content rules, status from the consultation's settings, receipt."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.datastructures import FileStorage

from consult import audit, clock, database, mail, signals, uploads
from consult.auth.models import User
from consult.comments import counts, idempotency, screening, targets
from consult.comments.counts import counts_by_article, counts_by_status
from consult.comments.masking import mask
from consult.comments.models import (
    QUEUED_FROM_INSERTED,
    Category,
    Channel,
    Comment,
    CommentStatus,
)
from consult.comments.targets import MAX_ARTICLE_NUMBER, CommentTarget
from consult.comments.tracking import new_tracking_no, normalize
from consult.consultations.models import (
    Article,
    Consultation,
    Moderation,
    State,
    Verification,
)
from consult.consultations.policy import is_public
from consult.errors import (
    AccountRequired,
    Conflict,
    ConsultError,
    NotFound,
    ValidationFailed,
    WindowClosed,
)
from consult.extensions import db
from consult.labels import label
from consult.tokens import LinkExpired, LinkInvalid, make_token, read_token
from consult.urls import external_url

# The audit actions this domain records, as the audit trail on staff pages names them.
audit.register_actions({
    "approve_comment": _l("意见审核通过"),
    "hide_comment": _l("意见不予公开"),
    "unhide_comment": _l("意见恢复公开"),
    "record_comment": _l("登记意见"),
})

VERIFY_SALT = "comment-verify"
ATTACHMENT_KINDS = {"pdf", "docx"}


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


def _version_id(consultation: Consultation | CommentTarget) -> int | None:
    if isinstance(consultation, CommentTarget):
        return consultation.version_id
    version = consultation.current_version
    return version.id if version is not None else None


def find_article(consultation: Consultation | CommentTarget, number: int | None) -> int | None:
    """The id of article `number` of the current version; None for the whole draft."""
    if number is None:
        return None
    article_id = None
    if isinstance(consultation, CommentTarget) and consultation.article_number == number:
        article_id = consultation.article_id  # read with the consultation
    elif 0 <= number <= MAX_ARTICLE_NUMBER:
        version = consultation.current_version if isinstance(consultation, Consultation) \
            else None
        if version is not None and "articles" not in inspect(version).unloaded:
            # loaded already (the form's choices)
            article_id = next((a.id for a in version.articles if a.number == number), None)
        else:  # its id only: not the article's text, nor an ORM object
            article_id = db.session.scalar(db.select(Article.id).where(
                Article.version_id == _version_id(consultation), Article.number == number))
    if article_id is not None:
        return article_id
    raise ValidationFailed(
        _("第 %(number)s 条不存在。", number=number), code="unknown_article",
        fields={"article": _("所选条款不存在。")},
    )


def initial_status(consultation: Consultation | CommentTarget, *, verified: bool = False,
                   must_verify: bool = False,
                   sensitive: list[str] | None = None) -> CommentStatus:
    """Unverified until the author proves the address (F8), then moderated or published. A
    comment with sensitive words (`sensitive`: their categories, from `screen`) waits for a
    moderator even under post-moderation."""
    if (must_verify or consultation.verification != Verification.NONE) and not verified:
        return CommentStatus.UNVERIFIED
    if consultation.moderation == Moderation.PRE or sensitive:
        return CommentStatus.PENDING_MODERATION
    return CommentStatus.PUBLISHED


def screen(body: str, data: CommentInput) -> list[str] | None:
    """The categories of sensitive words in what would be published (text, name, region)."""
    return screening.categories(body, data.display_name, data.region) or None


def submit_comment(consultation: Consultation | CommentTarget, data: CommentInput, *,
                   idempotency_key: str | None = None, client: str | None = None, citizen=None,
                   attachment: FileStorage | None = None,
                   must_verify: bool = False,
                   language: str | None = None) -> tuple[Comment, bool]:
    """Save a citizen's comment while the window is open; return (comment, created).

    `consultation`: the Consultation, or what the rules read of it (`comment_target`, one query).
    A retry by the same `client` with the same idempotency key returns the first comment
    instead of a second one (consult/comments/idempotency.py); the same key with another body
    is a 422. `citizen` is the signed-in citizen account, if any; `attachment` one PDF/DOCX.
    `must_verify`: the client's address sent more than its share (consult/ratelimit.py), so the
    comment counts only once its author confirms their e-mail address, whatever the
    consultation's own verification setting. `language` is the page's: the author's mail is
    written in it (a signed-in citizen's own saved language first).

    A target this process kept (`targets.comment_target`) is checked by the INSERT; when the
    database no longer agrees with it — or it led to a refusal — the rules run again on a
    fresh read (a stale copy never decides).
    """
    arguments = dict(idempotency_key=idempotency_key, client=client, citizen=citizen,
                     attachment=attachment, must_verify=must_verify, language=language)
    try:
        return _submit(consultation, data, **arguments)
    except _Stale:  # raised for a kept target only
        fresh = targets.stale(consultation)
    if fresh is None or not is_public(fresh):
        raise NotFound(_("找不到该意见征集。"))
    return _submit(fresh, data, **arguments)


class _Stale(Exception):
    """A kept target that the database no longer agrees with (or that refused): read again."""


def _submit(consultation: Consultation | CommentTarget, data: CommentInput, *,
            idempotency_key: str | None, client: str | None, citizen,
            attachment: FileStorage | None, must_verify: bool,
            language: str | None) -> tuple[Comment, bool]:
    kept = getattr(consultation, "kept", False)
    key = request_print = None
    if idempotency_key:
        key = idempotency.scoped(client, consultation.id, idempotency_key)
        request_print = idempotency.fingerprint(data)
    # A retry is found by its key when the INSERT below collides with the first comment's
    # (one query fewer for every first submission), or here, when something has changed since
    # the first one went in (the window closed, the address went over its limit): a retry is
    # answered with the comment it made, whatever else would be said now.
    try:
        if consultation.status != State.OPEN:
            raise WindowClosed(_("该意见征集不在征求意见期限内，不能提交意见。"))
        body, article_id = _checked_content(consultation, data)
        verified = _check_verification(consultation, data, citizen, must_verify=must_verify)
        if attachment is not None:
            _check_attachment(attachment)
    except ConsultError as error:
        existing = idempotency.lookup(key) if key else None
        if existing is not None:
            return idempotency.replay(existing, request_print), False
        if kept:
            raise _Stale() from error
        raise
    now = clock.now()
    sensitive = screen(body, data)
    values = _comment_values(
        consultation, data, body, article_id, channel=data.channel,
        status=initial_status(consultation, verified=verified, must_verify=must_verify,
                              sensitive=sensitive),
        sensitive_categories=sensitive,
        idempotency_key=key,
        idempotency_fingerprint=request_print,
        created_at=now,
        received_at=now,
        verified_at=now if verified else None,
        citizen_id=getattr(citizen, "id", None),
        language=getattr(citizen, "language", None) or language,
    )
    # Its own transaction, shared with other requests' comments, when it is all this request
    # writes: no file, no mail, nothing written or read before it (on SQLite: no write turn).
    alone = attachment is None and not values["email"] and not database.session_has_work(
        db.session())
    comment = _insert(values, consultation, alone=alone)
    if comment is None:
        # A retry: the first comment with this key is there (or a concurrent retry has just
        # made it, and the INSERT waited for its commit): answer with it. Else the kept target
        # is out of date (its guard did not hold).
        existing = idempotency.lookup(key) if key else None
        if existing is not None:
            return idempotency.replay(existing, request_print), False
        if kept:
            raise _Stale()
        # comments are never deleted (SPEC F9)
        raise RuntimeError("a comment's idempotency key collided with a comment not found")
    if attachment is not None:
        uploads.store(attachment, owner=comment, allowed=ATTACHMENT_KINDS, public=False)
    if comment.email:
        _queue_receipt(comment)
    return comment, True


def _insert(values: dict, consultation: Consultation | CommentTarget, *,
            alone: bool = False) -> Comment | None:
    """Write a new citizen's comment (its column `values`) by one INSERT, without the ORM's
    unit of work (a third of a POST's work; bench/README.md, comment submission); None when a
    comment with its idempotency key is there already — a retry, found without a SAVEPOINT —
    or, for a kept target, when the database no longer holds what it says
    (`targets.guard_sql`).

    What a flush would do besides is done here, in the same transaction: its kept counts and,
    published, its entry among the comments waiting for their search index rows
    (`UnindexedComment`), both by the INSERT's own statement (on PostgreSQL
    `counts.counted_insert`, on SQLite triggers), and the signal `comment_submitted` for the
    read models (the pages that show it; the indexer woken after the commit). The comment is
    then made as if it had been loaded from its row (no attribute events for its thirty
    columns) and sits in the session: its consultation, version and article come from the
    identity map.
    """
    for column in _INSERTED:
        if column.key not in values:
            if column.default is not None or column.server_default is not None:
                raise ValueError(f"Comment.{column.key} has a default: give it (a flush would)")
            values[column.key] = None
    parameters = {column.key: values[column.key] for column in _INSERTED}
    guard = None
    if getattr(consultation, "kept", False):
        guard = "article" if values["article_id"] is not None \
            and values["article_id"] == consultation.article_id else "consultation"
        parameters.update(targets.guard_values(consultation))
    bind = db.session.get_bind()
    dialect = bind.dialect
    # All this request writes: committed with the comments of other requests that arrive
    # meanwhile, before the view's own commit, which then finds nothing to write.
    group = database.write_group(bind) if alone else None
    if counts.counted_by_insert(dialect):
        parameters.update(counts.shards(grouped=group is not None))
    # The statement's parameters made ready before its transaction begins: on SQLite that is
    # when the write lock is taken, and every writer of the host waits while it is held.
    insert = _prepared_insert(dialect, guard)
    ready = insert.parameters(parameters)
    if group is not None:
        comment_id = group.write(insert.sql, ready)
    else:
        comment_id = db.session.connection().exec_driver_sql(insert.sql, ready).scalar()
    if comment_id is None:
        return None
    comment = _MANAGER.new_instance()
    inspect(comment).dict.update(values, id=comment_id)
    make_transient_to_detached(comment)
    db.session.add(comment)
    signals.send_required(signals.comment_submitted, comment, session=db.session,
                          consultation=consultation)
    return comment


_INSERTED = [column for column in Comment.__table__.columns if column.key != "id"]
_MANAGER = inspect(Comment).class_manager


@functools.cache
def _insert_statement(dialect, guard: str | None = None):
    """`INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id` (SQLite 3.35+; on
    PostgreSQL counting and queuing the comment as well: `counts.counted_insert`), with each
    column's type
    for its parameter. As text: SQLAlchemy
    compiles its own ON CONFLICT constructs again on every execution.

    `guard` ("consultation", or "article" when the comment is on the article the target
    named): the values are SELECTed where `targets.guard_sql` holds — on PostgreSQL each cast
    to its column's type, which a SELECT list does not infer from the INSERT's columns."""
    quote = dialect.identifier_preparer.quote
    table = Comment.__table__
    binds = [bindparam(c.key, type_=c.type) for c in _INSERTED]
    if guard is None:
        source = f"VALUES ({', '.join(':' + c.key for c in _INSERTED)})"
    else:
        if dialect.name == "postgresql":
            types = dialect.type_compiler_instance
            values = [f"CAST(:{c.key} AS {types.process(c.type)})" for c in _INSERTED]
        else:
            values = [f":{c.key}" for c in _INSERTED]
        with_article = guard == "article"
        source = (f"SELECT {', '.join(values)} "
                  f"WHERE {targets.guard_sql(dialect, with_article=with_article)}")
        binds += targets.guard_binds(with_article=with_article)
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in _INSERTED)}) "
           f"{source} ON CONFLICT ({quote(table.c.idempotency_key.name)}) DO NOTHING")
    if counts.counted_by_insert(dialect):
        sql = counts.counted_insert(sql, QUEUED_FROM_INSERTED)
    else:
        sql += f" RETURNING {quote(table.c.id.name)}"
    return text(sql).bindparams(*binds).columns(table.c.id)


@functools.cache
def _prepared_insert(dialect, guard: str | None = None) -> database.Prepared:
    return database.prepare(_insert_statement(dialect, guard), dialect)


def _check_verification(consultation: Consultation | CommentTarget, data: CommentInput, citizen, *,
                        must_verify: bool = False) -> bool:
    """Refuse what the consultation's verification setting forbids; True when already verified.

    email (or `must_verify`): an address is required, and a signed-in citizen using their own
    verified address needs no link. account: a signed-in citizen account is required (401
    otherwise).
    """
    if consultation.verification == Verification.ACCOUNT:
        if citizen is None:
            raise AccountRequired(_("本次意见征集需要登录公众账号后才能提出意见。"))
        return True
    if must_verify and consultation.verification == Verification.NONE:
        if not _clean(data.email):
            message = _("从您所在网络提交的意见较多。为防止滥用，请填写电子邮箱，"
                        "并通过我们发送的邮件确认这条意见；确认后意见即公开并获得答复。")
            raise ValidationFailed(message, code="verification_required",
                                   fields={"email": message})
        return citizen is not None and (citizen.email or "") == _clean(data.email).lower()
    if consultation.verification == Verification.EMAIL:
        if not _clean(data.email):
            message = _("本次意见征集需要验证电子邮箱，请填写电子邮箱。")
            raise ValidationFailed(message, code="email_required", fields={"email": message})
        return citizen is not None and (citizen.email or "") == _clean(data.email).lower()
    return False


def _check_attachment(attachment: FileStorage) -> None:
    """Refuse a wrong or oversize file before anything is written (422, 413)."""
    try:
        uploads.read_checked(attachment, ATTACHMENT_KINDS)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, code=error.code,
                               fields={"attachment": error.message}) from error
    attachment.stream.seek(0)


def _checked_content(consultation: Consultation | CommentTarget,
                     data: CommentInput) -> tuple[str, int | None]:
    """The trimmed body and the id of the article commented on: the rules every channel
    shares."""
    body = (data.body or "").strip()
    if not body:
        raise ValidationFailed(_("请填写意见内容。"), fields={"body": _("请填写意见内容。")})
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if len(body) > limit:
        message = _("意见内容不能超过 %(limit)d 字。", limit=limit)
        raise ValidationFailed(message, code="too_long", fields={"body": message})
    return body, find_article(consultation, data.article_number)


def accepts_recorded(consultation: Consultation) -> bool:
    """Whether comments from other channels are taken: opened, not withdrawn, report not out."""
    return consultation.status in (State.OPEN, State.CLOSED, State.POLICY_ISSUED) and (
        not consultation.report_published
    )


def record_comment(consultation: Consultation, data: CommentInput, channel: Channel,
                   received_on: date, *, actor: User, hearing=None, scan=None,
                   idempotency_key: str | None = None) -> Comment:
    """Register a comment received by letter, e-mail, hearing or symposium (F11b).

    It gets a tracking number and is handled like a web comment from then on. It is accepted
    after the window has closed when it was received (postmarked) within the window, until the
    report is published. `scan` is the scanned letter (PDF), kept for staff only.
    """
    channel = Channel(channel)
    if channel == Channel.WEB:
        message = _("网站提交的意见无需登记，请选择收到意见的渠道。")
        raise ValidationFailed(message, code="channel", fields={"channel": message})
    key = request_print = None
    if idempotency_key:  # a double click on the register: the staff member is the client
        key = idempotency.scoped(f"staff:{getattr(actor, 'id', '')}", consultation.id,
                                 idempotency_key)
        request_print = idempotency.fingerprint(data)
        existing = idempotency.lookup(key)
        if existing is not None:
            return idempotency.replay(existing, request_print)
    if consultation.report_published:
        raise Conflict(_("采纳情况报告已发布，不能再登记意见。"), code="report_published")
    if consultation.status not in (State.OPEN, State.CLOSED, State.POLICY_ISSUED):
        raise WindowClosed(_("该意见征集尚未开始或已撤回，不能登记意见。"))
    _check_received_on(consultation, received_on)
    if hearing is not None:
        if hearing.consultation_id != consultation.id:
            message = _("所选听证会/座谈会不属于本意见征集。")
            raise ValidationFailed(message, code="hearing", fields={"hearing": message})
        channel = Channel(hearing.kind.value)
    body, article_id = _checked_content(consultation, data)
    sensitive = screen(body, data)
    comment = _new_comment(
        consultation, data, body, article_id, channel=channel,
        # The unit received it itself: no e-mail verification, but moderation as configured.
        status=initial_status(consultation, verified=True, sensitive=sensitive),
        sensitive_categories=sensitive,
        idempotency_key=key,
        created_at=clock.now(),
        received_at=clock.start_of_day(received_on),
        recorded_by_id=getattr(actor, "id", None),
        hearing=hearing,
        idempotency_fingerprint=request_print,
    )
    db.session.add(comment)
    audit.record(actor, "record_comment", comment, unit_id=consultation.unit_id,
                 detail={"channel": channel.value, "received_on": received_on.isoformat()})
    if scan is not None and getattr(scan, "filename", None):
        uploads.store(scan, owner=comment, allowed={"pdf"}, actor=actor, public=False)
    if comment.email:
        _queue_receipt(comment)
    return comment


def _check_received_on(consultation: Consultation, received_on: date | None) -> None:
    """Received (or postmarked) today or earlier, and within the comment window."""
    if received_on is None:
        message = _("请填写收到日期。")
        raise ValidationFailed(message, code="received_on", fields={"received_on": message})
    if received_on > clock.today():
        message = _("收到日期不能晚于今天。")
        raise ValidationFailed(message, code="received_on", fields={"received_on": message})
    opens_on = clock.local_date(consultation.opens_at)
    closes_on = clock.local_date(consultation.closes_at)
    if not opens_on <= received_on <= closes_on:
        message = _("收到日期（信函以邮戳日期为准）须在征求意见期限内（%(start)s 至 %(end)s）。",
                    start=opens_on.isoformat(), end=closes_on.isoformat())
        raise ValidationFailed(message, code="received_on", fields={"received_on": message})


def _new_comment(consultation: Consultation | CommentTarget, data: CommentInput, body: str,
                 article_id: int | None, *,
                 channel: Channel, **fields) -> Comment:
    """A comment on the current version with the submitter's fields cleaned, from any channel.

    It names its consultation, version and article by id: the flush is then a plain INSERT (a
    third of the work of cascading three relationships; bench/README.md, comment POST). Once
    flushed, `comment.consultation` etc. come from the session's identity map, without a query.
    """
    return Comment(**_comment_values(consultation, data, body, article_id, channel=channel,
                                     **fields))


def _comment_values(consultation: Consultation | CommentTarget, data: CommentInput, body: str,
                    article_id: int | None, *, channel: Channel, **fields) -> dict:
    """The column values of a new comment (`_new_comment`'s, or a citizen's `_insert`)."""
    return dict(
        tracking_no=new_tracking_no(),
        consultation_id=consultation.id,
        version_id=_version_id(consultation),
        article_id=article_id,
        body=body,
        category=data.category,
        channel=channel,
        region=_clean(data.region),
        display_name=_clean(data.display_name),
        publish_name=bool(data.publish_name and _clean(data.display_name)),
        email=_clean(data.email),
        phone=_clean(data.phone),
        notify=data.notify,
        **fields,
    )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _queue_receipt(comment: Comment) -> None:
    verify_link = None
    if comment.status == CommentStatus.UNVERIFIED:
        verify_link = external_url("comments.verify", token=verification_token(comment))
    mail.queue_mail("receipt", comment.email, language=comment.language, comment=comment,
                    link=external_url("comments.receipt", tracking_no=comment.tracking_no),
                    verify_link=verify_link, days=current_app.config["VERIFY_MAX_AGE_DAYS"])


def get_by_tracking_no(value: str) -> Comment:
    tracking_no = normalize(value)
    comment = None
    if tracking_no:
        comment = db.session.scalar(db.select(Comment).where(Comment.tracking_no == tracking_no))
    if comment is None:
        raise NotFound(_("没有找到该意见编号，请核对后重新输入。"))
    return comment


def public_text(comment: Comment) -> str | None:
    """What the public may read of a comment: its masked text once published; nothing while it
    is unverified (the author may be an impostor: issue 9 finding 2), awaiting moderation (the
    receipt's link must not publish what a moderator has not seen) or hidden."""
    if comment.status != CommentStatus.PUBLISHED:
        return None
    return mask(comment.body)


def status_note(comment: Comment) -> str:
    """What the comment's state means for its author, in a sentence (receipt page and API).

    Names and regions are masked by `Comment.public_name` / `public_region` (free text, F10).
    """
    if comment.status == CommentStatus.UNVERIFIED:
        return _("请点击确认邮件中的链接验证您的意见。"
                 "验证前，意见不会公开，也不需答复，但计入统计。")
    if comment.status == CommentStatus.PENDING_MODERATION:
        return _("您的意见已收到，正在审核，审核通过后公开。")
    if comment.status == CommentStatus.PUBLISHED:
        return _("您的意见已公开（其中的个人信息已隐去）。")
    if comment.status == CommentStatus.HIDDEN:
        reason = label(comment.hidden_reason or "other", "hidden_reason")
        return _("您的意见不予公开，原因：%(reason)s。该意见仍计入意见采纳情况的统计。",
                 reason=reason)
    return _("您的意见已收到，正在登记处理。")


def public_comments_query(consultation: Consultation):
    """Published comments of a consultation, oldest first."""
    return (
        db.select(Comment)
        .where(Comment.consultation_id == consultation.id,
               Comment.status == CommentStatus.PUBLISHED)
        .order_by(Comment.created_at, Comment.id)
    )


def received_counts(consultations) -> dict[int, int]:
    """Comments received per consultation, whatever their status (kept counts: one small
    query for a whole list page)."""
    return {consultation_id: sum(by_status.values()) for consultation_id, by_status
            in counts_by_status(c.id for c in consultations).items()}


def article_counts(consultation: Consultation, version_id: int | None) -> dict[int | None, int]:
    """Comments received per article of one version (None: on the whole draft), for the
    contents list of the public page, from the kept counts (no slower at 1 000 000 comments)."""
    return counts_by_article(consultation.id, version_id)


def received_count(consultation: Consultation) -> int:
    return received_counts([consultation])[consultation.id]


def comment_counts(consultation: Consultation) -> tuple[int, int]:
    """(received, published): all its comments, and those the public can read (the length of
    `public_comments_query`), from the kept counts."""
    by_status = counts_by_status([consultation.id])[consultation.id]
    return sum(by_status.values()), by_status.get(CommentStatus.PUBLISHED, 0)


# ------------------------------------------------------------------ email verification (F8)


def verification_token(comment: Comment) -> str:
    """The signed, expiring token of the link in the receipt mail."""
    return make_token(VERIFY_SALT, {"c": comment.id, "t": comment.tracking_no})


def comment_for_verification(token: str) -> Comment:
    """The comment a verification link names (LinkInvalid 400 / LinkExpired 410 otherwise)."""
    payload = read_token(VERIFY_SALT, token)
    comment = None
    if isinstance(payload, dict) and isinstance(payload.get("c"), int):
        comment = db.session.get(Comment, payload["c"])
    if comment is None or comment.tracking_no != payload.get("t"):
        raise LinkInvalid(_("该链接无效，请检查是否完整复制了邮件中的链接。"))
    return comment


def verify_comment(token: str) -> tuple[Comment, bool]:
    """Follow a verification link: the comment counts from now on. Returns (comment, changed).

    An unverified comment becomes published, or awaits moderation when the consultation is
    pre-moderated. Once the report is out its totals are frozen, so a late link is refused.
    """
    comment = comment_for_verification(token)
    if comment.verified_at is not None or comment.status != CommentStatus.UNVERIFIED:
        return comment, False
    if comment.consultation.status not in (State.OPEN, State.CLOSED):
        raise LinkExpired(_("意见采纳情况已经公布，不能再验证意见；该意见已计为未验证意见。"))
    comment.verified_at = clock.now()
    comment.status = initial_status(comment.consultation, verified=True,
                                    sensitive=comment.sensitive_categories)
    db.session.flush()
    return comment, True


# ------------------------------------------------------------------ news for commenters


@signals.extension_recipients.connect
def commenters_who_asked(consultation: Consultation) -> dict[str, str | None]:
    """Address → language of the commenters on `consultation` who left an address and asked
    for news (notify), for its extension notices; unverified comments are left out."""
    found: dict[str, str | None] = {}
    for email, language in db.session.execute(
        db.select(Comment.email, Comment.language).where(
            Comment.consultation_id == consultation.id, Comment.notify.is_(True),
            Comment.email.is_not(None), Comment.status != CommentStatus.UNVERIFIED,
        ).order_by(Comment.id)
    ):
        if email and email.strip():
            found[email.strip().lower()] = language  # the latest comment's language
    return found
