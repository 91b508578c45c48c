"""The one commit point of a state-changing view (`consult.web.commits`, issue 10, 4).

A success (2xx, 3xx) is committed before it is sent, so an answer of "saved" is never given for
something that was not; a commit that fails is the busy-database 503, with nothing saved and
no "saved" message left behind. A refusal (an error status or an exception) rolls back what the
view had done, and takes back what it flashed.
"""

from __future__ import annotations

import sqlite3

import pytest
from flask import abort, flash, session
from sqlalchemy.exc import OperationalError

from consult.comments.models import Comment
from consult.extensions import db
from consult.web import commits
from tests.conftest import csrf_from


def _count_comments() -> int:
    return db.session.scalar(db.select(db.func.count(Comment.id)))


@pytest.fixture
def c(make):
    consultation = make.consultation("open", title="原来的标题")
    db.session.commit()  # what a request finds already there
    return consultation


def _call(app, view, method="POST"):
    with app.test_request_context("/", method=method):
        response = view()
        return response, list(session.get("_flashes", []))


def test_a_success_is_committed_before_it_is_answered(app, c):
    @commits
    def view():
        c.title = "新标题"
        flash("已保存。", "success")
        return "", 302, {"Location": "/"}

    response, flashes = _call(app, view)
    assert response.status_code == 302 and ("success", "已保存。") in flashes
    db.session.rollback()  # whatever was not committed goes now
    assert c.title == "新标题"


@pytest.mark.parametrize("status", [409, 422, 503])
def test_an_error_status_rolls_back_and_takes_back_its_messages(app, c, status):
    @commits
    def view():
        c.title = "改了一半"
        db.session.flush()
        flash("已保存。", "success")
        return "refused", status

    response, flashes = _call(app, view)
    assert response.status_code == status and flashes == []
    assert c.title == "原来的标题"


def test_an_exception_rolls_back_and_propagates(app, c):
    @commits
    def view():
        c.title = "改了一半"
        db.session.flush()
        abort(403)

    with pytest.raises(Exception) as raised:
        _call(app, view)
    assert getattr(raised.value, "code", None) == 403
    assert c.title == "原来的标题"


def _locked(*args, **kwargs):
    raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))


def test_a_commit_that_fails_is_not_answered_as_saved(client, c, monkeypatch):
    """The commit of a comment fails (the database is locked): 503 with Retry-After, no
    redirect to a receipt, no comment, and no "submitted" message on the next page."""
    page = f"/consultations/{c.id}/comment"
    token = csrf_from(client.get(page).get_data(as_text=True))
    monkeypatch.setattr(db.session, "commit", _locked)  # the view's commit (`@commits`)
    response = client.post(page, data={"csrf_token": token, "article": "",
                                       "body": "建议延长公示期限。", "category": "individual"})
    monkeypatch.undo()
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "Location" not in response.headers
    assert _count_comments() == 0
    assert "您的意见已提交" not in client.get("/").get_data(as_text=True)


def test_without_the_commit_point_nothing_is_saved(app, c):
    """What the commit point is for: a view that forgets to commit loses its work when the
    request's session ends (so the url_map test in test_architecture.py keeps every POST view
    wrapped)."""
    def forgetful():
        c.title = "没有提交"
        return "", 302

    _call(app, forgetful)
    db.session.rollback()
    assert c.title == "原来的标题"
