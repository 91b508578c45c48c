"""The platform admins' page of login failure counters: see them, clear one or all."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.paging import id_filter
from consult.security import log as security_log
from consult.security import policy, throttle
from consult.web import commits, staff_required

bp = Blueprint("security", __name__)


@bp.app_context_processor
def _links():
    return {"can_manage_logins": lambda: policy.can_manage_logins(current_user)}


def _admin_only() -> None:
    if not policy.can_manage_logins(current_user):
        abort(403)


@bp.get("/staff/security/logins")
@staff_required
def manage_logins():
    """Accounts and clients whose sign-ins are being slowed down, with a clear button each."""
    _admin_only()
    return render_template("security/staff/security_logins.html",
                           counters=throttle.live_counters())


@bp.post("/staff/security/logins/clear")
@staff_required
@commits
def manage_clear_logins():
    """Clear one counter (`id`) or all of them (`all`)."""
    _admin_only()
    if request.form.get("all"):
        count = throttle.clear(everything=True)
    else:
        counter_id = id_filter(request.form.get("id", ""))
        if counter_id is None:
            return render_template("security/staff/security_logins.html",
                                   counters=throttle.live_counters(),
                                   error=_("请选择要清除的记录。")), 422
        count = throttle.clear(ids=[counter_id])
        if not count:
            abort(404)
    security_log.event("login_counters_cleared", by=current_user.id, count=count)
    flash(_("已清除 %(n)d 条登录失败记录。", n=count), "success")
    return redirect(url_for("security.manage_logins"), 303)
