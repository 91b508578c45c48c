"""Absolute links, also outside a request (mail built by CLI commands and workers)."""

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint`; outside a request it is built on BASE_URL."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)
