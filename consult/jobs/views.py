"""Staff pages for jobs: the list of failed (and other) jobs, one job's progress and error,
and retrying a failed one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.extensions import db
from consult.jobs import policy
from consult.jobs.models import ACTIVE, Job, JobStatus
from consult.jobs.queue import REFRESH_SECONDS, kind_label, retry_job
from consult.paging import page_number
from consult.web import commits, load_or_403, staff_required

bp = Blueprint("jobs", __name__)

PER_PAGE = 50
FILTERS = {
    "failed": (JobStatus.FAILED,),
    "active": ACTIVE,
    "done": (JobStatus.DONE,),
    "all": None,
}


def _load(job_id: int) -> Job:
    return load_or_403(Job, job_id, policy.can_view_job)


@bp.app_template_filter("job_kind")
def _job_kind(kind: str) -> str:
    return kind_label(kind)


@bp.app_template_global()
def failed_jobs() -> int:
    """Failed jobs the current user may see (the dashboard's button says how many)."""
    query = policy.visible_jobs(current_user).where(Job.status == JobStatus.FAILED)
    return db.session.scalar(query.with_only_columns(db.func.count(Job.id)))


@bp.get("/staff/jobs")
@staff_required
def manage_index():
    """Jobs of the user's units (all of them for admins); failed ones first of all."""
    wanted = request.args.get("status", "failed")
    wanted = wanted if wanted in FILTERS else "failed"
    query = policy.visible_jobs(current_user)
    if FILTERS[wanted] is not None:
        query = query.where(Job.status.in_(FILTERS[wanted]))
    jobs = db.paginate(query.order_by(Job.id.desc()), page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    return render_template("jobs/staff/jobs.html", jobs=jobs, wanted=wanted, filters=list(FILTERS))


@bp.get("/staff/jobs/<int:job_id>")
@staff_required
def manage_job(job_id: int):
    """One job: its progress while it runs (the page refreshes itself), then its outcome."""
    job = _load(job_id)
    return render_template("jobs/staff/job.html", job=job,
                           can_retry=policy.can_retry_job(current_user, job),
                           refresh=REFRESH_SECONDS if job.active else None)


@bp.post("/staff/jobs/<int:job_id>/retry")
@staff_required
@commits
def manage_retry(job_id: int):
    """Queue a failed job again."""
    job = _load(job_id)
    policy.require_retry(current_user, job)
    retry_job(job, actor=current_user)
    flash(_("任务已重新排队。"), "success")
    return redirect(url_for(".manage_job", job_id=job.id))
