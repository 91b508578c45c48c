"""Comment pages: public.py (the comment form, receipts), verification.py (the link in the
receipt mail) and manage.py (the staff's moderation and register of other channels)."""

from flask import Blueprint

bp = Blueprint("comments", __name__)

from consult.comments.views import manage, public, verification  # noqa: E402,F401
