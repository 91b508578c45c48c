"""Views of the answers domain."""

from flask import Blueprint

bp = Blueprint("answers", __name__)
