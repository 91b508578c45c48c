"""The app's routes: every blueprint, registered on the app by `create_app`.

The only module that imports the views (`.importlinter`: views are the top layer, imported by
nothing but this), so that no domain, read model or core module can reach a page.
"""

from __future__ import annotations

from flask import Flask

from consult.admin.views import bp as admin_bp
from consult.answers.views import bp as answers_bp
from consult.api.views import bp as api_bp
from consult.auth.views import bp as auth_bp
from consult.catalogue.views import bp as catalogue_bp
from consult.citizens.views import bp as citizens_bp
from consult.comments.views import bp as comments_bp
from consult.consultations.views import bp as consultations_bp
from consult.extensions import csrf
from consult.hearings.views import bp as hearings_bp
from consult.jobs.views import bp as jobs_bp
from consult.main.views import bp as main_bp
from consult.oversight.views import bp as oversight_bp
from consult.policies.views import bp as policies_bp
from consult.security.views import bp as security_bp


def register_blueprints(app: Flask) -> None:
    """Every blueprint, on `app` (the JSON API without CSRF: it uses no session cookie)."""
    for bp in (main_bp, auth_bp, consultations_bp, comments_bp, answers_bp, policies_bp):
        app.register_blueprint(bp)
    app.register_blueprint(citizens_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(hearings_bp)
    app.register_blueprint(security_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(oversight_bp)
    app.register_blueprint(admin_bp)
    csrf.exempt(api_bp)  # token/anonymous JSON API, no session cookie
    app.register_blueprint(api_bp)
