"""Consultation pages: public (public.py) and the staff workspace (manage.py)."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)
