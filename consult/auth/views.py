"""Staff login and logout."""

from flask import Blueprint

from consult.auth.models import User
from consult.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))
