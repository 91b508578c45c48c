"""The bulk XLSX files of /data, built by the worker and kept in `built_files`.

An XLSX of a whole table takes a while to write (openpyxl, a row at a time), so no download
writes one: a job does (`request_build`, as the report's and the policy's files), and every
app host serves the same stored bytes with their ETag and Last-Modified. Until the first file
of a table and language exists, a download answers 202 with a page that reloads itself; after
a failed build it waits (503) for staff rather than start another.

How current: a file is a snapshot. Once it is OPENDATA_MAX_AGE_MINUTES old (60 by default),
the next download still gets it at once and asks for a new build; the job writes the rows
again and keeps the new file only if the rows changed (their SHA-256, `stamp`) — otherwise it
notes that the snapshot was found current (`checked_at`) and the ETag stays. So a file is at
most that many minutes behind the data, and is built at most that often per table and
language, only when someone downloads it. The CSV is written per request (always current).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale

from consult import clock
from consult.answers.exports import CONTENT_TYPES
from consult.extensions import db
from consult.jobs import queue
from consult.jobs.models import BuiltFile, Job
from consult.opendata import exports

JOB_KIND = "opendata_file"
FORMAT = "xlsx"


def dataset_name(table: str, consultation_id: int | None = None) -> str:
    """The stored file's name: the table, or one consultation's comments."""
    return f"{table}-{consultation_id}" if consultation_id else table


def _parse(dataset: str) -> tuple[str, dict]:
    table, _sep, consultation_id = dataset.partition("-")
    if table not in exports.TABLES or (consultation_id and table != "comments"):
        raise ValueError(f"no bulk table {dataset!r}")
    return table, ({"consultation_id": int(consultation_id)} if consultation_id else {})


def _key(dataset: str, locale: str) -> str:
    return f"{JOB_KIND}:{dataset}:{locale}"


def max_age() -> timedelta:
    return timedelta(minutes=current_app.config["OPENDATA_MAX_AGE_MINUTES"])


def built_file(dataset: str, locale: str, *, with_data: bool = False) -> BuiltFile | None:
    query = db.select(BuiltFile).where(BuiltFile.dataset == dataset,
                                       BuiltFile.format == FORMAT, BuiltFile.locale == locale)
    if not with_data:
        query = query.options(db.defer(BuiltFile.data))
    return db.session.scalar(query)


def is_current(built: BuiltFile) -> bool:
    """Whether the snapshot was built or found current within the last max_age()."""
    return (built.checked_at or built.created_at) > clock.now() - max_age()


def request_build(dataset: str, locale: str) -> Job | None:
    """The job (re)building this file (consult.jobs.queue.request_build)."""
    _parse(dataset)
    return queue.request_build(JOB_KIND, {"dataset": dataset, "locale": locale},
                               dedupe_key=_key(dataset, locale))


def render(dataset: str, locale: str) -> tuple[bytes, str]:
    """The file's bytes and the digest of its rows (reads only)."""
    table, filters = _parse(dataset)
    with force_locale(locale):
        return exports.xlsx_snapshot(table, **filters)


def store(dataset: str, locale: str, data: bytes, stamp: str) -> BuiltFile:
    """Keep a new snapshot in place of the old one, unless its rows are the same: then the old
    one stays (its ETag too), found current now (flushes)."""
    now = clock.now()
    existing = built_file(dataset, locale)
    if existing is not None and existing.stamp == stamp:
        existing.checked_at = now
        db.session.flush()
        return existing
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    built = BuiltFile(dataset=dataset, format=FORMAT, locale=locale,
                      content_type=CONTENT_TYPES[FORMAT],
                      content_disposition=f"attachment; filename={dataset}.xlsx",
                      etag=f"data-{dataset}-{locale}-{stamp[:20]}", stamp=stamp,
                      size=len(data), data=data, created_at=now, checked_at=now)
    db.session.add(built)
    db.session.flush()
    return built
