"""Slow work of the policies domain, run as jobs (consult/jobs): a published policy's PDF."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult.errors import NotFound
from consult.extensions import db
from consult.jobs.queue import handler
from consult.policies.files import JOB_KIND, built_file, render_file, store_file
from consult.policies.models import Policy


def _published(policy_id) -> Policy:
    policy = db.session.get(Policy, policy_id or 0)
    if policy is None or policy.published_at is None:
        raise NotFound(_("正式文件已不存在或尚未发布。"))
    return policy


@handler(JOB_KIND, _l("生成正式文件下载文件"))
def run_file_build(job, ctx) -> dict:
    policy = _published(ctx.args.get("policy_id"))
    extension, locale = ctx.args["format"], ctx.args["locale"]
    built = built_file(policy, extension, locale)
    if built is None:
        # The policy's text is read within the layout (a few pages, a second or two).
        ctx.progress(5, _("排版 %(format)s", format=extension.upper()))
        data, disposition = render_file(policy, extension, locale)
        db.session.commit()  # end the reading transaction before writing
        ctx.progress(95, _("保存文件"))
        ctx.begin_writing()
        built = store_file(_published(ctx.args["policy_id"]), extension, locale, data,
                           disposition)
    return {"built_file_id": built.id, "size": built.size}
