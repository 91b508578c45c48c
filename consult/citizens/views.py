"""Citizen accounts (optional) and the privacy requests of people without one.

Pages behind a mailed link show a button first: a mail scanner's GET must change nothing.
"""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from consult.answers.services import published_report
from consult.citizens import services
from consult.citizens.forms import (
    EraseForm,
    ErasureRequestForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetForm,
    SetPasswordForm,
)
from consult.citizens.services import current_citizen
from consult.comments import privacy
from consult.errors import Conflict
from consult.security import log as security_log
from consult.security import signin
from consult.security.models import LoginKind
from consult.tokens import LinkExpired, LinkInvalid
from consult.web import ConfirmForm, commit_refusal, commits, form_errors, language, safe_next

bp = Blueprint("citizens", __name__)


@bp.app_context_processor
def _citizen_in_templates():
    def citizen_for_page():
        """The signed-in citizen for the header; an error page must render without a database."""
        try:
            return current_citizen()
        except SQLAlchemyError:
            return None

    return {"current_citizen": citizen_for_page}


@bp.before_app_request
def _end_stale_session():
    """A session whose stamp is no longer the account's is cleared, on every request."""
    try:
        stale = services.SESSION_KEY in session and current_citizen() is None
    except SQLAlchemyError:  # the database is down: the error page says so
        return
    if stale:
        security_log.event("session_ended", kind="citizen")
        services.sign_out()


def citizen_required(view):
    """Signed-out visitors go to the citizen sign-in page and come back afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_citizen() is None:
            flash(_("请先登录公众账号。"), "info")
            return redirect(url_for("citizens.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def link_error(error: LinkInvalid | LinkExpired, *, again: str | None = None):
    """The page for a bad mailed link: 400 when forged or used, 410 when too old."""
    return render_template("citizens/link_error.html", status=error.status,
                           message=error.message, again=again), error.status


def _private(response):
    """A page about one person: never kept by a cache."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ sign-up, password, sign-in


@bp.route("/account/register", methods=["GET", "POST"])
@commits
def register():
    """Sign up with an email address; the mailed link sets the password."""
    form = RegisterForm()
    if form.validate_on_submit():
        services.register(form.email.data, form.display_name.data, language=language())
        return render_template("citizens/check_mail.html", email=form.email.data)
    status = 422 if request.method == "POST" else 200
    return render_template("citizens/register.html", form=form), status


@bp.route("/account/reset", methods=["GET", "POST"])
@commits
def reset():
    """Forgot the password: the same mailed link as at sign-up."""
    form = ResetForm()
    if form.validate_on_submit():
        services.register(form.email.data, language=language())
        return render_template("citizens/check_mail.html", email=form.email.data)
    status = 422 if request.method == "POST" else 200
    return render_template("citizens/reset.html", form=form), status


