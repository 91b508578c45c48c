"""Reminders by mail (issue 14): what a unit must still do, told to its editors and approvers,
and a weekly summary to the platform office.

Causes (`CAUSES`, one `Cause` each; a domain may add one with `register`):
- `window_closed`: the window has closed and comments wait for an answer;
- `report_due`: the adoption report is due within 3 working days (statutory deadline);
- `report_overdue`: the report is past its due day (statutory);
- `interpretation_missing`: a published policy still has no interpretation on the third working
  day after it (SPEC §6, 三同步; statutory);
- `filing_late`: a published rule or normative document is not filed (备案) past its due day
  (`POLICY_FILING_DAYS` after issue; `consult.policies.standing.filing_overdue`, the list the
  unit's workspace shows). Statutory: filing within 30 days of publication is a duty of law, not
  a platform habit — for rules 立法法 (报有关机关备案, 公布后三十日内), 规章制定程序条例 Art 34 and
  法规规章备案审查条例 (国务院令第789号); for normative documents the province's rules on them
  (河南省行政规范性文件管理办法) — so, like the report's deadline, a unit cannot switch it off;
- more from other domains through `register`.

Each cause *begins* on a day. A reminder goes on the first working day the worker runs on or
after that day, then again a week after the last one while the cause lasts (`next_period`), and
never twice in one week: a `SentReminder` row per cause, object and period, unique in the
database, is written in the same transaction as the mail, so two workers racing make one.
Reminders run on working days only (weekends, public holidays out; make-up working days in) and
once a day (`REMINDER_HOUR`, the worker's schedule, `consult.jobs.schedule`). Units may switch
off the causes that are not statutory (`ReminderOptOut`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from consult import audit, clock, mail
from consult.answers.models import Disposition
from consult.auth.models import Membership, Role, Unit, User
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation, State
from consult.consultations.queries import status_clause
from consult.consultations.windows import is_working_day, report_due_on, working_day_before
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.jobs.queue import handler
from consult.oversight.stats import INTERPRETATION_WORKING_DAYS, interpretation_due_on
from consult.permissions import Perm, has_permission
from consult.policies import standing
from consult.policies.models import Interpretation, Policy
from consult.types import UTCDateTime
from consult.urls import external_url

audit.register_actions({
    "reminder_off": _l("关闭提醒"),
    "reminder_on": _l("开启提醒"),
})

DUE_SOON_WORKING_DAYS = 3
WEEK = 7


class SentReminder(db.Model):
    """A reminder that went out: at most one per cause, object and week of the cause."""

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("cause", "object_type", "object_id", "period",
                                       name="cause_object_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cause: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    period: Mapped[str] = mapped_column(String(40))  # "2026-12-07+2": began then, 3rd one
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    recipients: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ReminderOptOut(db.Model):
    """A unit that switched a (non-statutory) cause off."""

    __tablename__ = "reminder_opt_outs"
    __table_args__ = (UniqueConstraint("unit_id", "cause", name="unit_cause"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    cause: Mapped[str] = mapped_column(String(40))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


@dataclass
class Due:
    """One thing a unit must still do: the object, its unit, the day the cause began."""

    obj: object
    unit_id: int
    began_on: date
    title: str
    link: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Cause:
    name: str
    label: object  # lazy string: the reminder's subject line, and the staff page
    statutory: bool  # a statutory deadline cannot be switched off
    find: Callable[[date], list[Due]]


CAUSES: dict[str, Cause] = {}


def register(cause: Cause) -> Cause:
    """Add a cause (another domain's: a late filing, ...)."""
    CAUSES[cause.name] = cause
    return cause


# ------------------------------------------------------------------------------ the causes


def _waiting_report(now: datetime):
    """Closed consultations (or policy first) whose report is not out, with their answers to
    give."""
    return db.select(Consultation).where(
        db.or_(status_clause(State.CLOSED, now), Consultation.state == State.POLICY_ISSUED),
        Consultation.report_published_at.is_(None))


def _link(consultation: Consultation) -> str:
    return external_url("answers.manage_queue", consultation_id=consultation.id)


def _closed_with_comments(today: date) -> list[Due]:
    now = clock.now()
    unanswered = (db.select(db.func.count(Comment.id))
                  .outerjoin(Disposition, Disposition.comment_id == Comment.id)
                  .where(Comment.consultation_id == Consultation.id,
                         Comment.status == CommentStatus.PUBLISHED, Disposition.id.is_(None))
                  .scalar_subquery())
    rows = db.session.execute(_waiting_report(now).add_columns(unanswered)
                              .where(unanswered > 0)).all()
    return [Due(c, c.unit_id, clock.local_date(c.closes_at) + timedelta(days=1), c.title,
                _link(c), {"unanswered": n}) for c, n in rows]


def _report_due(today: date) -> list[Due]:
    out = []
    for c in db.session.scalars(_waiting_report(clock.now())):
        due = report_due_on(c.closes_at)
        began = working_day_before(due, DUE_SOON_WORKING_DAYS)
        if began <= today <= due:
            out.append(Due(c, c.unit_id, began, c.title, _link(c), {"due_on": due.isoformat()}))
    return out


def _report_overdue(today: date) -> list[Due]:
    out = []
    for c in db.session.scalars(_waiting_report(clock.now())):
        due = report_due_on(c.closes_at)
        if today > due:
            out.append(Due(c, c.unit_id, due + timedelta(days=1), c.title, _link(c),
                           {"due_on": due.isoformat(), "days_late": (today - due).days}))
    return out


def _interpretation_missing(today: date) -> list[Due]:
    has_one = db.select(Interpretation.id).where(Interpretation.policy_id == Policy.id,
                                                 Interpretation.published_at.is_not(None))
    out = []
    for policy in db.session.scalars(db.select(Policy).where(
            Policy.published_at.is_not(None), ~has_one.exists())):
        due = interpretation_due_on(policy.published_at)
        if today > due:
            out.append(Due(policy, policy.unit_id, due + timedelta(days=1), policy.title,
                           external_url("policies.manage_detail", policy_id=policy.id),
                           {"due_on": due.isoformat(),
                            "working_days": INTERPRETATION_WORKING_DAYS}))
    return out


def _filing_late(today: date) -> list[Due]:
    out = []
    for policy in standing.filing_overdue(None, today):
        due = standing.filing_due_on(policy)
        out.append(Due(policy, policy.unit_id, due + timedelta(days=1), policy.title,
                       external_url("policies.manage_detail", policy_id=policy.id),
                       {"due_on": due.isoformat(), "days_late": (today - due).days,
                        "document_number": policy.document_number,
                        "issued_on": policy.issued_on.isoformat()}))
    return out


register(Cause("window_closed", _l("征求意见已截止，尚有意见待答复"), False,
               _closed_with_comments))
register(Cause("report_due", _l("意见采纳情况将在 3 个工作日内到期"), True, _report_due))
register(Cause("report_overdue", _l("意见采纳情况逾期未公布"), True, _report_overdue))
register(Cause("interpretation_missing", _l("政策文件发布后 3 个工作日仍无政策解读"), True,
               _interpretation_missing))
register(Cause("filing_late", _l("规章、行政规范性文件逾期未报送备案"), True, _filing_late))


# ------------------------------------------------------------------------------ sending


def next_period(cause: str, obj, began_on: date, today: date) -> str | None:
    """The period of the reminder about `obj` due today, or None while the last one is less
    than a week old. A cause's reminders are numbered from the day it began ("2026-10-02+0",
    "+1", ...): the first goes out the first working day the worker runs on or after that day,
    each next one a week after the last (or the first working day after that) — so a cause that
    began in a holiday is told when work resumes and again a week later, never on two days
    running."""
    prefix = f"{began_on.isoformat()}+"
    rows = db.session.execute(db.select(SentReminder.period, SentReminder.sent_at).where(
        SentReminder.cause == cause, SentReminder.object_type == obj.__tablename__,
        SentReminder.object_id == obj.id, SentReminder.period.startswith(prefix))).all()
    if not rows:
        return f"{prefix}0"
    if (today - max(clock.local_date(at) for _period, at in rows)).days < WEEK:
        return None
    numbers = [int(period[len(prefix):]) for period, _at in rows
               if period[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def recipients(unit_id: int) -> list[User]:
    """The unit's active editors and approvers; none there: those of the nearest unit above
    (whose roles hold in it)."""
    unit = db.session.get(Unit, unit_id)
    for candidate in (unit.ancestors_and_self() if unit else []):
        users = db.session.scalars(
            db.select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.unit_id == candidate.id, User.active.is_(True),
                   Membership.role.in_([Role.EDITOR, Role.APPROVER]))
            .distinct().order_by(User.id)).all()
        if users:
            return list(users)
    return []


def switched_off(unit_id: int, cause: str) -> bool:
    return db.session.scalar(db.select(ReminderOptOut.id).where(
        ReminderOptOut.unit_id == unit_id, ReminderOptOut.cause == cause)) is not None


def _claim(cause: str, obj, period: str, unit_id: int | None) -> SentReminder | None:
    """The row that says this reminder went, if no other worker wrote it first."""
    row = SentReminder(cause=cause, object_type=obj.__tablename__, object_id=obj.id,
                       period=period, unit_id=unit_id, sent_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    return row


@dataclass
class RunResult:
    sent: int = 0  # reminders (each to one or more people)
    mails: int = 0
    skipped_off: int = 0  # switched off by the unit
    not_a_working_day: bool = False
    summary: bool = False


def send_due(today: date | None = None) -> RunResult:
    """Send every reminder due today (nothing on a day off). Flushes; the caller commits."""
    today = today or clock.today()
    result = RunResult()
    if not is_working_day(today):
        result.not_a_working_day = True
        return result
    for cause in CAUSES.values():
        for due in cause.find(today):
            if not cause.statutory and switched_off(due.unit_id, cause.name):
                result.skipped_off += 1
                continue
            people = recipients(due.unit_id)
            if not people:
                continue
            period = next_period(cause.name, due.obj, due.began_on, today)
            if period is None:
                continue  # the last one is less than a week old
            row = _claim(cause.name, due.obj, period, due.unit_id)
            if row is None:
                continue  # another worker sent it a moment ago
            for person in people:
                mail.queue_mail("reminder", person.email, language=person.language,
                                name=person.name, cause=cause.name, title=due.title,
                                link=due.link, detail=due.detail,
                                again=not period.endswith("+0"))
            row.recipients = len(people)
            result.sent += 1
            result.mails += len(people)
    result.summary = send_weekly_summary(today)
    db.session.flush()
    return result


class _Platform:
    """What the weekly summary's row names: the platform as a whole."""

    __tablename__ = "platform"
    id = 0


def _admins() -> list[User]:
    users = db.session.scalars(db.select(User).where(User.active.is_(True))
                               .order_by(User.id)).all()
    return [u for u in users if has_permission(u, Perm.ADMINISTER)]


def send_weekly_summary(today: date) -> bool:
    """Once a week (the first working day the worker runs in an ISO week), the platform
    office gets what is late or due across every unit."""
    year, week, _day = today.isocalendar()
    admins = _admins()
    if not admins:
        return False
    lines = {name: CAUSES[name].find(today) for name in
             ("report_overdue", "report_due", "interpretation_missing", "filing_late",
              "window_closed")
             if name in CAUSES}
    if _claim("weekly_summary", _Platform(), f"{year}-W{week:02d}", None) is None:
        return False
    names = dict(db.session.execute(db.select(Unit.id, Unit.name)).all())
    sections = [{"cause": name, "items": [
        {"title": d.title, "unit": names.get(d.unit_id, ""), "link": d.link,
         "detail": d.detail} for d in items]} for name, items in lines.items()]
    for person in admins:
        mail.queue_mail("reminder_summary", person.email, language=person.language,
                        name=person.name, sections=sections, week=f"{year}-W{week:02d}",
                        stats=external_url("oversight.index"))
    return True


def can_switch(user, unit: Unit) -> bool:
    """A unit's approvers decide which of its optional reminders it gets."""
    return has_permission(user, Perm.APPROVE, unit)


def switch(unit: Unit, cause: str, *, on: bool, actor: User) -> bool:
    """Switch a non-statutory cause on or off for `unit`; audited. Returns whether it changed.
    A statutory cause cannot be switched off (Conflict)."""
    found = CAUSES.get(cause)
    if found is None:
        raise ValidationFailed(_("没有这种提醒。"), fields={"cause": _("没有这种提醒。")})
    if found.statutory:
        raise Conflict(_("法定期限的提醒不能关闭。"), code="statutory_reminder")
    row = db.session.scalar(db.select(ReminderOptOut).where(
        ReminderOptOut.unit_id == unit.id, ReminderOptOut.cause == cause))
    if on == (row is None):
        return False
    if on:
        db.session.delete(row)
    else:
        db.session.add(ReminderOptOut(unit_id=unit.id, cause=cause, by_id=actor.id,
                                      at=clock.now()))
    db.session.flush()
    audit.record(actor, "reminder_on" if on else "reminder_off", unit, unit_id=unit.id,
                 detail={"cause": cause})
    return True


def recent(unit_ids: set[int], limit: int = 50) -> list[SentReminder]:
    """The latest reminders sent about the units' work."""
    if not unit_ids:
        return []
    return db.session.scalars(db.select(SentReminder).where(SentReminder.unit_id.in_(unit_ids))
                              .order_by(SentReminder.sent_at.desc(), SentReminder.id.desc())
                              .limit(limit)).all()


def cause_label(name: str) -> str:
    cause = CAUSES.get(name)
    return str(cause.label) if cause else name


@handler("reminders", _l("到期提醒"))
def run_reminders(job, ctx) -> dict:
    ctx.begin_writing()
    result = send_due()
    return {"sent": result.sent, "mails": result.mails, "switched_off": result.skipped_off,
            "summary": result.summary, "day_off": result.not_a_working_day}

