"""Staff login and logout, and the guard every staff page stands behind."""

from __future__ import annotations

import hmac

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from consult.auth import services
from consult.auth.forms import LoginForm, SetPasswordForm
from consult.auth.models import User
from consult.extensions import db, login_manager
from consult.paging import MAX_ID
from consult.security import log as security_log
from consult.security import signin
from consult.security.models import LoginKind
from consult.tokens import LinkExpired, LinkInvalid
from consult.web import commit_refusal, commits, form_errors, language, safe_next

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("请先登录。")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user a session or remember-me cookie names ("id:stamp"), while the stamp is still
    the account's: logout, a new password or deactivation changes it (finding 5)."""
    ident, _sep, stamp = (user_id or "").partition(":")
    if not (ident.isascii() and ident.isdigit() and int(ident) <= MAX_ID and stamp):
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or not hmac.compare_digest(user.session_stamp, stamp):
        return None
    return user


@bp.before_app_request
def _end_stale_session():
    """A cookie whose stamp is no longer the account's is cleared, on every request."""
    if not security_log.staff_may_be_signed_in():
        return
    try:
        stale = not current_user.is_authenticated
    except SQLAlchemyError:  # the database is down: the error page says so
        return
    if stale:
        security_log.event("session_ended", kind="staff")
        logout_user()


@bp.route("/login", methods=["GET", "POST"])
@commits
def login():
    """Staff sign in with e-mail and password; the error never says which of the two was wrong."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("consultations.dashboard"))
        return render_template("auth/login.html", form=form)
    error = None
    if form.validate():
        email = form.email.data
        wait = signin.guard(LoginKind.STAFF, email)
        if wait:
            form.password.data = ""
            return signin.throttled("auth/login.html", wait, form=form)
        user = services.authenticate(email, form.password.data, language=language())
        if user is not None:
            login_user(user)
            target = safe_next(form.next.data) or url_for("consultations.dashboard")
            response = signin.succeeded(LoginKind.STAFF, email, redirect(target),
                                        account_id=user.id)
            flash(_("欢迎您，%(name)s。", name=user.name), "success")
            return response
        signin.failed(LoginKind.STAFF, email)
        commit_refusal()  # the failed attempt counts (throttling), though the answer is 422
        error = _("电子邮箱或密码不正确。")
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), 422


@bp.post("/logout")
@commits
def logout():
    """Sign out everywhere (POST only, so a link or an image cannot sign anyone out): the
    account's session stamp changes, so no copy of any of its cookies works any more."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        user.end_sessions()
        security_log.event("logout", kind="staff", id=user.id)
    logout_user()
    flash(_("您已退出登录。"), "success")
    return redirect(url_for("main.index"))


@bp.route("/password/<token>", methods=["GET", "POST"])
@commits
def set_password(token: str):
    """The mailed link of an invitation or a reset: choose a password, then sign in with it.
    Setting it ends every earlier session of the account (its session stamp changes)."""
    try:
        user = services.user_for_password_link(token)
    except (LinkInvalid, LinkExpired) as error:
        return render_template("auth/link_error.html", status=error.status,
                               message=error.message), error.status
    form = SetPasswordForm()
    message = None
    if form.validate_on_submit():
        with form_errors(form) as failed:
            services.set_password_by_link(token, form.password.data)
        message = failed.message
        if not failed:
            security_log.event("password_set", kind="staff", id=user.id)
            flash(_("密码已设置，请用新密码登录。"), "success")
            return redirect(url_for("auth.login"), 303)
    status = 422 if request.method == "POST" else 200
    response = make_response(render_template("auth/set_password.html", form=form, user=user,
                                             message=message), status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return response
