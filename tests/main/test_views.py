"""The home page."""

from consult.answers.services import publish_report


def test_home_shows_open_consultations_reports_policies_and_lookup(client, make):
    soon = make.consultation("open", title="即将截止的意见征集")
    make.consultation("draft", title="不应出现的草稿")
    c = make.consultation("closed", title="已公布采纳情况的意见征集")
    approver = make.user("approver", c.unit)
    publish_report(c, summary="总结", actor=approver)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert soon.title in html and "不应出现的草稿" not in html
    assert c.title in html and f"/consultations/{c.id}/report" in html
    assert 'action="/receipts"' in html and 'name="tracking_no"' in html


def test_home_lists_open_consultations_closing_soonest_first(client, make, travel):
    from datetime import timedelta

    from consult import clock

    now = clock.now()
    later = make.consultation("open", title="晚截止", closes_at=now + timedelta(days=20))
    sooner = make.consultation("open", title="早截止", closes_at=now + timedelta(days=3))
    html = client.get("/").get_data(as_text=True)
    assert html.index(sooner.title) < html.index(later.title)


def test_healthz_still_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["database"] == "ok"


def test_healthz_reports_the_outbox_backlog_and_503_when_the_database_is_down(
        tmp_path, real_session):
    """A load balancer takes a node out when its database does not answer."""
    from consult import create_app
    from consult.extensions import db

    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'health.db'}"})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "redis": "not_configured",
                    "outbox_backlog": 0, "queued_jobs": 0, "running_jobs": 0, "failed_jobs": 0}
    down = create_app({"TESTING": True,
                       "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent-dir/consult.db"})
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "down",
                                   "redis": "not_configured", "outbox_backlog": None,
                                   "queued_jobs": None, "running_jobs": None,
                                   "failed_jobs": None}
    for each in (app, down):
        with each.app_context():
            db.engine.dispose()
