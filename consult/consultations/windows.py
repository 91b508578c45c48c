"""Comment-window rules (F4, SPEC §6): the minimum period per type, in calendar or working days.

- rules and major decisions: 30 calendar days (规章制定程序条例 Art 15; 重大行政决策程序暂行条例
  Art 15);
- normative documents: 7 working days, or 30 calendar days when the document concerns the
  business activity of market entities (优化营商环境条例 Art 62);
- other: 7 calendar days.
The numbers and which types count working days are configuration (`WINDOW_*` in
`consult.config`), the numbers overridden by what the platform office saves at /admin/settings;
each consultation keeps the numbers in force when it was created (`current_minimums`). A
window counts both its first and its last day (it opens at 00:00 of the first and closes at
23:59:59 of the last). Working days are Monday to Friday, less the configured public holidays
(`HOLIDAYS`), plus the configured make-up working days (`MAKEUP_WORKDAYS`, 调休).
A shorter window is allowed only with a reason, which the public page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _

from consult import clock, settings
from consult.errors import Conflict, ValidationFailed


@dataclass(frozen=True)
class Minimum:
    """A minimum comment period: `days`, counted as working days or as calendar days."""

    days: int
    working: bool

    def describe(self) -> str:
        """「不少于 30 日」 or 「不少于 7 个工作日」."""
        if self.working:
            return _("不少于 %(n)d 个工作日", n=self.days)
        return _("不少于 %(n)d 日", n=self.days)

    def unit(self) -> str:
        return _("个工作日") if self.working else _("日")


def _dates(key: str) -> frozenset[date]:
    """The configured dates, or those saved at /admin/settings (`consult.settings`)."""
    return frozenset(
        value if isinstance(value, date) else date.fromisoformat(value)
        for value in settings.value(key, ()) or ()
    )


def holidays() -> frozenset[date]:
    return _dates("HOLIDAYS")


def makeup_workdays() -> frozenset[date]:
    return _dates("MAKEUP_WORKDAYS")


def is_working_day(day: date, *, _holidays=None, _makeup=None) -> bool:
    """Monday to Friday unless a public holiday; a make-up day (调休) works even on a weekend."""
    makeup = makeup_workdays() if _makeup is None else _makeup
    if day in makeup:
        return True
    off = holidays() if _holidays is None else _holidays
    return day.weekday() < 5 and day not in off


def calendar_days(opens_on: date, closes_on: date) -> int:
    """Calendar days in a window, both ends included."""
    return max((closes_on - opens_on).days + 1, 0)


def working_days(opens_on: date, closes_on: date) -> int:
    """Working days in a window, both ends included."""
    off, makeup = holidays(), makeup_workdays()
    return sum(
        is_working_day(opens_on + timedelta(days=i), _holidays=off, _makeup=makeup)
        for i in range(calendar_days(opens_on, closes_on))
    )


def add_working_days(day: date, n: int) -> date:
    """The `n`th working day after `day` (`day` itself not counted): 3 working days after a
    policy is the last day for its interpretation (SPEC §6)."""
    off, makeup = holidays(), makeup_workdays()
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        counted += is_working_day(day, _holidays=off, _makeup=makeup)
    return day


# The statutory floors (SPEC §6): no setting may go below them. Rules and major decisions 30
# days (规章制定程序条例 Art 15, 重大行政决策程序暂行条例 Art 15), normative documents 7 working
# days, 30 days when they concern business activity (优化营商环境条例 Art 62); "other" has none
# beyond a single day.
STATUTORY_MIN_DAYS = {"rule": 30, "major_decision": 30, "normative_document": 7, "other": 1}
STATUTORY_BUSINESS_MIN_DAYS = 30


def working_day_before(day: date, n: int) -> date:
    """The `n`th working day before `day` (`day` itself not counted): a report due on `day` is
    "due within 3 working days" from this day on."""
    off, makeup = holidays(), makeup_workdays()
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        counted += is_working_day(day, _holidays=off, _makeup=makeup)
    return day


BUSINESS = "business"  # the key of the business-activity minimum among a type's minimums


def current_minimums() -> dict[str, int]:
    """The minimum windows in force now, in days by type code and `BUSINESS`: the
    configuration's, or what the platform office saved (`consult.settings`), never below the
    statutory floors. A consultation keeps those in force when it was created
    (`Consultation.window_minimums`): a later setting changes the rule for new ones only."""
    saved = settings.value("WINDOW_MIN_DAYS") or {}
    days = {code: max(int(saved.get(code, floor)), floor)
            for code, floor in STATUTORY_MIN_DAYS.items()}
    days[BUSINESS] = max(int(settings.value("WINDOW_BUSINESS_MIN_DAYS")),
                         STATUTORY_BUSINESS_MIN_DAYS)
    return days


def minimum(type_, *, concerns_business: bool = False,
            minimums: dict[str, int] | None = None) -> Minimum:
    """The minimum window of a consultation type (a ConsultationType or its code) among
    `minimums` — a consultation's own, those in force when it was created — or, without them,
    those in force now (`current_minimums`); never below the statutory floor."""
    days = minimums or {}
    code = str(getattr(type_, "value", type_))
    key = BUSINESS if concerns_business and code in \
        current_app.config["WINDOW_WORKING_DAY_TYPES"] else code
    if key not in days:
        days = current_minimums()
    if key == BUSINESS:
        return Minimum(max(int(days[key]), STATUTORY_BUSINESS_MIN_DAYS), working=False)
    return Minimum(max(int(days[key]), STATUTORY_MIN_DAYS.get(code, 1)),
                   working=code in current_app.config["WINDOW_WORKING_DAY_TYPES"])


def report_due_on(closes_at: datetime) -> date:
    """The last day for the adoption report: REPORT_DUE_DAYS (configured, or saved by the
    platform office) after the window's last local day."""
    return clock.local_date(closes_at) + timedelta(days=int(settings.value("REPORT_DUE_DAYS")))


