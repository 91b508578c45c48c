"""A member of the drafting unit answers a comment on a closed consultation, in a browser with
JavaScript turned off (the staff pages need none)."""

import re

import pytest

pytestmark = pytest.mark.browser

CLOSED = "郑州市就业创业补贴实施办法（征求意见稿）"  # the demo's closed draft, being answered
EDITOR = "editor2@demo.consult"  # its drafting unit's editor (市人社局)
REASON = "补贴期限由省级政策统一规定，本办法不宜单独延长。"


def unanswered(page) -> int:
    notice = page.locator(".notice", has_text="发布报告前还需处理").inner_text()
    match = re.search(r"未答复 (\d+) 条", notice)
    return int(match.group(1)) if match else 0


def test_editor_answers_a_comment_not_adopted(new_page, login):
    page = new_page(java_script_enabled=False)
    login(page, EDITOR)
    page.goto("/staff")
    assert page.get_by_role("heading", level=1).is_visible()
    page.get_by_role("link", name=CLOSED).click()
    page.get_by_role("navigation", name="意见征集工作页面").get_by_role(
        "link", name="意见答复").click()
    page.wait_for_url(re.compile(r"/staff/consultations/\d+/comments"))
    assert page.get_by_role("heading", level=1).inner_text() == "意见答复"
    before = unanswered(page)
    assert before > 0

    waiting = page.locator("article.comment-item").filter(
        has=page.locator(".badge", has_text="待答复")).filter(has=page.locator("form.answer-form"))
    item = waiting.first
    item_id = item.get_attribute("id")
    tracking_no = item.locator(".receipt-no-small").inner_text().strip()
    assert item.get_by_role("button", name="保存答复").is_visible()  # no answer yet
    item.get_by_label("不予采纳", exact=True).check()
    item.get_by_label("理由").fill(REASON)
    item.get_by_role("button", name="保存答复").click()
    page.wait_for_url(re.compile(rf"/staff/consultations/\d+/comments.*#{item_id}$"))

    assert f"已答复意见 {tracking_no}" in page.locator(".flash").inner_text()
    item = page.locator(f"#{item_id}")
    assert item.locator(".badge", has_text="不予采纳").count() == 1
    assert item.locator(".badge", has_text="待答复").count() == 0
    answer = item.locator(".answer").inner_text()
    assert "当前答复：不予采纳" in answer and REASON in answer
    assert item.get_by_role("button", name="修改答复").is_visible()  # still revisable
    assert unanswered(page) == before - 1

    page.goto(f"/receipts/{tracking_no}")  # public only once the report is published
    assert "答复待公布" in page.locator("section.answer").inner_text()
    assert REASON not in page.content()
