"""Staff login and logout, and the guard every staff page stands behind."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from consult.auth.forms import LoginForm
from consult.auth.models import User
from consult.auth.services import authenticate
from consult.extensions import db, login_manager
from consult.permissions import is_staff

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("请先登录。")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def staff_required(view):
    """Anonymous users go to the login page; signed-in users without a staff role get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_staff(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (no scheme, no host, no `//` or `\\` tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
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
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            db.session.commit()
            flash(_("欢迎您，%(name)s。", name=user.name), "success")
            return redirect(safe_next(form.next.data) or url_for("consultations.dashboard"))
        error = _("电子邮箱或密码不正确。")
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), 422


@bp.post("/logout")
def logout():
    """Sign out (POST only, so a link or an image cannot sign anyone out)."""
    logout_user()
    flash(_("您已退出登录。"), "success")
    return redirect(url_for("main.index"))
