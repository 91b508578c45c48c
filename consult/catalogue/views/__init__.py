"""Catalogue pages: the public catalogue (public.py) and the units' workspace (manage.py)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from consult.labels import label

bp = Blueprint("catalogue", __name__)

# What each recorded field is called on the change history (目录调整记录).
FIELD_LABELS = {
    "title": _l("名称"),
    "year": _l("年度"),
    "legal_basis": _l("决策依据"),
    "methods": _l("参与方式"),
    "planned_start": _l("计划开始时间"),
    "planned_end": _l("计划完成时间"),
    "status": _l("状态"),
}

# What each catalogue audit action means, on the item's staff page.
AUDIT_ACTIONS = {
    "create_catalogue_item": _l("新增决策事项"),
    "edit_catalogue_item": _l("修改决策事项"),
    "publish_catalogue_item": _l("公布决策事项"),
    "catalogue_status": _l("更新状态"),
}


@bp.app_template_filter("catalogue_field")
def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


@bp.app_template_filter("catalogue_value")
def field_value(value, name: str) -> str:
    """A recorded value as a reader understands it: labels for codes, "—" for nothing."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "methods":
        return "、".join(label(v, "method") for v in value)
    if name == "status":
        return label(value, "catalogue_status")
    return str(value)


@bp.app_template_filter("catalogue_action")
def action_label(action: str) -> str:
    return str(AUDIT_ACTIONS.get(action, action))


from consult.catalogue.views import manage, public  # noqa: E402,F401
