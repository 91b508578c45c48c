"""Views of the answers domain: public pages (public.py) and the staff workspace (manage.py)."""

from flask import Blueprint

bp = Blueprint("answers", __name__)

from consult.answers.views import downloads, groups, manage, public, sheet  # noqa: E402,F401
