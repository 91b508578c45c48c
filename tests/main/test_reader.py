"""The reader's side of issue 13: the site identity in the footer, help and accessibility pages,
a 404 that helps, error titles that say 错误, 长者模式 without per-visitor HTML, the language
switch, and the receipt's next steps."""

import re

import pytest

from consult import pagecache
from consult.settings import site


def test_the_footer_carries_the_configured_site_identity(app, client):
    app.config.update(SITE_SPONSOR="郑州市人民政府办公厅", SITE_ID_CODE="4101000001",
                      SITE_ICP="豫ICP备12345678号", SITE_PSB="豫公网安备 41010502000001号",
                      SITE_CONTACT_EMAIL="gk@example.gov.cn")
    pagecache.bump([pagecache.SITE])  # as a restart with new settings does (the cache's version)
    try:
        html = client.get("/").get_data(as_text=True)
    finally:
        app.config.update(SITE_ID_CODE="", SITE_ICP="", SITE_PSB="", SITE_CONTACT_EMAIL="",
                          SITE_SPONSOR="市人民政府办公厅")
        pagecache.bump([pagecache.SITE])
    footer = html.split('<footer class="site-footer">')[1]
    for text in ("主办单位", "郑州市人民政府办公厅", "网站标识码", "4101000001",
                 "豫ICP备12345678号", "豫公网安备 41010502000001号", "mailto:gk@example.gov.cn"):
        assert text in footer
    for link in ("/help", "/accessibility", "/privacy"):
        assert f'href="{link}"' in footer
    assert '<link rel="icon"' in html


def test_unset_identity_items_are_left_out(app, client):
    footer = client.get("/help").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert "网站标识码" not in footer and "ICP" not in footer  # not set by default


def test_site_identity_is_read_in_one_place(app):
    with app.test_request_context("/"):
        identity = site()
    assert set(identity) == {"name", "sponsor", "operator", "contact", "contact_email",
                             "id_code", "icp", "psb", "favicon"}


@pytest.mark.parametrize("path, heading", [("/help", "使用帮助"),
                                           ("/accessibility", "无障碍声明")])
def test_help_and_accessibility_pages(client, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.get_data(as_text=True)


def test_the_404_page_has_a_search_box_and_links_and_a_title_saying_error(client):
    response = client.get("/nowhere?x=<script>")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert re.search(r"<title>错误 404：", html)
    assert 'type="search"' in html and 'action="/consultations"' in html
    assert 'href="/receipts"' in html and 'href="/help"' in html
    assert "<script>" not in html.split("<main")[1]


def test_other_errors_say_error_in_their_title(client_as, make):
    stranger = make.user("editor", make.unit("别的局"))
    c = make.consultation("closed")
    html = client_as(stranger).get(f"/staff/consultations/{c.id}/workbench").get_data(
        as_text=True)
    assert re.search(r"<title>错误 403：", html)


def _switch(html: str, on: bool) -> str:
    """The href of the page's 长者模式 switch link (unescaped)."""
    kind = "on" if on else "off"
    found = re.search(rf'<a href="([^"]*)" class="large-{kind}"', html)
    return found.group(1).replace("&amp;", "&")


def _large(html: str) -> bool:
    return bool(re.search(r'<html lang="[^"]*" class="large">', html))


def test_the_large_text_switch_works_without_javascript_and_is_remembered(client):
    plain = client.get("/consultations?status=all&utm_source=x").get_data(as_text=True)
    assert not _large(plain)
    assert 'src="/static/js/large.js"' in plain and "css/large.css" in plain
    link = _switch(plain, True)
    # a link (no form, no script): the page to come back to, with the parameters it reads only
    assert link == "/large-text?on=1&next=/consultations?status%3Dall"
    response = client.get(link)
    assert response.status_code == 303 and response.location == "/consultations?status=all"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("large=1;") and "Max-Age=31536000" in cookie
    assert "Path=/" in cookie and "SameSite=Lax" in cookie
    assert "HttpOnly" not in cookie  # large.js reads and sets the same cookie
    assert response.headers["Cache-Control"] == "no-store"
    # remembered: the page it came back to and every other page, public or not
    for url in ("/consultations?status=all", "/", "/help", "/receipts", "/policies"):
        assert _large(client.get(url).get_data(as_text=True)), url
    # switching off, from any page, comes back to it in the standard mode
    html = client.get("/help").get_data(as_text=True)
    assert _switch(html, False) == "/large-text?on=0&next=/help"
    response = client.get(_switch(html, False))
    assert response.location == "/help" and response.headers["Set-Cookie"].startswith("large=0;")
    assert not _large(client.get("/help").get_data(as_text=True))
    assert not _large(client.get("/").get_data(as_text=True))


def test_a_staff_page_follows_the_remembered_choice_too(client_as, make):
    client = client_as(make.user("editor", make.unit("市住房保障局")))
    assert not _large(client.get("/staff").get_data(as_text=True))
    client.get("/large-text?on=1&next=/staff")
    assert _large(client.get("/staff").get_data(as_text=True))


def test_the_url_still_switches_one_page_and_wins_over_the_cookie(app, client):
    assert _large(client.get("/?large=1").get_data(as_text=True))
    client.set_cookie("large", "1", domain=app.config["SERVER_NAME"])
    html = client.get("/?large=0").get_data(as_text=True)
    assert '<html lang="zh-Hans" class="standard">' in html  # large.js forgets the choice
    assert _switch(html, True) == "/large-text?on=1&next=/"  # ?large= is not carried on


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "///evil.example",
    "javascript:alert(1)", "evil.example", "/\r\nSet-Cookie: x=1", "\t//evil.example", "",
])
def test_the_switch_never_sends_the_reader_to_another_site(client, target):
    response = client.get("/large-text", query_string={"on": "1", "next": target})
    assert response.status_code == 303
    assert response.location == "/"  # refused: the home page, in the chosen mode
    assert response.headers["Set-Cookie"].startswith("large=1;")


