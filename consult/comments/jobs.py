"""Scheduled work of the comments domain, run as a job (consult/jobs/schedule.py): the
retention purge of contact data, as `flask --app app privacy purge` does it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from consult.comments.privacy import orphan_files, purge_contact_data
from consult.extensions import db
from consult.jobs.queue import handler


@handler("privacy_purge", _l("到期清除联系方式"))
def run_purge(job, ctx) -> dict:
    ctx.begin_writing()
    lines = purge_contact_data()
    files = orphan_files()
    db.session.commit()  # files go only once nothing refers to them any more
    for path in files:
        path.unlink(missing_ok=True)
    return {"comments": sum(line.comments for line in lines), "consultations": len(lines),
            "files": len(files)}
