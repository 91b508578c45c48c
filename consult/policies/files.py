"""A published policy's PDF, built once per language by a job and kept in `built_files` (as
the report's are), so that every app host serves the same bytes and no download lays out a
PDF within a request. A published policy's text is fixed: its files never go stale."""

from __future__ import annotations

from flask_babel import force_locale

from consult import clock
from consult.extensions import db
from consult.jobs import queue
from consult.jobs.models import BuiltFile, Job
from consult.policies import documents
from consult.policies.models import Policy

JOB_KIND = "policy_file"


def _key(policy: Policy, extension: str, locale: str) -> str:
    return f"{JOB_KIND}:{policy.id}:{extension}:{locale}"


def etag_for(policy: Policy, extension: str, locale: str) -> str:
    stamp = int(policy.published_at.timestamp()) if policy.published_at else 0
    return f"policy-{policy.id}-{stamp}-{locale}-{extension}"


def built_file(policy: Policy, extension: str, locale: str, *, with_data: bool = False
               ) -> BuiltFile | None:
    query = db.select(BuiltFile).where(BuiltFile.policy_id == policy.id,
                                       BuiltFile.format == extension, BuiltFile.locale == locale)
    if not with_data:
        query = query.options(db.defer(BuiltFile.data))
    return db.session.scalar(query)


def request_build(policy: Policy, extension: str, locale: str) -> Job | None:
    """The job building this file (consult.jobs.queue.request_build)."""
    return queue.request_build(
        JOB_KIND, {"policy_id": policy.id, "format": extension, "locale": locale},
        dedupe_key=_key(policy, extension, locale), consultation=policy.consultation,
        unit_id=policy.unit_id)


def render_file(policy: Policy, extension: str, locale: str) -> tuple[bytes, str]:
    """The bytes of one file of a published policy and its Content-Disposition."""
    with force_locale(locale):
        if extension != "pdf":
            raise ValueError(f"no built file of type {extension!r}")
        return documents.policy_pdf(policy), documents.content_disposition(policy, extension)


def store_file(policy: Policy, extension: str, locale: str, data: bytes,
               disposition: str) -> BuiltFile:
    """Keep a built file (flushes); an existing one is kept (another worker was quicker)."""
    existing = built_file(policy, extension, locale)
    if existing is not None:
        return existing
    built = BuiltFile(policy_id=policy.id, format=extension, locale=locale,
                      content_type=documents.CONTENT_TYPES[extension],
                      content_disposition=disposition,
                      etag=etag_for(policy, extension, locale), size=len(data), data=data,
                      created_at=clock.now())
    db.session.add(built)
    db.session.flush()
    return built
