"""Staff workspace for the catalogue: units and the platform office keep their items (F1).

Every view loads its object, asks `catalogue.policy` whether the user may act (403 when not),
calls one service with `actor=current_user`, commits once and redirects.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult import audit, clock
from consult.auth.models import Unit
from consult.catalogue import policy, services
from consult.catalogue.forms import CatalogueItemForm, StatusForm
from consult.catalogue.models import CatalogueItem
from consult.catalogue.views import bp
from consult.errors import InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.paging import int_param
from consult.web import commits, form_errors, load_or_403, staff_required


def _creatable_units() -> list[Unit]:
    """Units the user may add items to: their own and those below; every unit for admins."""
    ids = policy.unit_ids_for_create(current_user)
    query = db.select(Unit).order_by(Unit.name)
    if ids is not None:
        if not ids:
            return []
        query = query.where(Unit.id.in_(ids))
    return db.session.scalars(query).all()


def _load(item_id: int, check=policy.can_view_staff) -> CatalogueItem:
    """The item, if the user passes `check` for it (404 when unknown, else 403)."""
    return load_or_403(CatalogueItem, item_id, check)


def abilities(item: CatalogueItem) -> dict[str, bool]:
    """The buttons the page shows: the same checks the actions make."""
    return {
        "edit": policy.can_manage(current_user, item),
        "publish": policy.can_publish(current_user, item),
        "status": policy.can_set_status(current_user, item),
    }


@bp.get("/staff/catalogue")
@staff_required
def manage_index():
    """The catalogue items of the user's units, published or not, one year at a time."""
    year = int_param("year", minimum=services.YEAR_MIN) or clock.today().year
    if year > services.YEAR_MAX:
        abort(400)
    scoped = policy.staff_query(current_user)
    years = sorted(
        set(db.session.scalars(scoped.with_only_columns(CatalogueItem.year).order_by(None)
                               .distinct())) | {clock.today().year, year},
        reverse=True,
    )
    items = db.session.scalars(
        scoped.where(CatalogueItem.year == year).options(db.selectinload(CatalogueItem.unit))
    ).all()
    return render_template("catalogue/staff/catalogue_index.html", items=items, year=year,
                           years=years, can_create=bool(_creatable_units()))


def _render_form(form, *, item=None, message=None, status=200):
    return render_template("catalogue/staff/catalogue_form.html", form=form, item=item,
                           message=message), status


@bp.route("/staff/catalogue/new", methods=["GET", "POST"])
@staff_required
@commits
def manage_new():
    """Add an item to a unit's catalogue; it stays unpublished until an approver publishes it."""
    units = _creatable_units()
    if not units:
        abort(403)
    form = CatalogueItemForm()
    del form.reason
    form.unit_id.choices = [(u.id, u.name) for u in units]
    if request.method == "GET":
        form.year.data = clock.today().year
        if len(units) == 1:
            form.unit_id.data = units[0].id
        return _render_form(form)
    unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data is not None else None
    if form.unit_id.data is not None and (unit is None or not policy.can_create(current_user,
                                                                              unit)):
        abort(403)
    if not form.validate():
        return _render_form(form, status=422)
    with form_errors(form) as failed:
        item = services.create_item(unit, form.item_input(), actor=current_user)
    if failed:
        return _render_form(form, message=failed.message, status=422)
    flash(_("决策事项已保存（编号 %(code)s），尚未公布。", code=item.code), "success")
    return redirect(url_for(".manage_detail", item_id=item.id))


@bp.get("/staff/catalogue/<int:item_id>")
@staff_required
def manage_detail(item_id: int):
    """One item: its fields, consultations, change history and who did what."""
    return render_detail(_load(item_id))


def render_detail(item: CatalogueItem, *, status_form=None, message=None, status=200):
    next_status = services.next_status(item.status)
    form = status_form or StatusForm(formdata=None, data={"status": next_status})
    return render_template(
        "catalogue/staff/catalogue_detail.html", item=item, can=abilities(item),
        next_status=next_status, status_form=form, events=audit.events_for(item), message=message,
    ), status


@bp.route("/staff/catalogue/<int:item_id>/edit", methods=["GET", "POST"])
@staff_required
@commits
def manage_edit(item_id: int):
    """Edit an item; once published the change and its reason are shown to the public."""
    item = _load(item_id, policy.can_manage)
    if request.method == "GET":
        form = CatalogueItemForm(obj=item, formdata=None)
    else:
        form = CatalogueItemForm()
    del form.unit_id
    if item.published_at is None:
        del form.reason
    else:
        form.reason.flags.required = True  # the service refuses a change without one
    if request.method == "GET":
        return _render_form(form, item=item)
    if not form.validate():
        return _render_form(form, item=item, status=422)
    reason = form.reason.data if "reason" in form else None
    with form_errors(form) as failed:
        services.update_item(item, form.item_input(), actor=current_user, reason=reason)
    if failed:
        return _render_form(form, item=item, message=failed.message, status=422)
    if item.published_at is not None:
        flash(_("决策事项已调整，调整内容和理由已在目录中公布。"), "success")
    else:
        flash(_("决策事项已更新。"), "success")
    return redirect(url_for(".manage_detail", item_id=item.id))


@bp.post("/staff/catalogue/<int:item_id>/publish")
@staff_required
@commits
def manage_publish(item_id: int):
    """Approver (or the platform office) puts the item in the public catalogue."""
    item = db.get_or_404(CatalogueItem, item_id)
    policy.require_publish(current_user, item)
    services.publish_item(item, actor=current_user)
    flash(_("决策事项已公布。此后的调整将在目录中公开记录。"), "success")
    return redirect(url_for(".manage_detail", item_id=item.id))


@bp.post("/staff/catalogue/<int:item_id>/status")
@staff_required
@commits
def manage_status(item_id: int):
    """Move the item one step on: planned → consulting → decided → implemented."""
    item = _load(item_id, policy.can_manage)
    form = StatusForm()
    if not form.validate():
        return render_detail(item, status_form=form, status=422)
    with form_errors(form, catch=(ValidationFailed, InvalidTransition)) as failed:
        services.set_status(item, form.status.data, actor=current_user, reason=form.reason.data)
    if failed:
        return render_detail(item, status_form=form, message=failed.message, status=failed.status)
    flash(_("状态已更新。"), "success")
    return redirect(url_for(".manage_detail", item_id=item.id))
