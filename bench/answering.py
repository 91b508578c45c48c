"""Benchmark: the actions a unit needs to answer 3 000 comments, in a real browser (issue 13).

Run by hand, not in CI (see bench/README.md):

    python bench/answering.py                 # 3 000 comments, workbench, then the old list
    python bench/answering.py --total 600     # a smaller consultation
    python bench/answering.py --old-sample 0  # skip the old list

A consultation of `--total` comments (bench/answering_data.py): half one campaign of slightly
edited letters, 40 % making six points in many people's words, 10 % distinct. The app is
served on a temporary SQLite file (jobs run in its background thread, as on a laptop) and
Debian's Chromium is driven by Playwright as an editor would use it:

1. open the workbench; look for identical comments; open the largest group, confirm it (the
   page lands on its answer form), answer it once;
2. group the rest into topics; answer each topic once (the first topic of a point with a typed
   reason, later topics of the same point by reusing that answer in one click), leaving out
   the members that make another point; a topic of unrelated comments is skipped;
3. answer what is left one at a time with the keyboard: a digit picks the response, `r` goes
   to the reason, Ctrl+Enter saves and shows the next comment.

Counted as the issue defines an action: clicks, key presses that submit, and page loads the
person causes (a `load` event of a new document). Key presses that only pick or move (digits,
`r`), typing, and the pages that reload themselves while a job runs are counted apart, and
printed. At the end every comment must be answered and recorded as seen by the editor.

The old list (`/staff/consultations/<id>/comments`, 50 comments a page, a form per comment)
is then driven the same way for `--old-sample` comments: a click on the response, typing, a
click on save, the reload — and the count is scaled to all comments (printed as such).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import logging  # noqa: E402

from werkzeug.serving import make_server  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.WARNING)

from bench.answering_data import POINTS, comments  # noqa: E402
from consult import clock, create_app  # noqa: E402
from consult.answers.models import CommentSeen  # noqa: E402
from consult.auth.models import Membership, Role, Unit, User  # noqa: E402
from consult.comments.models import Category, Comment, CommentStatus  # noqa: E402
from consult.comments.tracking import new_tracking_no  # noqa: E402
from consult.consultations.models import (  # noqa: E402
    Article,
    Consultation,
    ConsultationType,
    DraftVersion,
    State,
)
from consult.extensions import db  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "bench.editor@example.org", "bench-password-2026"
ARTICLES = 12
# The article each point is about; the campaign is on article 3.
POINT_ARTICLE = {0: 4, 1: 5, 2: 6, 3: 7, 4: 8, 5: 9}
REASONS = {p: f"关于“{name}”的意见，已在修改稿中研究处理。"
           for p, (name, _ways) in enumerate(POINTS)}


class Count:
    """What the person did, by kind; `actions` is the issue's measure."""

    def __init__(self):
        self.kinds: Counter = Counter()
        self.waiting = False  # a job runs: pages reload themselves

    def on_load(self, _page=None):
        self.kinds["auto reloads" if self.waiting else "page loads"] += 1

    @property
    def actions(self) -> int:
        return self.kinds["clicks"] + self.kinds["submitting keys"] + self.kinds["page loads"]


def build(app, total: int) -> int:
    """The consultation, its editor and `total` comments; returns the consultation's id."""
    with app.app_context():
        db.create_all()
        unit = Unit(name="市住房保障局")
        user = User(email=EMAIL, name="周编辑")
        user.set_password(PASSWORD)
        user.memberships.append(Membership(unit=unit, role=Role.EDITOR))
        now = clock.now()
        consultation = Consultation(
            title="住房保障与物业管理办法（征求意见稿）", type=ConsultationType.RULE, unit=unit,
            state=State.SCHEDULED, summary="摘要", explanation="起草说明",
            opens_at=now - timedelta(days=40), closes_at=now - timedelta(days=5),
            approved_at=now - timedelta(days=41))
        version = DraftVersion(number=1)
        consultation.versions.append(version)
        numerals = "一二三四五六七八九十"
        for n in range(1, ARTICLES + 1):
            label = f"第{numerals[n - 1] if n <= 10 else '十' + numerals[n - 11]}条"
            text = f"{label} 本条规定住房保障和物业管理的有关事项（{n}）。"
            version.articles.append(Article(number=n, label=label, text=text))
        db.session.add_all([unit, user, consultation])
        db.session.flush()
        articles = {a.number: a for a in version.articles}
        rng = random.Random(7)
        rows = []
        for body, kind, point in comments(total):
            number = (3 if kind == "campaign" else POINT_ARTICLE[point] if kind == "point"
                      else rng.choice([1, 2, 10, 11, 12, None]))
            rows.append(Comment(
                tracking_no=new_tracking_no(), consultation=consultation, version=version,
                article=articles.get(number), body=body, status=CommentStatus.PUBLISHED,
                category=Category.INDIVIDUAL))
        db.session.add_all(rows)
        db.session.commit()
        return consultation.id


