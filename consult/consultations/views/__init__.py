"""Consultation pages: public (public.py) and the staff workspace (manage.py)."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)

from consult.consultations.views import manage, public  # noqa: E402,F401
