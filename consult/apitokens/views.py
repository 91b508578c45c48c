"""The API token page (/staff/api-tokens): platform admins see every unit's tokens, a unit's
approvers their units'; create (the token is shown once) and revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.apitokens import services as tokens
from consult.apitokens.forms import TokenForm
from consult.apitokens.models import ApiToken
from consult.auth.models import Unit, User
from consult.extensions import db
from consult.web import ConfirmForm, commits, form_errors, load_or_403, staff_required

bp = Blueprint("apitokens", __name__)


def _form() -> TokenForm:
    form = TokenForm()
    form.unit_id.choices = [(u.id, u.name) for u in tokens.manageable_units(current_user)]
    return form


def _page(form: TokenForm, *, created: str | None = None, status: int = 200):
    listed = db.session.scalars(tokens.tokens_for(current_user).options(
        db.selectinload(ApiToken.user), db.selectinload(ApiToken.unit))).all()
    return render_template("apitokens/staff/tokens.html", form=form, tokens=listed,
                           created=created, revoke_form=ConfirmForm()), status


@bp.route("/staff/api-tokens", methods=["GET", "POST"])
@staff_required
@commits
def manage_tokens():
    """The tokens of the units the user manages, and a form for a new one."""
    form = _form()
    allowed = {unit_id for unit_id, _name in form.unit_id.choices}
    if not allowed:
        abort(403)  # editors: only admins and approvers manage tokens
    if request.method == "GET":
        return _page(form)
    if request.form.get("unit_id", type=int) not in allowed:
        abort(403)  # another unit's token
    if not form.validate():
        return _page(form, status=422)
    unit = db.session.get(Unit, form.unit_id.data)
    user = db.session.scalar(db.select(User).where(
        db.func.lower(User.email) == form.email.data.lower()))
    if user is None:
        form.email.errors = [*form.email.errors, _("没有这个邮箱的工作人员账号。")]
        return _page(form, status=422)
    created = None
    with form_errors(form, fields={"user": "email"}) as failed:
        _token, created = tokens.create_token(
            user=user, unit=unit, name=form.name.data, scopes=form.scopes.data,
            expires_in_days=form.expires_in_days.data, actor=current_user)
    if failed:
        return _page(form, status=422)
    flash(_("接口令牌已创建。请立即复制保存：离开本页后将无法再次查看。"), "success")
    return _page(_form(), created=created)


@bp.post("/staff/api-tokens/<int:token_id>/revoke")
@staff_required
@commits
def manage_revoke_token(token_id: int):
    """Revoke a token at once: its next request is 401."""
    token = load_or_403(ApiToken, token_id, lambda user, t: tokens.can_manage(user, t.unit))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tokens.revoke_token(token, actor=current_user)
    flash(_("接口令牌已吊销。"), "success")
    return redirect(url_for(".manage_tokens"))
