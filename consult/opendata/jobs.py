"""The job that writes a bulk XLSX of /data (consult/opendata/files.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult.extensions import db
from consult.jobs.queue import handler
from consult.opendata import files


@handler(files.JOB_KIND, _l("生成开放数据文件"))
def run_build(job, ctx) -> dict:
    dataset, locale = ctx.args["dataset"], ctx.args["locale"]
    ctx.progress(5, _("导出 %(name)s", name=dataset))
    data, stamp = files.render(dataset, locale)
    db.session.commit()  # the rows were read; the write below starts a transaction of its own
    ctx.progress(95, _("保存文件"))
    ctx.begin_writing()
    built = files.store(dataset, locale, data, stamp)
    return {"built_file_id": built.id, "size": built.size, "stamp": stamp[:20]}
