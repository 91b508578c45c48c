"""Home page and health check."""

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from consult import clock, pagecache
from consult.comments.services import received_counts
from consult.consultations import queries
from consult.extensions import db
from consult.jobs.queue import counts
from consult.jobs.transport import redis_status
from consult.mail import backlog
from consult.policies.models import Policy

bp = Blueprint("main", __name__)

HOME_OPEN = 6
HOME_REPORTED = 5
HOME_POLICIES = 5


@bp.get("/")
@pagecache.page()
def index():
    """Open consultations closing soonest, recent reports and policies, a receipt lookup."""
    open_now = db.session.scalars(queries.public_list_query("open").limit(HOME_OPEN)).all()
    open_total = db.session.scalar(db.select(db.func.count()).select_from(
        queries.public_list_query("open").order_by(None).subquery()))
    policies = db.session.scalars(
        db.select(Policy).where(Policy.published_at.is_not(None))
        .order_by(Policy.published_at.desc(), Policy.id.desc()).limit(HOME_POLICIES)
    ).all()
    pagecache.follows_every_consultation()
    return render_template(
        "main/index.html",
        open_now=open_now,
        open_total=open_total,
        counts=received_counts(open_now),
        reported=[(c, c.report_published_at)
                  for c in queries.recently_reported(HOME_REPORTED)],
        policies=policies,
        today=clock.today(),
    )


@bp.get("/help")
def help():  # noqa: A001 - the page's name
    """How to take part: find a draft, comment, follow a comment, read a report; 长者模式."""
    return render_template("main/help.html")


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement: what the site does (WCAG 2.1 AA, 适老化), known limits,
    and whom to tell about a barrier."""
    return render_template("main/accessibility.html")


@bp.get("/privacy")
def privacy():
    """The privacy notice: purpose, what is published, retention, the commenter's rights."""
    return render_template("main/privacy.html")


@bp.get("/healthz")
def healthz():
    """Database, Redis and queue depth. 503 when the database is down; 200 "degraded" when
    Redis is (jobs and mail then run from the database, rate limits count per process)."""
    redis = redis_status(current_app)
    try:
        db.session.execute(text("SELECT 1"))
        queued = backlog()
        jobs = counts()
    except Exception:
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "down", "redis": redis,
                        "outbox_backlog": None, "queued_jobs": None, "running_jobs": None,
                        "failed_jobs": None}), 503
    return jsonify({"status": "degraded" if redis == "down" else "ok", "database": "ok",
                    "redis": redis, "outbox_backlog": queued, "queued_jobs": jobs["queued"],
                    "running_jobs": jobs["running"], "failed_jobs": jobs["failed"]})
