"""Views of the policies domain: public pages (public.py) and the staff workspace (manage.py)."""

from flask import Blueprint

bp = Blueprint("policies", __name__)

from consult.policies.views import manage, public, records  # noqa: E402,F401
