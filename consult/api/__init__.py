"""JSON API v1 (SPEC §5)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from consult.api import views  # noqa: E402,F401
