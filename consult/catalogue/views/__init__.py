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


from consult.catalogue.views import manage, public  # noqa: E402,F401