def serve(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_port}"


def wait_for_job(page, count: Count, done_text: str, timeout: float = 600) -> None:
    """Pages showing a job reload themselves (a <meta refresh>); wait for `done_text`."""
    count.waiting = True
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            page.wait_for_load_state()
            if done_text in page.locator("main").inner_text():
                return
            page.wait_for_timeout(500)
        raise TimeoutError(f"the job did not finish: {done_text}")
    finally:
        count.waiting = False


def click(page, count: Count, locator, *, navigates: bool = True) -> None:
    count.kinds["clicks"] += 1
    if navigates:
        with page.expect_event("load"):
            locator.click()
    else:
        locator.click()


def press(page, count: Count, key: str, *, submits: bool = False, target=None) -> None:
    count.kinds["submitting keys" if submits else "other keys"] += 1
    (target or page.keyboard).press(key)


def saved(page, before: int, count: Count) -> None:
    """A save without reload: wait until the page shows the next one (static/js/workbench.js
    counts the saves it has shown)."""
    count.kinds["saves without reload"] += 1
    page.wait_for_function(
        "before => Number(document.documentElement.getAttribute('data-wb-saves') || 0) > before",
        arg=before, timeout=120_000)
    problem = page.locator("main .notice-bad, main .field-errors")
    if problem.count():
        raise RuntimeError(f"the save failed at {page.url}: {problem.first.inner_text()}")


def saves(page) -> int:
    return int(page.evaluate(
        "Number(document.documentElement.getAttribute('data-wb-saves') || 0)"))


def login(page, count: Count) -> None:
    page.goto("/login")
    page.get_by_label("电子邮箱").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    click(page, count, page.get_by_role("button", name="登录", exact=True))


def workbench(page, count: Count, consultation_id: int, kinds: dict) -> None:
    page.goto(f"/staff/consultations/{consultation_id}/workbench")
    count.kinds["page loads"] += 1
    # 1. identical comments: the largest group first
    click(page, count, page.get_by_role("button", name="查找相同意见"))
    wait_for_job(page, count, "待确认")
    click(page, count, page.locator(".wb-triage .wb-sets a").first)
    click(page, count, page.get_by_role("button", name="确认为相同意见"))
    press(page, count, "3")
    page.locator("textarea.wb-reason").fill(
        "居民分担比例将结合财政承受能力研究确定，低保家庭、特困人员已免除。")
    before = saves(page)
    press(page, count, "Control+Enter", submits=True)
    saved(page, before, count)
    flash = page.locator(".flash").first.inner_text()
    if "已答复组" not in flash:
        raise RuntimeError(f"the group was not answered: {flash}")
    # 2. topics
    page.goto(f"/staff/consultations/{consultation_id}/workbench")
    count.kinds["page loads"] += 1
    click(page, count, page.get_by_role("button", name="按主题归类意见"))
    wait_for_job(page, count, "个主题")
    link = page.locator(".wb-triage a.awaiting", has_text="个主题")
    if link.count():
        click(page, count, link)
        answered_points: set[int] = set()
        while "/topics/" in page.url:
            items = page.locator(".wb-topic-list > li")
            numbers = [items.nth(i).locator(".receipt-no-small").inner_text().strip()
                       for i in range(items.count())]
            points = Counter(kinds[no][1] for no in numbers if kinds[no][0] == "point")
            if not points or points.most_common(1)[0][1] * 2 < len(numbers):
                nxt = page.locator("a.wb-next-topic")
                if not nxt.count():
                    break
                click(page, count, nxt)  # unrelated comments: answered one by one later
                continue
            point = points.most_common(1)[0][0]
            for no in numbers:
                if kinds[no][1] != point:
                    click(page, count, page.get_by_label(f"不按本主题答复（{no}）"),
                          navigates=False)
            before = saves(page)
            if point in answered_points:
                reuse = page.locator(f"button.wb-reuse[value$='|{REASONS[point]}']")
                reuse.first.click()
            else:
                press(page, count, "3")
                page.locator("textarea.wb-reason").fill(REASONS[point])
                press(page, count, "Control+Enter", submits=True)
                answered_points.add(point)
            saved(page, before, count)
    # 3. one at a time
    page.goto(f"/staff/consultations/{consultation_id}/workbench")
    count.kinds["page loads"] += 1
    while page.locator("form[data-wb-form]").count():
        no = page.locator("#comment-title .receipt-no-small").inner_text().strip()
        press(page, count, "3")
        press(page, count, "r")
        page.keyboard.type(f"意见{no}已研究，现行条款已有规定。")
        before = saves(page)
        press(page, count, "Control+Enter", submits=True)
        saved(page, before, count)
    if "全部意见均已答复" not in page.locator("main").inner_text():
        print("stopped at", page.url, page.locator("main").inner_text()[:1500], file=sys.stderr)