@pytest.mark.parametrize("query", ["", "?on=", "?on=2", "?on=yes", "?on=1&on=0x", "?on=%00"])
def test_a_bad_switch_value_is_400_and_changes_nothing(client, query):
    response = client.get(f"/large-text{query}")
    if query == "?on=1&on=0x":  # the first value counts
        assert response.status_code == 303
        return
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers or "large=" not in response.headers["Set-Cookie"]
    assert "on 只能是 1（开启）或 0（关闭）" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/", "/consultations?status=all", "/consultations/{id}"])
def test_the_render_cache_keeps_two_variants_and_no_visitor_gets_the_others(app, make, url):
    pagecache.cache.clear()
    url = url.format(id=make.consultation("open").id)

    def visit(cookie=None):
        client = app.test_client()
        if cookie is not None:
            client.set_cookie("large", cookie, domain=app.config["SERVER_NAME"])
        response = client.get(url)
        assert response.status_code == 200
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
        body = response.get_data(as_text=True)
        return response.headers["X-Page-Cache"], body.replace(token.group(1), "") if token else body

    standard, large = visit(), visit("1")
    assert not _large(standard[1]) and _large(large[1])
    assert standard[0] == "miss" and large[0] == "miss"  # the large page is not the stored one
    assert visit() == ("hit", standard[1])
    assert visit("1") == ("hit", large[1])
    for other in ("0", "yes", "", "1; x"):  # anything but "1" is the standard page
        assert visit(other) == ("hit", standard[1]), other


def test_a_stored_page_links_only_with_the_parameters_it_reads(client):
    html = client.get("/consultations?status=all&utm_source=x").get_data(as_text=True)
    nav = html.split('class="lang-nav"')[1].split("</nav>")[0]
    assert "utm_source" not in nav and "status=all" in nav


def test_the_language_switch_keeps_the_path_and_the_query(client):
    html = client.get("/consultations?status=all&q=%E5%B0%B1%E4%B8%9A&large=1").get_data(
        as_text=True)
    nav = html.split('class="lang-nav"')[1].split("</nav>")[0]
    assert 'href="/consultations?status=all&amp;q=%E5%B0%B1%E4%B8%9A&amp;large=1&amp;lang=en"' \
        in nav


def test_the_receipt_says_what_happens_next_and_when(client, make):
    c = make.consultation("open")
    comment = make.comment(c, article=1, email="a@example.org")
    html = client.get(f"/receipts/{comment.tracking_no}").get_data(as_text=True)
    assert "接下来" in html and "预计在" in html and "公布后我们会发邮件通知您" in html
    anonymous = make.comment(c, article=1)
    html = client.get(f"/receipts/{anonymous.tracking_no}").get_data(as_text=True)
    assert "请收藏本页" in html


def test_the_comment_form_offers_notify_only_beside_an_email(client, make):
    c = make.consultation("open")
    html = client.get(f"/consultations/{c.id}/comment").get_data(as_text=True)
    assert 'type="email"' in html and 'placeholder=" "' in html
    assert "field-notify" in html
