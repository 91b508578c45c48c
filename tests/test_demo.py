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


def test_the_demo_shows_what_the_comments_changed(demo, client):
    """A complete chain: draft → comments → report → policy, with changes from comments, its
    adopted answers linked to the articles they changed, filed, and the document it replaced."""
    policy = db.session.scalar(db.select(Policy).where(
        Policy.document_number == "郑州市人民政府令第263号"))
    html = client.get(f"/policies/{policy.id}/changes").get_data(as_text=True)
    assert "条是根据公众意见修改的" in html and "<ins>" in html and "<del>" in html
    assert "促成本条修改的意见" in html
    assert "其中 0 条" not in html
    page = client.get(f"/policies/{policy.id}").get_data(as_text=True)
    assert "替代了：" in page and "郑政〔2019〕22号" in page and "备案" in page
    older = db.session.scalar(db.select(Policy).where(
        Policy.document_number == "郑政〔2019〕22号"))
    assert "本文件已被替代" in client.get(f"/policies/{older.id}").get_data(as_text=True)
    assert client.get(f"/policies/{policy.id}.docx").status_code == 200
