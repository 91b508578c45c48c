"""An accessibility smoke check of the main public pages (no axe-core here: the rules a
citizen with a screen reader trips over first)."""

import re

import pytest

pytestmark = pytest.mark.browser

RULE = "郑州市公共数据开放管理办法（征求意见稿）"

# Returns a list of problems on the current page, each a short description with the markup.
CHECKS = r"""
() => {
  const problems = [];
  const markup = (el) => el.outerHTML.replace(/\s+/g, " ").slice(0, 160);
  const text = (el) => (el ? el.textContent.replace(/\s+/g, "") : "");
  const byIds = (ids) => (ids || "").split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id));
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const refs = byIds(el.getAttribute("aria-labelledby"));
    if (refs.length && refs.every((ref) => ref && text(ref))) return true;
    return false;
  };

  const lang = document.documentElement.getAttribute("lang") || "";
  if (!lang.trim()) problems.push("html has no lang");

  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements (one expected)`);

  for (const el of document.querySelectorAll(
      "input:not([type=hidden]), select, textarea")) {
    let ok = named(el) || text(el.closest("label"));
    if (!ok && el.id) {
      const twins = document.querySelectorAll(`[id="${CSS.escape(el.id)}"]`);
      const labels = document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`);
      ok = twins.length === 1 && [...labels].some((label) => text(label));
      if (twins.length > 1) problems.push(`duplicate id "${el.id}": ${markup(el)}`);
    }
    if (!ok) problems.push(`form control without a label: ${markup(el)}`);
  }

  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`image without alt: ${markup(img)}`);
  }
  for (const img of document.querySelectorAll("[role=img]")) {
    if (!named(img) && !text(img.querySelector("title"))) {
      problems.push(`role=img without a name: ${markup(img)}`);
    }
  }

  for (const el of document.querySelectorAll("a[href], button")) {
    const alts = [...el.querySelectorAll("img[alt]")].map((img) => img.alt.trim()).join("");
    if (!text(el) && !named(el) && !alts && !(el.getAttribute("title") || "").trim()) {
      problems.push(`${el.tagName.toLowerCase()} without discernible text: ${markup(el)}`);
    }
  }
  return problems;
}
"""


def test_public_pages_pass_the_accessibility_smoke_check(new_page):
    page = new_page()
    found = {}

    def check(name):
        problems = page.evaluate(CHECKS)
        if problems:
            found[f"{name} ({page.url})"] = problems

    page.goto("/")
    check("home")
    report_link = page.locator("section", has=page.locator("#reported-title")).locator(
        "li a").first
    report_url = report_link.get_attribute("href")

    page.get_by_role("link", name=RULE).click()
    page.wait_for_url(re.compile(r"/consultations/\d+$"))
    check("consultation")
    page.locator("#article-5").get_by_role("link", name=re.compile("对本条提出意见")).click()
    page.wait_for_url(re.compile(r"/comment\?article=5$"))
    page.wait_for_load_state()
    check("comment form")
    page.get_by_role("button", name="提交意见").click()  # empty: the form with its errors
    page.locator("#error-summary").wait_for(state="visible")  # the 422 page, once it has loaded
    check("comment form with errors")

    page.goto(report_url)
    page.wait_for_url(re.compile(r"/consultations/\d+/report$"))
    assert page.locator("[role=img]").count() or page.locator("table").count()
    check("adoption report")

    page.goto("/stats")
    assert page.locator("[role=img]").count() > 5 and page.locator("table").count() > 5
    check("statistics")
    page.goto("/stats/yearly")
    check("yearly figures")

    page.goto("/receipts")
    check("receipt lookup")
    page.goto("/login")
    check("staff login")

    page.goto("/policies")
    check("policy library")
    page.get_by_role("link", name="郑州市预付式消费管理办法", exact=True).click()
    page.wait_for_url(re.compile(r"/policies/\d+$"))
    check("policy")
    page.get_by_role("link", name="逐条对照").click()
    page.wait_for_url(re.compile(r"/policies/\d+/changes$"))
    assert page.locator("ins").count() and page.locator(".change-answers").count()
    check("what the comments changed")

    assert not found, "\n".join(
        f"{name}:\n  " + "\n  ".join(problems) for name, problems in found.items())


def test_the_smoke_check_finds_what_it_looks_for(new_page):
    page = new_page()
    page.set_content(
        '<html><body><h1>一</h1><h1>二</h1><input id="a"><input id="a"><label>姓名'
        '<input name="ok"></label><select></select><textarea aria-label=" "></textarea>'
        '<img src="data:,"><svg role="img"></svg><a href="/x"> </a><button></button>'
        '<a href="/y" aria-label="查询"></a></body></html>')
    problems = "\n".join(page.evaluate(CHECKS))
    assert "html has no lang" in problems
    assert "2 h1 elements" in problems
    assert 'duplicate id "a"' in problems
    assert problems.count("form control without a label") == 4  # 2 × #a, select, textarea
    assert "image without alt" in problems
    assert "role=img without a name" in problems
    assert "a without discernible text" in problems and "button without" in problems
    assert "姓名" not in problems and "查询" not in problems