@bp.route("/account/password/<token>", methods=["GET", "POST"])
@commits
def set_password(token: str):
    """The mailed link: choose a password; the address is then verified and you are signed in."""
    try:
        citizen = services.citizen_for_password_link(token)
    except (LinkInvalid, LinkExpired) as error:
        return link_error(error, again=url_for("citizens.reset"))
    form = SetPasswordForm()
    message = None
    if form.validate_on_submit():
        with form_errors(form) as failed:
            citizen = services.set_password(token, form.password.data)
        message = failed.message
        if not failed:
            services.sign_in(citizen)
            flash(_("密码已设置，您已登录。"), "success")
            return redirect(url_for("citizens.account"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("citizens/set_password.html", form=form, citizen=citizen,
                           message=message), status


@bp.route("/account/login", methods=["GET", "POST"])
@commits
def login():
    """Citizens sign in with email and password; the error never says which was wrong."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_citizen() is not None:
            return redirect(form.next.data or url_for("citizens.account"))
        return render_template("citizens/login.html", form=form)
    error = None
    if form.validate():
        email = form.email.data
        wait = signin.guard(LoginKind.CITIZEN, email)
        if wait:
            form.password.data = ""
            return signin.throttled("citizens/login.html", wait, form=form)
        citizen = services.authenticate(email, form.password.data, language=language())
        if citizen is not None:
            services.sign_in(citizen)
            target = safe_next(form.next.data) or url_for("citizens.account")
            response = signin.succeeded(LoginKind.CITIZEN, email, redirect(target, 303),
                                        account_id=citizen.id)
            flash(_("您已登录。"), "success")
            return response
        signin.failed(LoginKind.CITIZEN, email)
        commit_refusal()  # the failed attempt counts (throttling), though the answer is 422
        error = _("电子邮箱或密码不正确，或者账号尚未通过邮箱确认。")
    form.password.data = ""
    return render_template("citizens/login.html", form=form, error=error), 422


@bp.post("/account/logout")
@commits
def logout():
    """Sign out of the citizen account everywhere (POST only): no copy of the cookie works."""
    citizen = current_citizen()
    services.sign_out(everywhere=True)
    if citizen is not None:
        security_log.event("logout", kind="citizen", id=citizen.id)
    flash(_("您已退出公众账号。"), "success")
    return redirect(url_for("main.index"), 303)


# ------------------------------------------------------------------ my comments, my data


@bp.get("/account")
@citizen_required
def account():
    """我的意见: my comments with their states, and answers once the report is out."""
    citizen = current_citizen()
    comments = services.my_comments(citizen)
    reports = {c.consultation_id: published_report(c.consultation) for c in comments}
    return _private(render_template("citizens/account.html", citizen=citizen,
                                    comments=comments, reports=reports))


@bp.get("/account/data.json")
@citizen_required
def data():
    """Download my data: the account and my comments, contact data included."""
    response = jsonify(services.export_data(current_citizen()))
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return _private(response)


@bp.route("/account/edit", methods=["GET", "POST"])
@citizen_required
@commits
def edit():
    """Correct my display name or email (a new email is confirmed by a link sent to it)."""
    citizen = current_citizen()
    form = ProfileForm(obj=citizen if request.method == "GET" else None)
    if form.validate_on_submit():
        mailed = services.update_profile(citizen, display_name=form.display_name.data,
                                         email=form.email.data)
        if mailed:
            flash(_("已向新邮箱发送确认链接，确认后新邮箱生效。"), "success")
        else:
            flash(_("已保存。"), "success")
        return redirect(url_for("citizens.account"), 303)
    status = 422 if request.method == "POST" else 200
    return _private(render_template("citizens/edit.html", form=form)), status


@bp.route("/account/email/<token>", methods=["GET", "POST"])
@commits
def confirm_email(token: str):
    """The link sent to a new address: confirm the change with a button."""
    form = ConfirmForm()
    try:
        _citizen, new_email = services.read_email_change(token)
    except (LinkInvalid, LinkExpired) as error:
        return link_error(error)
    if request.method == "POST" and form.validate_on_submit():
        with form_errors(None, catch=(Conflict,)) as failed:
            services.confirm_email_change(token)
        if failed:
            return render_template("error.html", status=409, message=failed.message), 409
        services.sign_out()  # sign in again with the new address
        flash(_("电子邮箱已修改，请用新邮箱登录。"), "success")
        return redirect(url_for("citizens.login"), 303)
    return render_template(
        "citizens/confirm.html", form=form, title=_("确认新的电子邮箱"),
        text=_("点击下面的按钮，把公众账号的电子邮箱改为 %(email)s。", email=new_email),
        button=_("确认修改"),
    )


@bp.route("/account/erase", methods=["GET", "POST"])
@citizen_required
@commits
def erase():
    """Erase my account and the personal data on my comments (with the password, confirmed)."""
    citizen = current_citizen()
    form = EraseForm()
    error = None
    if form.validate_on_submit():
        if citizen.check_password(form.password.data):
            count = services.erase_account(citizen)
            services.sign_out()
            flash(_("您的账号和 %(n)d 条意见中的个人信息已删除。", n=count), "success")
            return redirect(url_for("main.index"), 303)
        error = _("密码不正确。")
        form.password.errors = [error]
    status = 422 if request.method == "POST" else 200
    return _private(render_template("citizens/erase.html", form=form, error=error,
                                    count=len(services.my_comments(citizen)))), status


# ------------------------------------------------------------------ without an account


@bp.route("/privacy/erase", methods=["GET", "POST"])
@commits
def erase_request():
    """Erase one comment's personal data with its tracking number and email (no account)."""
    form = ErasureRequestForm()
    if form.validate_on_submit():
        privacy.request_erasure(form.tracking_no.data, form.email.data)
        return render_template("citizens/erase_requested.html")
    status = 422 if request.method == "POST" else 200
    return render_template("citizens/erase_request.html", form=form), status


@bp.route("/privacy/erase/<token>", methods=["GET", "POST"])
@commits
def erase_comment(token: str):
    """The link mailed for an erasure request: confirm with a button."""
    form = ConfirmForm()
    try:
        comment = privacy.comment_for_erasure(token)
    except (LinkInvalid, LinkExpired) as error:
        return link_error(error, again=url_for("citizens.erase_request"))
    if comment is None:
        return render_template("citizens/erased.html", already=True)
    if request.method == "POST" and form.validate_on_submit():
        privacy.erase_comment_by_token(token)
        return render_template("citizens/erased.html", comment=comment)
    return render_template(
        "citizens/confirm.html", form=form, title=_("确认删除个人信息"),
        text=_("将删除意见 %(no)s 中的电子邮箱、联系电话、署名和附件；未公开的意见内容一并删除，"
               "已公开的意见内容作为公共记录以匿名方式保留。此操作不能撤销。",
               no=comment.tracking_no),
        button=_("确认删除"),
    )
