"""The public list of consultations (SPEC §5 filters) and a consultation's page."""

import pytest

from consult.answers.services import publish_report
from consult.comments.models import CommentStatus, HiddenReason

HOSTILE = "<script>alert(1)</script>"


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def reported(make, **kw):
    """A consultation whose report the unit has published."""
    c = make.consultation("closed", **kw)
    approver = make.user("approver", c.unit)
    comment = make.comment(c, article=3, body="建议删除第三条。")
    make.answer(comment, "adopted", None)
    publish_report(c, summary="总体采纳。", actor=approver)
    return c


@pytest.fixture
def mix(make):
    return {
        "open": make.consultation("open", title="开放中的征求意见稿"),
        "closed": make.consultation("closed", title="已截止的征求意见稿"),
        "reported": reported(make, title="已反馈的征求意见稿"),
        "scheduled": make.consultation("scheduled", title="待发布的征求意见稿"),
        "withdrawn": make.consultation("withdrawn", title="已撤回的征求意见稿",
                                       withdrawn_reason="上位法修改"),
        "draft": make.consultation("draft", title="内部草稿"),
        "pending": make.consultation("pending_approval", title="待审核的稿子"),
    }


def titles_in(html, mix):
    return {name for name, c in mix.items() if c.title in html}


def test_the_list_shows_open_consultations_by_default(client, mix):
    assert titles_in(page(client, "/consultations"), mix) == {"open"}


@pytest.mark.parametrize("status, expected", [
    ("open", {"open"}),
    ("closed", {"closed"}),
    ("reported", {"reported"}),
    ("all", {"open", "closed", "reported", "scheduled", "withdrawn"}),
])
def test_status_filter(client, mix, status, expected):
    assert titles_in(page(client, f"/consultations?status={status}"), mix) == expected


@pytest.mark.parametrize("query", [
    "status=draft", "status=pending_approval", "status=nonsense", "type=law", "unit=abc",
    "page=0", "page=x",
])
def test_bad_filter_values_are_a_bad_request(client, mix, query):
    page(client, f"/consultations?{query}", 400)


def test_filters_by_unit_type_and_text(client, make, session):
    unit = make.unit(name="市司法局")
    mine = make.consultation("open", unit=unit, type="rule", title="数据开放管理办法")
    other = make.consultation("open", title="物业管理规定")
    mine.summary, other.summary = "关于公共数据", "小区物业"
    session.flush()
    html = page(client, f"/consultations?unit={unit.id}")
    assert mine.title in html and other.title not in html
    html = page(client, "/consultations?type=rule")
    assert mine.title in html and other.title not in html
    html = page(client, "/consultations?q=物业")
    assert other.title in html and mine.title not in html
    html = page(client, "/consultations?q=公共数据")  # found in the summary
    assert mine.title in html and other.title not in html
    html = page(client, "/consultations?q=100%25")  # LIKE wildcards are taken literally
    assert mine.title not in html and other.title not in html
    assert page(client, "/consultations?unit=&type=&q=")  # an empty filter form is fine


def test_pagination_keeps_the_filters(client, make):
    unit = make.unit()
    for n in range(23):
        make.consultation("open", unit=unit, title=f"分页测试{n:02d}")
    html = page(client, f"/consultations?unit={unit.id}")
    assert html.count("分页测试") == 20
    assert "page=2" in html and f"unit={unit.id}" in html
    html = page(client, f"/consultations?unit={unit.id}&page=2")
    assert html.count("分页测试") == 3
    assert "分页测试00" not in html  # closing soonest first; page 2 holds the last three


@pytest.mark.parametrize("state", ["draft", "pending_approval"])
def test_unpublished_drafts_are_not_found(client, make, state):
    c = make.consultation(state)
    page(client, f"/consultations/{c.id}", 404)


def test_unknown_consultation_is_not_found(client):
    page(client, "/consultations/999999", 404)


def test_an_open_consultation_shows_articles_with_comment_links(client, make):
    c = make.consultation("open")
    html = page(client, f"/consultations/{c.id}")
    assert c.title in html and "起草说明" in html and "征集中" in html
    assert 'id="article-3"' in html and "第三条" in html
    assert f"/consultations/{c.id}/comment?article=3" in html
    assert html.count("对本条提出意见") == len(c.current_version.articles)
    assert "距截止还剩" in html


def test_chapters_and_sections_head_their_articles(client, make):
    text = "第一章 总则\n第一条 目的。\n第二章 管理\n第一节 登记\n第二条 登记。\n第三条 变更。"
    c = make.consultation("open", text=text)
    html = page(client, f"/consultations/{c.id}")
    draft = html.split('class="draft"')[1]  # the contents lists name the chapters too
    assert draft.count("第一章 总则") == 1 and draft.count("第一节 登记") == 1
    assert draft.index("第二章 管理") < draft.index("第一节 登记") < draft.index('id="article-2"')