def length(rule: Minimum, opens_on: date, closes_on: date) -> int:
    """The window's length in the unit of `rule`."""
    if rule.working:
        return working_days(opens_on, closes_on)
    return calendar_days(opens_on, closes_on)


def earliest_close(rule: Minimum, opens_on: date) -> date:
    """The first closing date that meets `rule` for a window opening on `opens_on`."""
    if not rule.working:
        return opens_on + timedelta(days=rule.days - 1)
    off, makeup = holidays(), makeup_workdays()
    day, counted = opens_on, 0
    while True:
        counted += is_working_day(day, _holidays=off, _makeup=makeup)
        if counted >= rule.days:
            return day
        day += timedelta(days=1)


def check(type_, opens_on: date, closes_on: date, *, concerns_business: bool = False,
          short_window_reason: str | None = None,
          minimums: dict[str, int] | None = None) -> Minimum:
    """Refuse a window that ends before it starts, or is too short without a published reason
    (`minimums`: the consultation's own, see `minimum`).

    Returns the minimum that applied. Raises ValidationFailed (422) naming the field to fix.
    """
    if closes_on < opens_on:
        message = _("截止日期不能早于开始日期。")
        raise ValidationFailed(message, fields={"closes_on": message})
    rule = minimum(type_, concerns_business=concerns_business, minimums=minimums)
    if length(rule, opens_on, closes_on) < rule.days and not (short_window_reason or "").strip():
        message = _(
            "此类文件的征求意见期限%(minimum)s（本次为 %(n)d %(unit)s，最早可截止于 %(date)s）；"
            "期限更短时须填写理由（理由将向社会公布）。",
            minimum=rule.describe(), n=length(rule, opens_on, closes_on), unit=rule.unit(),
            date=earliest_close(rule, opens_on).isoformat(),
        )
        raise ValidationFailed(message, code="window_too_short",
                               fields={"short_window_reason": message})
    return rule


def opening_on_approval(type_, opens_at: datetime, closes_at: datetime, now: datetime, *,
                        concerns_business: bool = False,
                        short_window_reason: str | None = None,
                        minimums: dict[str, int] | None = None) -> datetime:
    """When a window approved at `now` opens: as typed, or `now` when the typed start is past.

    The minimum is checked again against what then remains (the dates checked when the draft
    was saved may be long gone): below it without a published reason, or once the closing date
    has passed, approval is refused (Conflict, 409). The day of a late approval counts only
    when the window opens at its very start: a period counted in days starts the next day
    (民法典 Art 201).
    """
    opens_at = max(opens_at, now)
    last = clock.local_date(closes_at)
    if closes_at <= opens_at:
        raise Conflict(_("截止日期（%(date)s）已过，不能审核通过。请退回修改征求意见期限。",
                         date=last.isoformat()), code="window_ended")
    first = clock.local_date(opens_at)
    if opens_at != clock.start_of_day(first):
        first += timedelta(days=1)
    rule = minimum(type_, concerns_business=concerns_business, minimums=minimums)
    remaining = length(rule, first, last) if first <= last else 0
    if remaining < rule.days and not (short_window_reason or "").strip():
        raise Conflict(_(
            "按审核通过的时间计算，征求意见期限自 %(first)s 起算、至 %(last)s 截止，只有 %(n)d "
            "%(unit)s，而此类文件的征求意见期限%(minimum)s。请退回修改截止日期，或填写期限较短的"
            "理由（理由将向社会公布）后重新提交审核。",
            first=first.isoformat(), last=last.isoformat(), n=remaining, unit=rule.unit(),
            minimum=rule.describe(),
        ), code="window_too_short")
    return opens_at

