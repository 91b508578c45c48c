"""Cached public pages follow the policy chain: a published policy, an answer linked to the
article it changed and a later change in validity show on the next anonymous GET."""

from __future__ import annotations

import pytest

from consult import clock, pagecache
from consult.answers.models import DispositionCode
from consult.answers.services import answer_comment, publish_report
from consult.extensions import db
from consult.policies import services
from consult.policies.models import ChangeKind


@pytest.fixture(autouse=True)
def _empty_cache(app):
    pagecache.cache.clear()


def _get(app, url) -> str:
    response = app.test_client().get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _cached(app, url) -> str:
    app.test_client().get(url)
    response = app.test_client().get(url)
    assert response.headers["X-Page-Cache"] == "hit"
    return response.get_data(as_text=True)


def test_the_chain_shows_on_the_next_get(app, make, unit, approver):
    closed = make.consultation("closed", unit=unit)
    comment = make.comment(closed, article=1, body="建议写明开放范围。")
    answer_comment(comment, DispositionCode.ADOPTED, None, actor=approver)
    publish_report(closed, summary="总结", actor=approver)
    db.session.commit()
    draft, report = f"/consultations/{closed.id}", f"/consultations/{closed.id}/report"
    assert "正式文件已出台" not in _cached(app, draft)
    assert "促成了正式文件" not in _cached(app, report)
    policy = services.create_policy(closed, services.PolicyInput(
        title="开放办法", document_number="郑政〔2026〕501号", issued_on=clock.today(),
        effective_on=None, text="第一条 开放范围如下。"), actor=approver)
    services.publish_policy(policy, actor=approver)
    db.session.commit()
    assert "正式文件已出台" in _get(app, draft)
    services.link_answer(policy, comment.disposition, 1, actor=approver)
    db.session.commit()
    assert "促成了正式文件第一条的修改" in _get(app, report)
    assert "修改：市政府决定" not in _cached(app, draft)
    services.record_change(policy, services.ChangeInput(
        ChangeKind.AMEND, clock.today(), document="市政府决定"),
        actor=approver)
    db.session.commit()
    assert "修改：市政府决定" in _get(app, draft)
