"""Views of the comments domain."""

from flask import Blueprint

bp = Blueprint("comments", __name__)
