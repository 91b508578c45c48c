"""The demo data set loads, twice without duplicates, and every public path serves it."""

import pytest

from consult.answers.models import Report
from consult.comments.models import Comment
from consult.consultations.models import Consultation, State
from consult.demo import load_demo
from consult.extensions import db
from consult.policies.models import Interpretation, Policy


@pytest.fixture
def demo():
    first = load_demo()
    return first


def test_demo_is_idempotent_and_realistic(demo):
    assert demo["consultations"] >= 5 and demo["comments"] >= 50
    again = load_demo()
    assert all(count == 0 for count in again.values()), again
    statuses = {c.status for c in db.session.scalars(db.select(Consultation))}
    assert {State.OPEN, State.CLOSED, State.REPORT_PUBLISHED, State.POLICY_ISSUED} <= statuses
    open_ones = [c for c in db.session.scalars(db.select(Consultation)) if c.status == State.OPEN]
    assert max(len(c.current_version.articles) for c in open_ones) >= 10
    bodies = [c.body for c in db.session.scalars(db.select(Comment))]
    assert any("見" in b or "條" in b for b in bodies)  # some in traditional characters


def test_every_public_path_serves_the_demo(demo, client):
    consultations = db.session.scalars(db.select(Consultation)).all()
    paths = ["/", "/consultations", "/consultations?status=all", "/consultations?status=closed",
             "/consultations?status=reported", "/policies", "/receipts", "/healthz",
             "/login", "/api/v1/consultations?status=all"]
    for c in consultations:
        if c.state in (State.DRAFT, State.PENDING_APPROVAL):
            continue
        paths += [f"/consultations/{c.id}", f"/api/v1/consultations/{c.id}",
                  f"/api/v1/consultations/{c.id}/comments"]
        if c.status == State.OPEN:
            paths.append(f"/consultations/{c.id}/comment")
    for report in db.session.scalars(db.select(Report)):
        paths += [f"/consultations/{report.consultation_id}/report",
                  f"/api/v1/consultations/{report.consultation_id}/report"]
    paths += [f"/policies/{p.id}" for p in db.session.scalars(db.select(Policy))]
    paths += [f"/interpretations/{i.id}" for i in db.session.scalars(db.select(Interpretation))]
    comment = db.session.scalars(db.select(Comment)).first()
    contacts = {value for c in db.session.scalars(db.select(Comment))
                for value in (c.email, c.phone) if value}
    assert contacts
    paths += [f"/receipts/{comment.tracking_no}", f"/api/v1/receipts/{comment.tracking_no}"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        # Contact data never reaches a public page.
        assert not [value for value in contacts if value in body], path
