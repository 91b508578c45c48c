"""Who sees and retries jobs: a unit's staff their unit's jobs, platform admins all of them."""

from __future__ import annotations

from consult.jobs.models import Job, JobStatus
from consult.permissions import Perm, has_permission, is_admin, unit_ids_with

# What retrying a job of each kind takes (in the job's unit); other kinds: admins only.
RETRY_PERMISSIONS = {
    "suggest_groups": Perm.ANSWER,
    "report_preview": Perm.VIEW_STAFF,
    "publish_report": Perm.PUBLISH_REPORT,
    "report_file": Perm.VIEW_STAFF,
}


def can_view_job(user, job: Job) -> bool:
    if is_admin(user):
        return True
    return job.unit is not None and has_permission(user, Perm.VIEW_STAFF, job.unit)


def can_retry_job(user, job: Job) -> bool:
    """A failed job may be queued again by admins, and by the unit's staff who could have
    asked for it."""
    if job.status != JobStatus.FAILED:
        return False
    if is_admin(user):
        return True
    perm = RETRY_PERMISSIONS.get(job.kind)
    return perm is not None and job.unit is not None and has_permission(user, perm, job.unit)


def visible_jobs(user):
    """The jobs `user` may see, as a query."""
    from consult.extensions import db

    query = db.select(Job)
    if not is_admin(user):
        query = query.where(Job.unit_id.in_(sorted(unit_ids_with(user, Perm.VIEW_STAFF))))
    return query
