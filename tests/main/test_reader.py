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


def test_large_text_mode_comes_from_the_url_never_from_the_visitor(client):
    plain = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in plain
    assert 'href="/?large=1"' in plain and 'href="/?large=0"' in plain  # both, CSS shows one
    assert 'src="/static/js/large.js"' in plain and "css/large.css" in plain
    assert '<html lang="zh-Hans" class="large">' in client.get("/?large=1").get_data(
        as_text=True)
    client.set_cookie("large", "1")
    assert client.get("/").get_data(as_text=True) == plain  # the cookie is read by the script
    # the render cache keeps ?large=1 apart: the stored page of "/" is not the large one
    assert client.get("/").get_data(as_text=True) == plain


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
