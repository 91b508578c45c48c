"""Home page and health check."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import text

from consult import clock, pagecache
from consult.comments.services import received_counts
from consult.consultations import queries
from consult.errors import ConsultError
from consult.extensions import db
from consult.i18n import LARGE_COOKIE, LARGE_COOKIE_MAX_AGE
from consult.jobs.queue import counts
from consult.jobs.transport import redis_status
from consult.mail import backlog
from consult.policies.models import Policy
from consult.security.https import cookie_secure
from consult.web import safe_next

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


@bp.get("/large-text")
def large_text():
    """The 长者模式 (large text) switch that needs no JavaScript: `?on=1` or `?on=0` is
    remembered by this browser (the cookie large.js sets too, for a year) and `next`, a path
    on this site, is shown again in that mode (anything else: the home page)."""
    on = request.args.get("on")
    if on not in ("0", "1"):
        raise ConsultError(_("长者模式开关的参数有误：on 只能是 1（开启）或 0（关闭）。"),
                           code="bad_large_text")
    response = redirect(safe_next(request.args.get("next")) or "/", code=303)
    response.set_cookie(LARGE_COOKIE, on, max_age=LARGE_COOKIE_MAX_AGE, path="/",
                        samesite="Lax", secure=cookie_secure(), httponly=False)
    response.headers["Cache-Control"] = "no-store"
    return response


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
