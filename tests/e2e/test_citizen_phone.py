"""A citizen on a phone comments on article 7 of an open draft and follows the comment up;
the same flow works with JavaScript turned off."""

import re

import pytest

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}
RULE = "郑州市公共数据开放管理办法（征求意见稿）"  # the demo's open rule, 19 articles
HOSTILE = "<script>alert(1)</script>"
SCREENSHOT = "/tmp/e2e-phone-receipt.png"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth")


def test_citizen_comments_on_article_7_from_a_phone(new_page, dialogs):
    page = new_page(**PHONE)
    page.goto("/")
    assert no_horizontal_scroll(page), "the home page scrolls sideways on a phone"
    page.get_by_role("link", name=RULE).tap()
    page.wait_for_url(re.compile(r"/consultations/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == RULE
    assert no_horizontal_scroll(page), "the draft scrolls sideways on a phone"

    article = page.locator("#article-7")
    assert article.locator(".article-label").inner_text() == "第七条"
    link = article.get_by_role("link", name=re.compile("对本条提出意见"))
    link.scroll_into_view_if_needed()
    link.tap()
    page.wait_for_url(re.compile(r"/comment\?article=7$"))

    select = page.get_by_label("针对的条款")
    assert select.input_value() == "7"
    assert "第七条" in select.locator("option:checked").inner_text()
    assert "第七条" in page.locator("#selected-article").inner_text()

    body = (f"建议第七条把更新期限缩短为十个工作日。如需了解情况请致电 13800138000。"
            f"{HOSTILE}")
    page.get_by_label("意见内容").fill(body)
    page.get_by_label("企业", exact=True).check()
    page.get_by_label("所在地区").fill("金水区")
    page.get_by_role("button", name="提交意见").tap()
    page.wait_for_url(re.compile(r"/receipts/[A-Z0-9-]+$"))

    tracking_no = page.locator(".receipt-no").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)+", tracking_no), tracking_no
    assert page.url.endswith(f"/receipts/{tracking_no}")
    shown = page.locator(".comment-text").inner_text()
    assert "建议第七条把更新期限缩短为十个工作日" in shown
    assert HOSTILE in shown  # shown as text, not run
    assert "［个人信息已隐去］" in shown
    assert "13800138000" not in page.content()
    assert "第七条" in page.locator("dl.facts").inner_text()
    assert no_horizontal_scroll(page), "the receipt scrolls sideways on a phone"
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.goto("/receipts")
    page.get_by_label("意见编号").fill(tracking_no.lower().replace("-", ""))
    page.get_by_role("button", name="查询").tap()
    page.wait_for_url(re.compile(r"/receipts/[A-Z0-9-]+$"))
    assert page.locator(".receipt-no").inner_text().strip() == tracking_no
    assert dialogs == []


def test_comment_form_works_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/consultations?status=open")
    page.get_by_role("link", name=RULE).click()
    page.locator("#article-3").get_by_role("link", name=re.compile("对本条提出意见")).click()
    assert page.get_by_label("针对的条款").input_value() == "3"

    page.get_by_role("button", name="提交意见").click()  # nothing written: the form says so
    page.locator("#error-summary").wait_for(state="visible")
    assert "请填写意见内容" in page.locator("#error-summary").inner_text()
    assert page.get_by_label("针对的条款").input_value() == "3"  # the choice survives

    page.get_by_label("意见内容").fill("第三条建议增加“安全可控”的具体标准。")
    page.get_by_role("button", name="提交意见").click()
    page.wait_for_url(re.compile(r"/receipts/[A-Z0-9-]+$"))
    assert "第三条建议增加" in page.locator(".comment-text").inner_text()
    assert "第三条" in page.locator("dl.facts").inner_text()
