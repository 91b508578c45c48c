"""The report's PDF and XLSX, built once per published revision by a job and kept in the
database (`built_files`), so that every app host serves the same bytes and no download builds
anything within a request. A new revision gets new files; the old revision's are dropped once
the new ones exist. The CSV is quick to write and stays built per request.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from consult import clock
from consult.answers import exports
from consult.answers.models import Report
from consult.extensions import db
from consult.jobs import queue
from consult.jobs.models import BuiltFile, Job
from consult.jobs.queue import enqueue
from consult.urls import external_url

BUILT_FORMATS = ("pdf", "xlsx")
JOB_KIND = "report_file"


def _key(report: Report, extension: str, locale: str) -> str:
    return f"{JOB_KIND}:{report.id}:{extension}:{locale}"


def etag_for(report: Report, extension: str, locale: str) -> str:
    return f"{report.digest}-{report.revision}-{locale}-{extension}"


def queue_builds(report: Report, locales: list[str] | None = None) -> list[Job]:
    """Queue the PDF and XLSX of a newly published revision (in the default language; the
    others are built on their first download)."""
    locales = locales or [current_app.config["BABEL_DEFAULT_LOCALE"]]
    return [enqueue(JOB_KIND, {"report_id": report.id, "format": extension, "locale": locale},
                    consultation=report.consultation,
                    dedupe_key=_key(report, extension, locale))
            for locale in locales for extension in BUILT_FORMATS]


def built_file(report: Report, extension: str, locale: str, *, with_data: bool = False
               ) -> BuiltFile | None:
    query = db.select(BuiltFile).where(BuiltFile.report_id == report.id,
                                       BuiltFile.format == extension, BuiltFile.locale == locale)
    if not with_data:
        query = query.options(db.defer(BuiltFile.data))
    return db.session.scalar(query)


def request_build(report: Report, extension: str, locale: str) -> Job | None:
    """The job building this file (consult.jobs.queue.request_build)."""
    return queue.request_build(
        JOB_KIND, {"report_id": report.id, "format": extension, "locale": locale},
        dedupe_key=_key(report, extension, locale), consultation=report.consultation)


def _links(consultation_id: int) -> dict[str, str]:
    """The PDF's links to the other forms of the report (absolute, from BASE_URL)."""
    return {
        _("网页版"): external_url("answers.report", consultation_id=consultation_id),
        _("Excel 表格"): external_url("answers.report_xlsx", consultation_id=consultation_id),
        _("CSV 表格"): external_url("answers.report_csv", consultation_id=consultation_id),
    }


def file_inputs(report: Report) -> dict:
    """What building a file of `report` reads from the database, read at once: the build
    itself then holds no transaction open (on SQLite a long read would keep every writer
    from committing)."""
    return {"content": report.content, "unit_name": report.consultation.unit.name,
            "correction_note": report.correction_note,
            "consultation_id": report.consultation_id}


def render_file(inputs: dict, extension: str, locale: str) -> tuple[bytes, str]:
    """The bytes of one file of a published revision and its Content-Disposition, from
    `file_inputs` (no database access)."""
    content = inputs["content"]
    with force_locale(locale):
        if extension == "pdf":
            data = exports.report_pdf(content, unit_name=inputs["unit_name"],
                                      correction_note=inputs["correction_note"],
                                      links=_links(inputs["consultation_id"]))
        elif extension == "xlsx":
            data = exports.report_xlsx(content)
        else:
            raise ValueError(f"no built file of type {extension!r}")
        return data, exports.content_disposition(content, extension)


def store_file(report: Report, extension: str, locale: str, data: bytes,
               disposition: str) -> BuiltFile:
    """Keep a built file (flushes); the older revisions' files of the consultation go. An
    existing file of this revision is kept (another worker was quicker)."""
    existing = built_file(report, extension, locale)
    if existing is not None:
        return existing
    built = BuiltFile(report_id=report.id, format=extension, locale=locale,
                      content_type=exports.CONTENT_TYPES[extension],
                      content_disposition=disposition,
                      etag=etag_for(report, extension, locale), size=len(data), data=data,
                      created_at=clock.now())
    db.session.add(built)
    older = db.select(Report.id).where(Report.consultation_id == report.consultation_id,
                                       Report.revision < report.revision)
    db.session.execute(db.delete(BuiltFile).where(BuiltFile.report_id.in_(older))
                       .execution_options(synchronize_session=False))
    db.session.flush()
    return built
