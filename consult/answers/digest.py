"""The staff daily digest of new comments (F15): `flask --app app digest send`, run once a day
(cron, or a scheduled job in the worker).

Every active staff member who may answer comments gets one mail through the outbox, listing per
consultation of their units how many comments arrived since their previous digest, with a link
to the answering queue. A run is recorded per person and local day (`DigestRun`), so running
the command twice on one day sends nothing the second time, and the next day's digest starts
exactly where the last one ended: no comment is counted twice or skipped. Nobody gets a mail
about nothing; the run is still recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from consult import clock, mail
from consult.answers.models import DigestRun
from consult.auth.models import Membership, User
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.extensions import db
from consult.permissions import ROLE_PERMISSIONS, Perm, unit_ids_with
from consult.urls import external_url

FIRST_DIGEST_HOURS = 24  # someone's first digest covers the last day


@dataclass
class DigestResult:
    sent: int = 0  # mails queued
    nothing_new: int = 0  # staff with no new comments (run recorded, no mail)
    already_sent: int = 0  # staff who had today's digest already
    recipients: list[str] = field(default_factory=list)


def _staff() -> list[User]:
    """Active users holding a role that answers comments, in some unit."""
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Perm.ANSWER in perms]
    return db.session.scalars(
        db.select(User)
        .where(User.active.is_(True),
               User.id.in_(db.select(Membership.user_id).where(Membership.role.in_(roles))))
        .order_by(User.id)
    ).all()


def new_comments(user: User, since, until) -> list[tuple]:
    """(consultation, new comments, of which awaiting moderation) for the user's units."""
    unit_ids = unit_ids_with(user, Perm.ANSWER)
    if not unit_ids:
        return []
    pending = db.func.sum(db.case(
        (Comment.status.in_([CommentStatus.PENDING_MODERATION, CommentStatus.SUBMITTED]), 1),
        else_=0))
    rows = db.session.execute(
        db.select(Comment.consultation_id, db.func.count(Comment.id), pending)
        .join(Consultation, Consultation.id == Comment.consultation_id)
        .where(Consultation.unit_id.in_(sorted(unit_ids)), Comment.created_at > since,
               Comment.created_at <= until)
        .group_by(Comment.consultation_id)
        .order_by(Comment.consultation_id)
    ).all()
    return [(db.session.get(Consultation, cid), count, int(waiting or 0))
            for cid, count, waiting in rows]


def _mail(user: User, lines: list[tuple], since, until, total: int) -> None:
    """Queue the digest, in the user's language."""
    mail.queue_mail(
        "staff_digest", user.email, language=user.language, user=user, total=total,
        since=clock.local(since).strftime("%Y-%m-%d %H:%M"),
        until=clock.local(until).strftime("%Y-%m-%d %H:%M"),
        lines=[{"consultation": consultation, "count": count, "waiting": waiting,
                "link": external_url("answers.manage_queue", consultation_id=consultation.id)}
               for consultation, count, waiting in lines],
    )


def send_digests() -> DigestResult:
    """Queue today's digest for every staff member who has not had it yet (flushes; the
    caller commits). Each person is a savepoint, so two runs at once cannot double a mail."""
    now, today = clock.now(), clock.today()
    result = DigestResult()
    for user in _staff():
        if db.session.scalar(db.select(DigestRun.id).where(
                DigestRun.user_id == user.id, DigestRun.day == today)):
            result.already_sent += 1
            continue
        last = db.session.scalar(
            db.select(DigestRun.until).where(DigestRun.user_id == user.id)
            .order_by(DigestRun.until.desc()).limit(1))
        since = last or now - timedelta(hours=FIRST_DIGEST_HOURS)
        lines = new_comments(user, since, now)
        total = sum(count for _c, count, _w in lines)
        try:
            with db.session.begin_nested():
                db.session.add(DigestRun(user_id=user.id, day=today, since=since, until=now,
                                         comments=total, created_at=now))
                db.session.flush()
                if total:
                    _mail(user, lines, since, now, total)
        except IntegrityError:  # another run got there first
            result.already_sent += 1
            continue
        if total:
            result.sent += 1
            result.recipients.append(user.email)
        else:
            result.nothing_new += 1
    return result
