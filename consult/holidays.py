"""The shipped default calendar of public holidays and make-up working days (调休) in China.

Only a default: `HOLIDAYS` and `MAKEUP_WORKDAYS` in the configuration replace it (from the
environment as comma-separated ISO dates, or from `instance/holidays.json`, see
`consult.config`). Update it each November, when the State Council publishes the next year's
arrangement (国务院办公厅关于××年部分节假日安排的通知).

- 2025 and 2026 follow the State Council's notices (国办发明电〔2024〕12号, and the notice of
  November 2025), checked against the `chinese_calendar` and `holidays` packages.
- 2027 is PROVISIONAL: the statutory days of 《全国年节及纪念日放假办法》 (2024 revision) with a
  weekday off for a holiday that falls on a weekend, and no make-up working days. Replace it with
  the State Council's notice for 2027 once published.

Weekend days inside a holiday are listed too: harmless (they are not working days anyway), and
they keep each holiday readable as one run of dates.
"""

from __future__ import annotations

from datetime import date, timedelta


def _run(first: str, last: str) -> list[str]:
    """Every ISO date from `first` to `last`, both included."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


HOLIDAYS: list[str] = [
    # 2025
    *_run("2025-01-01", "2025-01-01"),  # 元旦
    *_run("2025-01-28", "2025-02-04"),  # 春节
    *_run("2025-04-04", "2025-04-06"),  # 清明节
    *_run("2025-05-01", "2025-05-05"),  # 劳动节
    *_run("2025-05-31", "2025-06-02"),  # 端午节
    *_run("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
    # 2026
    *_run("2026-01-01", "2026-01-03"),  # 元旦
    *_run("2026-02-15", "2026-02-23"),  # 春节
    *_run("2026-04-04", "2026-04-06"),  # 清明节
    *_run("2026-05-01", "2026-05-05"),  # 劳动节
    *_run("2026-06-19", "2026-06-21"),  # 端午节
    *_run("2026-09-25", "2026-09-27"),  # 中秋节
    *_run("2026-10-01", "2026-10-07"),  # 国庆节
    # 2027 (provisional, see above)
    *_run("2027-01-01", "2027-01-01"),  # 元旦
    *_run("2027-02-05", "2027-02-10"),  # 春节（除夕至初三；初一、初二逢周末补休）
    *_run("2027-04-05", "2027-04-05"),  # 清明节
    *_run("2027-05-01", "2027-05-04"),  # 劳动节（逢周末补休）
    *_run("2027-06-09", "2027-06-09"),  # 端午节
    *_run("2027-09-15", "2027-09-15"),  # 中秋节
    *_run("2027-10-01", "2027-10-05"),  # 国庆节（逢周末补休）
]

MAKEUP_WORKDAYS: list[str] = [
    # 2025
    "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
    # 2026
    "2026-01-04",  # 元旦
    "2026-02-14", "2026-02-28",  # 春节
    "2026-05-09",  # 劳动节
    "2026-09-20", "2026-10-10",  # 国庆节
    # 2027: not yet known (provisional, see above)
]
