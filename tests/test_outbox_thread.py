"""In the embedded default, mail is delivered by a background thread after the commit
(consult.jobs.transport.Runner; more in tests/jobs/test_runner.py)."""

import time

from consult import create_app
from consult.extensions import db
from consult.mail import OutboxMessage
from tests import factories


def test_receipt_mail_goes_out_after_the_response(tmp_path, caplog, real_session):
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'outbox.db'}",
        "JOBS_BACKGROUND": True, "WTF_CSRF_ENABLED": False, "MAIL_SERVER": "",
    })
    with app.app_context():
        db.create_all()
        consultation = factories.consultation("open")
        db.session.commit()
        url = f"/api/v1/consultations/{consultation.id}/comments"
    client = app.test_client()
    with caplog.at_level("INFO", logger="consult.mail"):
        response = client.post(url, json={"body": "建议增加听证程序。", "category": "individual",
                                          "email": "citizen@example.org"})
        assert response.status_code == 201
        response.close()  # the WSGI server closes the response; then the thread is kicked
        deadline = time.monotonic() + 10
        sent = None
        while time.monotonic() < deadline:
            with app.app_context():
                sent = db.session.scalar(db.select(OutboxMessage.sent_at))
                db.session.remove()
            if sent:
                break
            time.sleep(0.05)
    assert sent is not None, "the background thread did not deliver the receipt"
    assert "citizen@example.org" in caplog.text
    app.extensions["consult_runner"].stop()
    with app.app_context():
        db.engine.dispose()
