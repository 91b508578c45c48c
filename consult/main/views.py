"""Home page and health check."""

from flask import jsonify
from sqlalchemy import text

from consult.extensions import db
from consult.main import bp


@bp.get("/healthz")
def healthz():
    """Database reachable and outbox backlog; 503 when the database is down."""
    from consult.mail import backlog

    try:
        db.session.execute(text("SELECT 1"))
        queued = backlog()
    except Exception:
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "down", "outbox_backlog": None}), 503
    return jsonify({"status": "ok", "database": "ok", "outbox_backlog": queued})
