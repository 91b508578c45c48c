"""The answering workbench in a browser (issue 13): answering with the keyboard alone (with
JavaScript: saved without a page load), the same flow without JavaScript, the check pages of
irreversible actions, and 长者模式 (large text) with and without JavaScript."""

import re

import pytest

pytestmark = pytest.mark.browser

CLOSED = "郑州市就业创业补贴实施办法（征求意见稿）"  # the demo's closed draft, being answered
EDITOR = "editor2@demo.consult"  # its drafting unit's editor (市人社局)
PENDING = "郑州市知识产权纠纷快速处理办法（征求意见稿）"  # awaits approval
APPROVER = "approver@demo.consult"  # 市市场监管局, above the unit that drafted it


def open_workbench(page):
    page.goto("/staff")
    page.get_by_role("link", name=CLOSED).click()
    page.get_by_role("navigation", name="意见征集工作页面").get_by_role(
        "link", name="答复工作台").click()
    page.wait_for_url(re.compile(r"/staff/consultations/\d+/workbench"))


def remaining(page) -> int:
    return int(re.search(r"还剩 (\d+) 条", page.locator(".wb-remaining").inner_text()).group(1))


def test_keyboard_only_answering_saves_and_shows_the_next_without_a_reload(new_page, login):
    page = new_page()
    login(page, EDITOR)
    open_workbench(page)
    before = remaining(page)
    loads = []
    page.on("load", lambda _page: loads.append(page.url))
    for round_ in range(2):
        number = page.locator("#comment-title .receipt-no-small").inner_text().strip()
        # the first response is focused when the comment is shown: keys only from here
        assert page.evaluate("document.activeElement.name") == "code"
        page.keyboard.press("3")  # 不予采纳
        assert page.get_by_label("不予采纳", exact=True).is_checked()
        page.keyboard.press("r")
        assert page.evaluate("document.activeElement.classList.contains('wb-reason')")
        page.keyboard.type(f"经研究，第{round_ + 1}条意见所提事项已有规定。")
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            "n => document.querySelector('#comment-title .receipt-no-small')"
            " && document.querySelector('#comment-title .receipt-no-small').innerText.trim()"
            " !== n", arg=number)
        assert f"已答复意见 {number}" in page.locator(".flash").inner_text()
    assert remaining(page) == before - 2
    assert loads == []  # saved with fetch: no page was reloaded
    assert re.search(r"comment=\d+", page.url)  # the address follows the comment shown
    page.screenshot(path="/tmp/e2e-workbench-keyboard.png", full_page=True)


def test_answering_without_javascript_is_save_and_next_by_plain_post(new_page, login):
    page = new_page(java_script_enabled=False)
    login(page, EDITOR)
    open_workbench(page)
    before = remaining(page)
    number = page.locator("#comment-title .receipt-no-small").inner_text().strip()
    assert page.locator(".wb-article").is_visible()  # the article beside the comment
    page.get_by_label("已有规定", exact=True).check()
    page.get_by_label("理由").fill("补贴期限由省级政策统一规定。")
    page.get_by_role("button", name="保存并下一条").click()
    page.wait_for_url(re.compile(r"/workbench\?comment=\d+"))
    assert f"已答复意见 {number}" in page.locator(".flash").inner_text()
    assert page.locator("#comment-title .receipt-no-small").inner_text().strip() != number
    assert remaining(page) == before - 1
    # the compact table works without JavaScript too
    page.get_by_role("link", name="列表速览").click()
    page.get_by_role("button", name="保存本页答复").wait_for(state="visible")
    page.screenshot(path="/tmp/e2e-workbench-table.png", full_page=True)


def test_the_group_filter_without_javascript_lists_the_groups_and_shows_one(
        new_page, login, live_app):
    from consult.answers.models import CommentGroup
    from consult.comments.models import Comment
    from consult.extensions import db
    from consult.jobs.queue import run_due

    page = new_page(java_script_enabled=False)
    login(page, EDITOR)
    open_workbench(page)
    finding = page.get_by_role("button", name=re.compile("查找相同意见"))
    if finding.count():
        finding.click()
        with live_app.app_context():
            run_due()
    page.get_by_role("link", name="列表速览").click()
    choice = page.get_by_label("相同意见组")
    labels = [o.inner_text() for o in choice.locator("option").all()]
    # the demo's form letter (外卖骑手 …), by its first words and its size
    campaign = next(text for text in labels if re.match(r"组\d+：.+（\d+ 条，(待|已)确认）", text))
    group_id = int(re.match(r"组(\d+)", campaign).group(1))
    size = int(re.search(r"（(\d+) 条", campaign).group(1))
    assert size >= 2
    choice.select_option(label=campaign)
    page.get_by_label("状态").select_option(label="全部")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(rf"group={group_id}"))
    shown = {n.strip() for n in page.locator(".wb-table .receipt-no-small").all_inner_texts()}
    with live_app.app_context():
        members = set(db.session.scalars(db.select(Comment.tracking_no).where(
            Comment.group_id == group_id)))
        assert db.session.get(CommentGroup, group_id) is not None
        db.session.remove()
    assert shown == members and len(members) == size
    assert page.get_by_label("相同意见组").locator("option:checked").inner_text() == campaign
    page.screenshot(path="/tmp/e2e-workbench-group-filter.png", full_page=True)