def old_list(page, count: Count, consultation_id: int, sample: int) -> int:
    """The old list, one comment at a time: returns how many were answered."""
    done = 0
    while done < sample:
        page.goto(f"/staff/consultations/{consultation_id}/comments?state=unanswered")
        count.kinds["page loads"] += 1
        item = page.locator("article.comment-item").filter(
            has=page.locator("form.answer-form")).first
        if not item.count():
            break
        while done < sample and item.count():
            click(page, count, item.get_by_label("不予采纳", exact=True), navigates=False)
            item.get_by_label("理由").fill("现行条款已有规定。")
            click(page, count, item.get_by_role("button", name="保存答复"))
            done += 1
            item = page.locator("article.comment-item").filter(
                has=page.locator("form.answer-form")).first
    return done


def check(app, consultation_id: int, email: str) -> tuple[int, int, int]:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        total = db.session.scalar(db.select(db.func.count(Comment.id)).where(
            Comment.consultation_id == consultation_id))
        answered = db.session.scalar(db.select(db.func.count(Comment.id)).where(
            Comment.consultation_id == consultation_id, Comment.disposition.has()))
        seen = db.session.scalar(db.select(db.func.count(CommentSeen.id)).join(
            Comment, Comment.id == CommentSeen.comment_id).where(
            Comment.consultation_id == consultation_id, CommentSeen.user_id == user.id))
        return total, answered, seen


def run(total: int, old_sample: int, headed: bool) -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="answering-bench-"))
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=not headed,
                                             args=["--no-sandbox", "--disable-gpu"])
        for name in ("workbench", "old list"):
            if name == "old list" and not old_sample:
                continue
            app = create_app({
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / (name + '.db')}",
                "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
                "BASE_URL": "http://127.0.0.1",
            })
            consultation_id = build(app, total)
            with app.app_context():
                bodies = dict(db.session.execute(db.select(Comment.tracking_no, Comment.body)
                                                 .where(Comment.consultation_id
                                                        == consultation_id)).all())
            truth_by_body = {body: (kind, point) for body, kind, point in comments(total)}
            kinds = {no: truth_by_body[body] for no, body in bodies.items()}
            httpd, base = serve(app)
            context = browser.new_context(base_url=base, locale="zh-CN",
                                          viewport={"width": 1280, "height": 900})
            context.set_default_timeout(60_000)
            page = context.new_page()
            count = Count()
            login(page, Count())
            page.on("load", count.on_load)
            started = time.monotonic()
            if name == "workbench":
                workbench(page, count, consultation_id, kinds)
                answered_n = None
            else:
                answered_n = old_list(page, count, consultation_id, old_sample)
            elapsed = time.monotonic() - started
            results[name] = (count, elapsed, check(app, consultation_id, EMAIL), answered_n)
            context.close()
            httpd.shutdown()
        browser.close()

    count, elapsed, (all_, answered, seen), _ = results["workbench"]
    print(f"comments: {all_} ({total // 2} campaign, {total * 2 // 5} in six points, "
          f"{total - total // 2 - total * 2 // 5} distinct)")
    print(f"workbench: answered {answered}/{all_}, seen by the editor {seen}/{all_}")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(count.kinds.items())))
    print(f"actions: {count.actions}")
    print(f"time: {elapsed:.0f} s")
    if "old list" in results:
        old, old_elapsed, _, done = results["old list"]
        per = old.actions / max(done, 1)
        print(f"old list: {old.actions} actions for {done} comments ({per:.2f} per comment), "
              f"{old_elapsed:.0f} s; scaled to {all_} comments: actions: "
              f"{round(per * all_)} (about {old_elapsed / max(done, 1) * all_ / 60:.0f} min)")
    if answered != all_ or seen != all_:
        raise SystemExit("not every comment was answered and seen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=3000)
    parser.add_argument("--old-sample", type=int, default=100,
                        help="comments answered on the old list (scaled to all); 0: skip")
    parser.add_argument("--headed", action="store_true")
    args = parser.parse_args()
    run(args.total, args.old_sample, args.headed)


if __name__ == "__main__":
    main()
