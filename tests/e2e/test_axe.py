"""axe-core (vendored, tests/e2e/vendor/) finds no WCAG 2.1 A/AA violation on any staff or public
page type, at 375 and 1280 px, in the standard and the large-text mode (issue 13), and no page
is wider than the screen (WCAG 1.4.10: a wide table scrolls in its own box).

Screenshots of every page at both widths and in both modes go to $AXE_SHOTS (default
/tmp/axe-shots) to be looked at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from consult.answers.models import CommentGroup, Topic
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation
from consult.extensions import db
from consult.policies.models import Interpretation, Policy

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = Path(os.environ.get("AXE_SHOTS", "/tmp/axe-shots"))
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (375, 1280)
CLOSED = "郑州市就业创业补贴实施办法（征求意见稿）"


def _first(query):
    return db.session.scalars(query.limit(1)).first()


def _id_by_title(title: str) -> int:
    return db.session.scalar(db.select(Consultation.id).where(Consultation.title == title))


@pytest.fixture
def urls(live_app, new_page, login):
    """Every page type, public and staff, with the demo's objects (and a topic found by the
    clustering job, run here: the test server runs no background thread)."""
    from consult.jobs.queue import run_due

    page = new_page()
    login(page, "editor2@demo.consult")
    with live_app.app_context():
        closed = _id_by_title(CLOSED)
    page.goto(f"/staff/consultations/{closed}/workbench")
    page.get_by_role("button", name="查找相同意见").click()
    with live_app.app_context():
        run_due()
    page.goto(f"/staff/consultations/{closed}/workbench")
    page.get_by_role("button", name="按主题归类意见").click()
    with live_app.app_context():
        run_due()
        db.session.remove()
        consultations = db.session.scalars(db.select(Consultation)).all()
        by_status = {}
        for c in consultations:
            by_status.setdefault(c.status.value, c)
        open_ = by_status["open"]
        reported = by_status.get("report_published") or by_status["policy_issued"]
        pending = by_status["pending_approval"]
        comment = _first(db.select(Comment).where(Comment.consultation_id == open_.id,
                                                  Comment.status == CommentStatus.PUBLISHED))
        policy = _first(db.select(Policy).where(Policy.published_at.is_not(None)))
        consulted = _first(db.select(Policy).where(Policy.published_at.is_not(None),
                                                   Policy.consultation_id.is_not(None)))
        interpretation = _first(db.select(Interpretation).where(
            Interpretation.published_at.is_not(None)))
        group = _first(db.select(CommentGroup).where(CommentGroup.consultation_id == closed))
        topic = _first(db.select(Topic).where(Topic.consultation_id == closed))
        item_id = open_.catalogue_item_id
        public = {
            "home": "/", "list": "/consultations?status=all",
            "consultation": f"/consultations/{open_.id}",
            "comment form": f"/consultations/{open_.id}/comment",
            "receipt": f"/receipts/{comment.tracking_no}", "lookup": "/receipts",
            "report": f"/consultations/{reported.id}/report",
            "policies": "/policies", "policy": f"/policies/{policy.id}",
            "interpretation": f"/interpretations/{interpretation.id}",
            "catalogue": "/catalogue", "privacy": "/privacy", "help": "/help",
            "accessibility": "/accessibility", "not found": "/no-such-page",
            "citizen login": "/account/login", "english consultation":
                f"/consultations/{open_.id}?lang=en",
            "version": f"/consultations/{open_.id}/versions/1",
            "policy changes": f"/policies/{consulted.id}/changes",
            "search": "/search?q=%E5%B0%B1%E4%B8%9A", "stats": "/stats",
            "stats yearly": "/stats/yearly", "alerts": "/alerts", "open data": "/data",
            "citizen register": "/account/register", "erase request": "/privacy/erase",
            "staff login": "/login",
        }
        if item_id:
            public["catalogue item"] = f"/catalogue/{item_id}"
        # last: it leaves the session in English
        public["english consultation"] = public.pop("english consultation")
        staff = {
            "dashboard": "/staff", "staff consultation": f"/staff/consultations/{closed}",
            "workbench": f"/staff/consultations/{closed}/workbench",
            "workbench table": f"/staff/consultations/{closed}/workbench?view=table",
            "comment list": f"/staff/consultations/{closed}/comments",
            "groups": f"/staff/consultations/{closed}/groups",
            "report (staff)": f"/staff/consultations/{closed}/report",
            "moderation": f"/staff/consultations/{closed}/moderation",
            "new draft": "/staff/consultations/new",
        }
        if group is not None:
            staff["group"] = f"/staff/groups/{group.id}"
        if topic is not None:
            staff["topic"] = f"/staff/topics/{topic.id}"
        approver = {
            "approve check": f"/staff/consultations/{pending.id}/approve",
            "return check": f"/staff/consultations/{pending.id}/return",
            "report check": f"/staff/consultations/{closed}/report/publish",
        }
    return public, staff, approver


def _audit(page, base: str, name: str, url: str, problems: list) -> None:
    for large in (False, True):
        # the mode as a reader gets it: the browser's choice (the cookie /large-text sets)
        page.context.add_cookies([{"name": "large", "value": "1" if large else "0",
                                   "url": base}])
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            mode = "large" if large else "standard"
            page.goto(url)
            assert page.evaluate(
                "document.documentElement.classList.contains('large')") == large, (name, mode)
            # WCAG 1.4.10 (reflow): at 375 px nothing but a table's own scroller is wider
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                problems.append(f"{name} ({width}px, {mode}): reflow: the page is {wide}px wide")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
            for violation in result["violations"]:
                targets = [", ".join(n["target"]) for n in violation["nodes"][:3]]
                problems.append(f"{name} ({width}px, {mode}): {violation['id']} "
                                f"[{violation['impact']}] {violation['help']} at {targets}")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name.replace(' ', '-')}-{width}-{mode}.png"),
                            full_page=True)


def test_no_wcag_violation_on_any_page_type(new_page, login, urls, server):
    public, staff, approver = urls
    problems: list[str] = []
    page = new_page(bypass_csp=True)  # axe is injected as a script of the test's own
    for name, url in public.items():
        _audit(page, server, name, url, problems)
    page.goto("/?lang=zh_Hans")  # the English page left the session in English
    login(page, "editor2@demo.consult")
    for name, url in staff.items():
        _audit(page, server, name, url, problems)
    boss = new_page(bypass_csp=True)
    login(boss, "approver@demo.consult")
    for name, url in approver.items():
        _audit(boss, server, name, url, problems)
    (SHOTS / "violations.json").write_text(json.dumps(problems, ensure_ascii=False, indent=1))
    assert not problems, "\n".join(problems)