def test_approving_and_publishing_go_through_check_pages(new_page, login):
    page = new_page(java_script_enabled=False)
    login(page, APPROVER)
    page.goto("/staff")
    page.get_by_role("link", name=PENDING).click()
    detail = page.url
    page.get_by_role("link", name="审核通过…").click()
    assert page.get_by_role("heading", level=1).inner_text() == "确认审核通过"
    text = page.locator("main").inner_text()
    assert "审核通过后将会" in text and "此操作不能撤销" in text
    confirm = page.get_by_role("button", name="确认审核通过")
    back = page.get_by_role("link", name="返回，暂不操作")
    # the irreversible button looks different from its neighbours
    assert "button-danger" in confirm.get_attribute("class")
    assert confirm.evaluate("e => getComputedStyle(e).backgroundColor") != back.evaluate(
        "e => getComputedStyle(e).backgroundColor")
    page.screenshot(path="/tmp/e2e-check-approve.png", full_page=True)
    back.click()
    assert page.url == detail and "待审核" in page.locator("main").inner_text()


def test_large_text_mode_is_remembered_with_javascript(new_page):
    page = new_page()
    page.goto("/")
    size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.get_by_role("link", name="长者模式（大字版）").click()
    assert page.evaluate("document.documentElement.classList.contains('large')")
    large = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= size * 1.2
    page.goto("/consultations")  # remembered by this browser
    assert page.evaluate("document.documentElement.classList.contains('large')")
    page.screenshot(path="/tmp/e2e-large-list.png", full_page=True)
    page.get_by_role("link", name="标准版").click()
    assert not page.evaluate("document.documentElement.classList.contains('large')")
    page.goto("/")
    assert not page.evaluate("document.documentElement.classList.contains('large')")


def _is_large(page) -> bool:
    return page.evaluate("document.documentElement.classList.contains('large')")


def test_large_text_mode_without_javascript_is_remembered_across_pages(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/consultations?status=all")
    size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert not _is_large(page)
    page.get_by_role("link", name="长者模式（大字版）").click()
    page.wait_for_load_state()
    # back on the same page, now large (the class comes from the server: no script ran)
    assert page.url.endswith("/consultations?status=all")
    assert _is_large(page)
    assert page.evaluate(
        "parseFloat(getComputedStyle(document.documentElement).fontSize)") >= size * 1.2
    assert page.get_by_role("link", name="标准版").is_visible()
    page.screenshot(path="/tmp/e2e-large-list-nojs.png", full_page=True)
    # two ordinary links later, still large
    page.locator("main a[href^='/consultations/']").first.click()
    page.wait_for_load_state()
    assert "/consultations/" in page.url and _is_large(page)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="政策文件").click()
    page.wait_for_load_state()
    assert page.url.endswith("/policies") and _is_large(page)
    page.screenshot(path="/tmp/e2e-large-policies-nojs.png", full_page=True)
    # another visitor of the same (cached) pages gets the standard page
    other = new_page(java_script_enabled=False)
    for url in ("/policies", "/consultations?status=all"):
        other.goto(url)
        assert not _is_large(other), url
    # switched off: this page and the next in the standard mode
    page.get_by_role("link", name="标准版").click()
    page.wait_for_load_state()
    assert page.url.endswith("/policies") and not _is_large(page)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="意见征集").click()
    page.wait_for_load_state()
    assert not _is_large(page)


def test_a_shared_large_link_shows_one_page_large_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/?large=1")
    assert _is_large(page)
    page.screenshot(path="/tmp/e2e-large-home-nojs.png", full_page=True)
    page.goto("/consultations")
    assert not _is_large(page)  # without script nothing was remembered from the URL


def test_the_language_switch_keeps_the_path_and_the_query(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/consultations?status=all&q=%E5%B0%B1%E4%B8%9A")
    page.get_by_role("navigation", name="语言").get_by_role("link", name="EN").click()
    assert "/consultations?" in page.url and "status=all" in page.url and "lang=en" in page.url
    assert "q=%E5%B0%B1%E4%B8%9A" in page.url


def test_the_404_page_offers_search_and_links(new_page):
    page = new_page(java_script_enabled=False)
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert page.title().startswith("错误 404")
    assert page.get_by_role("searchbox", name="搜索意见征集").is_visible()
    assert page.get_by_role("link", name="用意见编号查询意见的处理情况").is_visible()


def test_the_printed_report_is_the_document_with_its_statistics_open(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/consultations?status=reported")
    page.locator("main a[href*='/consultations/']").first.click()
    page.locator("main a[href$='/report']").first.click()
    page.wait_for_url(re.compile(r"/report$"))
    assert not page.locator("#distributions-title").is_visible()  # folded on screen
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert page.locator("#distributions-title").is_visible()
    page.pdf(path="/tmp/e2e-report-print.pdf")
