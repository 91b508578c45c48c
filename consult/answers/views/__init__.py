"""Views of the answers domain: public pages (public.py) and the staff workspace (manage.py)."""

from flask import Blueprint

bp = Blueprint("answers", __name__)

from consult.answers.views import (  # noqa: E402,F401
    downloads,
    groups,
    manage,
    public,
    sheet,
    workbench,
)
