"""The one clock. Everything asks it for the time, so tests can travel in time."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

_frozen: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now (or the frozen time in tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def freeze(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware); None lets it run again."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = moment.astimezone(UTC) if moment else None


@contextmanager
def at(moment: datetime):
    """Run a block with the clock frozen at `moment`, then put back what was there."""
    global _frozen
    before = _frozen
    freeze(moment)
    try:
        yield moment
    finally:
        _frozen = before


def local_zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def today() -> date:
    """Today's date in the local time zone."""
    return now().astimezone(local_zone()).date()


def start_of_day(day: date) -> datetime:
    """00:00:00 local time of `day`, as aware UTC."""
    return datetime.combine(day, time.min, local_zone()).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """23:59:59 local time of `day` (the last instant of a window), as aware UTC."""
    return datetime.combine(day, time(23, 59, 59), local_zone()).astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def local_date(moment: datetime) -> date:
    return local(moment).date()


def days(n: int) -> timedelta:
    return timedelta(days=n)
