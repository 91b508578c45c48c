"""Consultation pages: public (public.py) and the staff workspace (manage.py)."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)

from consult.consultations.views import (  # noqa: E402,F401
    attachments,
    imports,
    manage,
    public,
    settings,
    versions,
    workflow,
)
