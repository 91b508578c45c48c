"""The platform office's administration at /admin (F24): platform admins only (403 to every
unit's staff, the login page to anyone signed out). Thin views: each loads, checks, calls one
service with `actor=current_user`, commits once (`@commits`) and redirects."""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from consult import audit, mail, settings
from consult.admin import audit_log, policy, services
from consult.admin.forms import (
    ActionForm,
    ApiTokenForm,
    InviteForm,
    NameForm,
    RoleForm,
    UnitForm,
)
from consult.apitokens.models import ApiToken
from consult.auth.models import Membership, Role, Unit, User
from consult.errors import Conflict, ValidationFailed
from consult.extensions import db
from consult.paging import int_param
from consult.web import commits, form_errors, paginate, staff_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    """Signed out: the login page; signed in without the admin role: 403."""

    @wraps(view)
    @staff_required
    def wrapped(*args, **kwargs):
        if not policy.can_administer(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.app_context_processor
def _links():
    return {"can_administer": lambda: policy.can_administer(current_user)}


def _private(body, status: int = 200):
    """Administration pages name staff: never kept by a shared cache."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@admin_required
def index():
    """What the platform office administers, with the audit chain's size and mail backlog."""
    counts = {
        "units": db.session.scalar(db.select(db.func.count(Unit.id))),
        "users": db.session.scalar(db.select(db.func.count(User.id)).where(User.active)),
        "inactive": db.session.scalar(db.select(db.func.count(User.id))
                                      .where(User.active.is_(False))),
        "audit": db.session.scalar(db.select(db.func.count(audit.AuditEvent.id))),
        "outbox": mail.backlog(),
        "overrides": len(settings.overrides()),
        "tokens": services.active_api_tokens(),
    }
    return _private(render_template("admin/index.html", counts=counts))


# ------------------------------------------------------------------------------ units


@bp.get("/units")
@admin_required
def units():
    """Every unit under its parent, with its staff count."""
    staff = dict(db.session.execute(
        db.select(Membership.unit_id, db.func.count(db.distinct(Membership.user_id)))
        .group_by(Membership.unit_id)).all())
    return _private(render_template("admin/units.html", tree=services.unit_tree(),
                                    staff=staff))


def _unit_form(unit: Unit | None) -> UnitForm:
    form = UnitForm(obj=unit) if request.method == "GET" else UnitForm()
    excluded = unit.descendant_ids() if unit is not None else set()
    form.parent_id.choices = [(None, _("（无，顶级单位）"))] + [
        (u.id, "\u3000" * depth + u.name) for u, depth in services.unit_tree()
        if u.id not in excluded]
    return form


def _unit_input(form: UnitForm) -> services.UnitInput:
    return services.UnitInput(name=form.name.data, short_name=form.short_name.data,
                              parent_id=form.parent_id.data,
                              is_legal_office=bool(form.is_legal_office.data))


@bp.route("/units/new", methods=["GET", "POST"])
@admin_required
@commits
def unit_new():
    """Add a unit under a parent (or at the top)."""
    form = _unit_form(None)
    message = None
    if form.validate_on_submit():
        with form_errors(form) as failed:
            unit = services.create_unit(_unit_input(form), actor=current_user)
        if not failed:
            flash(_("已新增单位“%(name)s”。", name=unit.name), "success")
            return redirect(url_for(".units"), 303)
        message = failed.message
    status = 422 if request.method == "POST" else 200
    return _private(render_template("admin/unit_form.html", form=form, unit=None,
                                    message=message), status)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@admin_required
@commits
def unit_edit(unit_id: int):
    """Rename a unit, move it, mark it as the legal office; its history below."""
    unit = db.get_or_404(Unit, unit_id)
    form = _unit_form(unit)
    message = None
    if form.validate_on_submit():
        with form_errors(form) as failed:
            changed = services.update_unit(unit, _unit_input(form), actor=current_user)
        if not failed:
            flash(_("已保存。") if changed else _("没有修改。"), "success")
            return redirect(url_for(".units"), 303)
        message = failed.message
    status = 422 if request.method == "POST" else 200
    return _private(render_template("admin/unit_form.html", form=form, unit=unit,
                                    message=message, events=audit.events_for(unit)), status)


# ------------------------------------------------------------------------------ accounts


def _all_units() -> list[Unit]:
    return db.session.scalars(db.select(Unit).order_by(Unit.name)).all()


@bp.get("/users")
@admin_required
def users():
    """Staff accounts, by unit and status, searchable by name or e-mail."""
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status", "active")
    if status not in ("active", "inactive", "all"):
        abort(400)
    query = db.select(User).order_by(User.name, User.id)
    if q:
        query = query.where(db.or_(User.name.icontains(q, autoescape=True),
                                   User.email.icontains(q, autoescape=True)))
    if status != "all":
        query = query.where(User.active.is_(status == "active"))
    unit_id = int_param("unit", minimum=1)
    if unit_id:
        query = query.where(User.memberships.any(Membership.unit_id == unit_id))
    page = paginate(query.options(db.selectinload(User.memberships)
                                  .selectinload(Membership.unit)))
    return _private(render_template("admin/users.html", page=page, q=q, status=status,
                                    unit_id=unit_id, units=_all_units()))


@bp.route("/users/invite", methods=["GET", "POST"])
@admin_required
@commits
def user_invite():
    """Open an account with a role in a unit; its owner gets a mail to set the password."""
    form = InviteForm(units=_all_units())
    message = None
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        with form_errors(form) as failed:
            user = services.invite_user(email=form.email.data, name=form.name.data, unit=unit,
                                        role=Role(form.role.data), actor=current_user)
        if not failed:
            flash(_("已开通账号，设置密码的邮件已发往 %(email)s。", email=user.email), "success")
            return redirect(url_for(".user_detail", user_id=user.id), 303)
        message = failed.message
    status = 422 if request.method == "POST" else 200
    return _private(render_template("admin/invite.html", form=form, message=message), status)


def _user_page(user: User, *, name_form=None, role_form=None, message=None, status=200):
    return _private(render_template(
        "admin/user.html", user=user, name_form=name_form or NameForm(obj=user),
        role_form=role_form or RoleForm(units=_all_units()), action_form=ActionForm(),
        message=message, events=audit.events_for(user)), status)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
@commits
def user_detail(user_id: int):
    """One account: its name (editable), roles, status and history."""
    user = db.get_or_404(User, user_id)
    if request.method == "GET":
        return _user_page(user)
    form = NameForm()
    if form.validate_on_submit():
        with form_errors(form) as failed:
            services.rename_user(user, form.name.data, actor=current_user)
        if not failed:
            flash(_("已保存。"), "success")
            return redirect(url_for(".user_detail", user_id=user.id), 303)
    return _user_page(user, name_form=form, status=422)


def _act(user: User, action, done: str):
    """A button on the account page: the service, then back with its outcome."""
    form = ActionForm()
    if not form.validate_on_submit():
        return _user_page(user, message=_("表单已失效，请刷新页面后重试。"), status=400)
    try:
        action(user, actor=current_user)
    except Conflict as error:
        return _user_page(user, message=error.message, status=409)
    flash(done, "success")
    return redirect(url_for(".user_detail", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/roles")
@admin_required
@commits
def user_add_role(user_id: int):
    """Give the account a role in a unit (and the units below it)."""
    user = db.get_or_404(User, user_id)
    form = RoleForm(units=_all_units())
    if not form.validate_on_submit():
        return _user_page(user, role_form=form, status=422)
    unit = db.session.get(Unit, form.unit_id.data)
    try:
        services.add_role(user, unit, Role(form.role.data), actor=current_user)
    except Conflict as error:
        return _user_page(user, role_form=form, message=error.message, status=409)
    flash(_("已授予角色。"), "success")
    return redirect(url_for(".user_detail", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/roles/<int:membership_id>/remove")
@admin_required
@commits
def user_remove_role(user_id: int, membership_id: int):
    """Take one role away."""
    user = db.get_or_404(User, user_id)
    membership = db.get_or_404(Membership, membership_id)
    if membership.user_id != user.id:
        abort(404)
    return _act(user, lambda u, actor: services.remove_role(membership, actor=actor),
                _("已撤销角色。"))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
@commits
def user_deactivate(user_id: int):
    """Stop the account; every session it has ends at once."""
    return _act(db.get_or_404(User, user_id), services.deactivate,
                _("账号已停用，其所有登录已失效。"))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
@commits
def user_reactivate(user_id: int):
    return _act(db.get_or_404(User, user_id), services.reactivate, _("账号已恢复。"))


@bp.post("/users/<int:user_id>/reset")
@admin_required
@commits
def user_reset(user_id: int):
    """Mail the account a link to set a new password."""
    return _act(db.get_or_404(User, user_id), services.send_password_reset,
                _("重设密码的邮件已发出。"))


# ------------------------------------------------------------------------------ API tokens


def _tokens_page(form: ApiTokenForm, *, created: str | None = None, status: int = 200):
    unit_id = int_param("unit", minimum=1)
    shown = request.args.get("status", "all")
    if shown not in services.TOKEN_STATUSES:
        abort(400)
    page = paginate(services.api_tokens(current_user, unit_id=unit_id, status=shown))
    return _private(render_template(
        "admin/api_tokens.html", page=page, form=form, created=created,
        revoke_form=ActionForm(), units=services.unit_tree(), unit_id=unit_id, status=shown),
        status)


@bp.route("/api-tokens", methods=["GET", "POST"])
@admin_required
@commits
def api_tokens():
    """Every unit's API tokens, filtered by unit and status; issue one for any unit (its
    plaintext shown once, on this answer only)."""
    form = ApiTokenForm(units=services.unit_tree())
    if request.method == "GET":
        return _tokens_page(form)
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    unit = db.session.get(Unit, form.unit_id.data)
    with form_errors(form, fields={"user": "email"}) as failed:
        _token, created = services.issue_api_token(
            unit=unit, email=form.email.data, name=form.name.data, scopes=form.scopes.data,
            expires_in_days=form.expires_in_days.data, actor=current_user)
    if failed:
        return _tokens_page(form, status=422)
    flash(_("接口令牌已创建。请立即复制保存：离开本页后将无法再次查看。"), "success")
    return _tokens_page(ApiTokenForm(formdata=None, units=services.unit_tree()),
                        created=created)


@bp.post("/api-tokens/<int:token_id>/revoke")
@admin_required
@commits
def api_token_revoke(token_id: int):
    """Revoke a token of any unit at once: its next request is 401."""
    token = db.get_or_404(ApiToken, token_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.revoke_api_token(token, actor=current_user):
        flash(_("接口令牌“%(name)s”已吊销。", name=token.name), "success")
    else:
        flash(_("该接口令牌已经吊销。"), "info")
    return redirect(url_for(".api_tokens"), 303)


# ------------------------------------------------------------------------------ settings


def _settings_page(values, *, errors=None, message=None, status=200):
    return _private(render_template(
        "admin/settings.html", specs=services.SETTINGS, values=values,
        defaults=services.defaults(), saved=settings.overrides(), errors=errors or {},
        window_types=services.WINDOW_TYPES, form=ActionForm(), message=message), status)


def _form_values() -> dict:
    raw = {}
    for spec in services.SETTINGS:
        if spec.kind == "minimums":
            raw[spec.key] = {code: request.form.get(f"{spec.key}-{code}", "")
                             for code in services.WINDOW_TYPES}
        else:
            raw[spec.key] = request.form.get(spec.key, "")
    return raw


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
@commits
def settings_page():
    """Window minimums, holidays, deadlines, retention, site identity: saved values override
    the environment's for what is decided afterwards; every change audited."""
    if request.method == "GET":
        return _settings_page(services.current_values())
    form = ActionForm()
    raw = _form_values()
    if not form.validate_on_submit():
        return _settings_page(raw, message=_("表单已失效，请刷新页面后重试。"), status=400)
    try:
        with db.session.begin_nested():
            changed = services.save_settings(raw, actor=current_user)
    except ValidationFailed as error:
        return _settings_page(raw, errors=error.fields, message=error.message, status=422)
    flash(_("已保存 %(n)d 项设置。", n=len(changed)) if changed else _("没有修改。"),
          "success")
    return redirect(url_for(".settings_page"), 303)


# ------------------------------------------------------------------------------ audit log


@bp.get("/audit")
@admin_required
def audit_index():
    """Every audited action, the latest first, with filters and the export."""
    filters = audit_log.filters_from(request.args)
    page = paginate(audit_log.query(filters).options(db.selectinload(audit.AuditEvent.actor)),
                    per_page=50)
    return _private(render_template("admin/audit.html", page=page, filters=filters,
                                    choices=audit_log.choices(), args=filters.args()))


@bp.get("/audit.csv")
@admin_required
def audit_csv():
    """The matching audit rows as CSV, streamed."""
    filters = audit_log.filters_from(request.args)
    response = Response(stream_with_context(audit_log.csv_lines(filters)),
                        mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return _private(response)


@bp.get("/audit/verify")
@admin_required
def audit_verify():
    """Walk the hash chain from its first row (`flask audit verify` on the page)."""
    return _private(render_template("admin/audit_verify.html", result=audit.verify()))
