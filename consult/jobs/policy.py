"""Who sees and retries jobs: a unit's staff their unit's jobs, platform admins all of them."""

from __future__ import annotations

from flask_babel import gettext as _

from consult.errors import Conflict
from consult.extensions import db
from consult.jobs.models import Job, JobStatus
from consult.permissions import Perm, Rule, has_permission, is_admin, require, unit_ids_with

# What retrying a job of each kind takes (in the job's unit); other kinds: admins only.
RETRY_PERMISSIONS = {
    "suggest_groups": Perm.ANSWER,
    "report_preview": Perm.VIEW_STAFF,
    "publish_report": Perm.PUBLISH_REPORT,
    "report_file": Perm.VIEW_STAFF,
    "policy_file": Perm.VIEW_STAFF,
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
    query = db.select(Job)
    if not is_admin(user):
        query = query.where(Job.unit_id.in_(sorted(unit_ids_with(user, Perm.VIEW_STAFF))))
    return query


RETRY = Rule(
    allows=can_retry_job, state_allows=lambda job: job.status == JobStatus.FAILED,
    conflict=lambda job: Conflict(_("只有失败的任务可以重试。"), code="job_not_failed"),
)


def require_retry(user, job: Job) -> None:
    """409 while the job has not failed (there is nothing to retry); 403 for those who may not
    ask for it again."""
    require(RETRY, user, job)
