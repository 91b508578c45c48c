"""Staff login and logout, and the guard every staff page stands behind."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from consult.auth.forms import LoginForm
from consult.auth.models import User
from consult.auth.services import authenticate
from consult.extensions import db, login_manager
from consult.web import commits, language, safe_next

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("请先登录。")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


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
        user = authenticate(form.email.data, form.password.data, language=language())
        if user is not None:
            login_user(user)
            flash(_("欢迎您，%(name)s。", name=user.name), "success")
            return redirect(safe_next(form.next.data) or url_for("consultations.dashboard"))
        error = _("电子邮箱或密码不正确。")
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error), 422


@bp.post("/logout")
@commits
def logout():
    """Sign out (POST only, so a link or an image cannot sign anyone out)."""
    logout_user()
    flash(_("您已退出登录。"), "success")
    return redirect(url_for("main.index"))