def test_a_closed_consultation_offers_no_comment_links(client, make):
    c = make.consultation("closed")
    html = page(client, f"/consultations/{c.id}")
    assert "对本条提出意见" not in html and "已截止" in html


def test_short_window_reason_is_shown(client, make):
    c = make.consultation("open", short_window_reason="防汛形势紧急，须尽快出台。")
    assert "防汛形势紧急，须尽快出台。" in page(client, f"/consultations/{c.id}")


def test_withdrawn_reason_is_shown(client, make):
    c = make.consultation("withdrawn", withdrawn_reason="上位法已修改，另行起草。")
    html = page(client, f"/consultations/{c.id}")
    assert "上位法已修改，另行起草。" in html and "已撤回" in html


def test_published_comments_are_listed_masked_and_escaped(client, make):
    c = make.consultation("open")
    make.comment(c, article=3, body=f"{HOSTILE} 我的电话 13800138000", display_name="张三")
    make.comment(c, body="愿意署名的意见", display_name="李四", publish_name=True)
    make.comment(c, body="被隐藏的意见", status=CommentStatus.HIDDEN,
                 hidden_reason=HiddenReason.ABUSIVE)
    make.comment(c, body="待审核的意见", status=CommentStatus.PENDING_MODERATION)
    html = page(client, f"/consultations/{c.id}")
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "13800138000" not in html and "个人信息已隐去" in html
    assert "张三" not in html and "李四" in html
    assert "被隐藏的意见" not in html and "待审核的意见" not in html
    assert "已收到意见 4 条" in html


def test_answers_show_once_the_report_is_published(client, make):
    c = make.consultation("closed")
    comment = make.comment(c, article=2, body="第二条应当细化。")
    make.answer(comment, "not_adopted", "上位法已有明确规定。")
    html = page(client, f"/consultations/{c.id}")
    assert "上位法已有明确规定。" not in html and "意见采纳情况（待公布）" in html
    publish_report(c, summary="总结", actor=make.user("approver", c.unit))
    html = page(client, f"/consultations/{c.id}")
    assert "上位法已有明确规定。" in html and "不予采纳" in html
    assert f"/consultations/{c.id}/report" in html


@pytest.mark.parametrize("status", ["closed", "all"])
def test_the_page_and_the_api_list_in_one_order(client, make, status):
    """One public list query (consultations/queries.py): the latest closing first, whatever
    opened first (the API used to sort these by their opening date)."""
    from datetime import timedelta

    from consult import clock

    now = clock.now()
    early_open = make.consultation("closed", title="先开始后截止的征求意见稿",
                                   opens_at=now - timedelta(days=60),
                                   closes_at=now - timedelta(days=2))
    late_open = make.consultation("closed", title="后开始先截止的征求意见稿",
                                  opens_at=now - timedelta(days=40),
                                  closes_at=now - timedelta(days=20))
    html = page(client, f"/consultations?status={status}")
    on_page = sorted((early_open, late_open), key=lambda c: html.index(c.title))
    api = client.get(f"/api/v1/consultations?status={status}").get_json()["items"]
    in_api = [item["id"] for item in api if item["id"] in (early_open.id, late_open.id)]
    assert [c.id for c in on_page] == in_api == [early_open.id, late_open.id]


def test_the_contents_list_counts_comments_per_article(client, make):
    c = make.consultation("open")
    for _ in range(3):
        make.comment(c, article=2)
    make.comment(c, article=5)
    html = page(client, f"/consultations/{c.id}")
    toc = html.split('class="toc toc-wide card"')[1].split("</nav>")[0]
    assert '<a href="#article-2">' in toc and "3 条意见" in toc and "1 条意见" in toc
    assert 'class="toc toc-narrow card"' in html  # collapsible on phones


def _toc(html: str) -> str:
    return html.split('class="toc toc-wide card"')[1].split("</nav>")[0]


def test_the_contents_list_counts_a_new_comment_at_once(client, make):
    c = make.consultation("open")
    make.comment(c, article=2)
    first = client.get(f"/consultations/{c.id}")
    assert first.headers["X-Page-Cache"] == "miss" and "1 条意见" in _toc(first.get_data(True))
    make.comment(c, article=2)  # the counts per article are kept per process until a write
    again = client.get(f"/consultations/{c.id}")
    assert again.headers["X-Page-Cache"] == "miss"
    toc = _toc(again.get_data(as_text=True))
    assert "2 条意见" in toc and "1 条意见" not in toc
    # the narrow list (on phones) is the same list, rendered once
    assert again.get_data(as_text=True).split('class="toc toc-narrow card"')[1].split(
        "</details>")[0].count("2 条意见") == 1


def test_english_pages_mark_chinese_content_and_say_it_is_not_translated(client, make):
    c = make.consultation("open", title="停车管理办法")
    html = page(client, f"/consultations/{c.id}?lang=en")
    assert '<h1 lang="zh-Hans">停车管理办法</h1>' in html
    assert "published in Simplified Chinese" in html
    assert '<h1 lang=' not in page(client, f"/consultations/{c.id}?lang=zh_Hans")
