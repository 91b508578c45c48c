"""Personal data of commenters: erasure on request and after the retention period (SPEC §6).

What erasure means here (PIPL Art 44–50), decided once:
- contact data (email, phone) and the display name are removed, and consent to publish the name
  is withdrawn, on the comment and in every published revision of the report;
- a comment that was published stays as public record (its masked text, anonymous), because the
  unit's answer to it is part of the public report;
- a comment that was never published (unverified, awaiting moderation, hidden) loses its text as
  well: it is replaced by ERASED_TEXT, and the same is done to its text in published reports;
- its attachments are removed; the files go with the next `privacy purge`;
- counts never change: the comment stays in the totals with its category, channel and region.

The retention job erases contact data (email, phone) only: CONTACT_RETENTION_DAYS after the first
publication of the report, or after the close (or withdrawal) when there is no report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, update

from consult import audit, clock, mail, settings, signals, storage
from consult.comments.models import Comment, CommentStatus
from consult.comments.services import get_by_tracking_no
from consult.consultations.models import Consultation
from consult.errors import NotFound
from consult.extensions import db
from consult.mail import OutboxMessage
from consult.tokens import LinkInvalid, make_token, read_token
from consult.uploads import Attachment
from consult.urls import external_url

# Stored in place of an unpublished comment's text once its author had it erased.
ERASED_TEXT = "［已应本人要求删除］"
ERASE_SALT = "comment-erase"
ORPHAN_FILE_GRACE_SECONDS = 3600  # an upload being saved right now has no row yet
SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")


def erase_comments(comments: list[Comment], *, reason: str) -> int:
    """Erase the personal data of `comments` (see the module's rules); return how many."""
    if not comments:
        return 0
    emails = {c.email.lower() for c in comments if c.email}
    for comment in comments:
        comment.email = None
        comment.phone = None
        comment.display_name = None
        comment.publish_name = False
        comment.notify = False
        if comment.status != CommentStatus.PUBLISHED:
            comment.body = ERASED_TEXT
        for attachment in db.session.scalars(
            db.select(Attachment).where(Attachment.owner_type == Comment.__tablename__,
                                        Attachment.owner_id == comment.id)
        ):
            db.session.delete(attachment)
    db.session.flush()
    # The answers domain takes the erased data out of the published reports.
    signals.send_required(signals.comments_erased, None, comments=comments, reason=reason)
    forget_mail_to(emails)
    return len(comments)


def forget_mail_to(emails: set[str]) -> None:
    """Unsent mail to an erased address is dropped; sent mail loses its recipient."""
    if not emails:
        return
    recipient = db.func.lower(OutboxMessage.recipient)
    for message in db.session.scalars(
        db.select(OutboxMessage).where(recipient.in_(emails))
    ):
        if message.sent_at is None:
            db.session.delete(message)
        else:
            message.recipient = ""
    db.session.flush()


# ------------------------------------------------------------------ erasure by tracking number


def request_erasure(tracking_no: str, email: str) -> bool:
    """Mail an erasure link to the comment's address when `email` is the one it carries.

    The answer to the person asking is the same either way (nobody learns whose comment it is);
    the return value is for tests and logs only.
    """
    try:
        comment = get_by_tracking_no(tracking_no)
    except NotFound:
        return False
    email = (email or "").strip().lower()
    if not comment.email or comment.email.lower() != email:
        return False
    token = make_token(ERASE_SALT, {"c": comment.id, "e": email})
    link = external_url("citizens.erase_comment", token=token)
    mail.queue_mail("erase_request", comment.email, language=comment.language, comment=comment,
                    link=link, days=current_app.config["VERIFY_MAX_AGE_DAYS"])
    return True


def comment_for_erasure(token: str) -> Comment | None:
    """The comment an erasure link names; None when its data is already gone."""
    payload = read_token(ERASE_SALT, token)
    comment = db.session.get(Comment, int(payload.get("c", 0))) if isinstance(payload, dict) \
        else None
    if comment is None:
        raise LinkInvalid(_("该链接无效，请检查是否完整复制了邮件中的链接。"))
    if not comment.email or comment.email.lower() != payload.get("e"):
        return None
    return comment


def erase_comment_by_token(token: str) -> Comment | None:
    """Erase one comment's personal data from a mailed link; None when it was done already."""
    comment = comment_for_erasure(token)
    if comment is None:
        return None
    erase_comments([comment], reason=_("应本人要求删除个人信息"))
    audit.record(None, "erase_personal_data", comment, unit_id=comment.consultation.unit_id,
                 detail={"via": "tracking_no"})
    return comment


# ------------------------------------------------------------------ retention


@dataclass
class PurgeLine:
    consultation: Consultation
    due_at: datetime
    comments: int


def retention_start(consultation: Consultation) -> datetime | None:
    """When the retention period starts: the report's first publication, else the close."""
    if consultation.report_published_at is not None:
        return consultation.report_published_at
    end = consultation.closes_at
    if consultation.withdrawn_at is not None and consultation.withdrawn_at < end:
        end = consultation.withdrawn_at
    return end if end <= clock.now() else None


def _has_contact():
    return or_(Comment.email.is_not(None), Comment.phone.is_not(None))


def purge_contact_data(*, dry_run: bool = False) -> list[PurgeLine]:
    """Erase email and phone of comments whose retention time is up, one audit row per
    consultation; with `dry_run`, only count. Returns what was (or would be) done."""
    days = int(settings.value("CONTACT_RETENTION_DAYS"))
    now = clock.now()
    consultation_ids = db.session.scalars(
        db.select(Comment.consultation_id).where(_has_contact()).distinct()
    ).all()
    lines = []
    for consultation in db.session.scalars(
        db.select(Consultation).where(Consultation.id.in_(consultation_ids))
        .order_by(Consultation.id)
    ):
        start = retention_start(consultation)
        if start is None or start + timedelta(days=days) > now:
            continue
        where = (Comment.consultation_id == consultation.id, _has_contact())
        count = db.session.scalar(db.select(db.func.count(Comment.id)).where(*where))
        lines.append(PurgeLine(consultation, start + timedelta(days=days), count))
        if dry_run:
            continue
        db.session.execute(
            update(Comment).where(*where).values(email=None, phone=None)
            .execution_options(synchronize_session="fetch")
        )
        audit.record(None, "purge_contact_data", consultation,
                     reason=_("联系方式保存期限（%(days)d 天）已满", days=days),
                     detail={"comments": count, "retention_days": days})
    return lines


def orphan_files() -> list[storage.StoredObject]:
    """Stored upload files that no attachment refers to any more (older than a grace period).

    Works on whichever backend is configured; only names that look like an upload's SHA-256
    are considered, so other files beside them are never touched."""
    known = set(db.session.scalars(db.select(Attachment.sha256).distinct()))
    cutoff = clock.now() - timedelta(seconds=ORPHAN_FILE_GRACE_SECONDS)
    return [
        item for item in storage.current().list()
        if SHA256_NAME.match(item.name) and item.name not in known and item.modified_at < cutoff
    ]


def remove_orphan_files(orphans: list[storage.StoredObject]) -> int:
    """Delete the files `orphan_files` found, each checked again just before (an upload of the
    same bytes may have renewed it, or a row may name it by now); return how many went."""
    store = storage.current()
    cutoff = clock.now() - timedelta(seconds=ORPHAN_FILE_GRACE_SECONDS)
    removed = 0
    for item in orphans:
        now = store.stat(item.name)
        if now is None or now.modified_at >= cutoff:
            continue
        if db.session.scalar(db.select(Attachment.id).where(Attachment.sha256 == item.name)
                             .limit(1)) is not None:
            continue
        store.delete(item.name)
        removed += 1
    return removed
