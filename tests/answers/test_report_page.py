"""The report page: charts without JavaScript, and the comment list searched, filtered and
paginated (F14)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from consult import clock
from consult.answers import charts
from consult.answers.services import publish_report
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def report(make):
    """A published report: comments on articles 2 and 3 and on the whole draft, on two days."""
    c = make.consultation("closed", title="城市绿化管理办法（征求意见稿）")
    approver = make.user("approver", c.unit)
    day_one = clock.now() - timedelta(days=20)
    day_two = day_one + timedelta(days=2)
    rows = [
        (3, "第三条的期限太短，建议延长到六十日。", "adopted", None, Category.INDIVIDUAL, day_one),
        (3, "第三条应当设立过渡期。", "partly_adopted", "过渡期已增加为三个月。",
         Category.ENTERPRISE, day_one),
        (2, "第二条的适用范围不清楚。", "not_adopted", "适用范围与上位法一致，无需修改。",
         Category.EXPERT, day_two),
        (None, "整体上支持本办法。", "already_provided", "第九条已有规定。", Category.INDIVIDUAL,
         day_two),
    ]
    for article, body, code, reason, category, at in rows:
        comment = make.comment(c, article=article, body=body, category=category, received_at=at,
                               created_at=at)
        make.answer(comment, code, reason)
    make.comment(c, body="辱骂内容", status=CommentStatus.HIDDEN,
                 hidden_reason=HiddenReason.ABUSIVE, received_at=day_two, created_at=day_two)
    make.comment(c, body="一封信：建议公开听证。", channel=Channel.LETTER,
                 status=CommentStatus.UNVERIFIED, received_at=day_one - timedelta(days=1),
                 created_at=day_two)
    publish_report(c, summary="总结", actor=approver)
    return c


def _page(client, c, query=""):
    response = client.get(f"/consultations/{c.id}/report{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _items(html: str) -> list[str]:
    return re.findall(r'<p class="comment-text pre">(.*?)</p>', html, re.S)


def _svg(html: str, chart_id: str) -> str:
    match = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', html, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def test_the_charts_are_inline_svg_with_titles_and_data_tables(client, report):
    html = _page(client, report)
    for chart_id, table_id, title in (
        ("chart-by-disposition", "by-disposition", "已答复意见的采纳情况"),
        ("chart-by-category", "by-category", "提出意见者身份"),
        ("chart-by-article", "by-article", "各条款收到的意见数"),
        ("chart-timeline", "by-day", "每日收到的意见数"),
    ):
        svg = _svg(html, chart_id)
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
        assert f'<title id="{chart_id}-title">{title}</title>' in svg
        assert f'id="{table_id}"' in html  # the figures as a table next to the chart
        assert f'href="#{table_id}"' in html
    # CSP: no inline script (only static/ files), no inline style
    assert not re.search(r"<script(?![^>]*\ssrc=)", html) and "style=" not in html


def test_the_disposition_chart_draws_each_answer_count(client, report):
    svg = _svg(_page(client, report), "chart-by-disposition")
    assert "采纳：1" in svg and "部分采纳：1" in svg and "不予采纳：1" in svg
    assert "已有规定：1" in svg and "不属于本次征求意见范围：0" in svg
    widths = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)
    assert len(widths) == 5 and float(widths[-1]) == 0 and float(widths[0]) > 0


def test_the_article_chart_follows_the_per_article_table(client, report):
    svg = _svg(_page(client, report), "chart-by-article")
    assert "第二条：1" in svg and "第三条：2" in svg and "整体意见：3" in svg
    assert svg.index("整体意见") < svg.index("第二条") < svg.index("第三条")


def test_the_timeline_counts_comments_per_local_day_from_the_frozen_report(client, report):
    html = _page(client, report)
    svg = _svg(html, "chart-timeline")
    table = html[html.index('id="by-day"'):]
    table = table[:table.index("</table>")]
    days = dict(re.findall(r'<th scope="row">(\d{4}-\d\d-\d\d)</th><td class="num">(\d+)</td>',
                           table))
    first = clock.local_date(clock.now() - timedelta(days=21)).isoformat()
    one = clock.local_date(clock.now() - timedelta(days=20)).isoformat()
    two = clock.local_date(clock.now() - timedelta(days=18)).isoformat()
    # the letter counts on the day it was received, not the day it was typed in
    assert days[first] == "1" and days[one] == "2" and days[two] == "3"
    assert sum(map(int, days.values())) == 6 and len(days) == 4  # a day without comments: 0
    assert "共 6 条意见，单日最多 3 条" in svg


def test_items_carry_their_day_and_hidden_reason_in_the_report_json(client, report):
    items = client.get(f"/api/v1/consultations/{report.id}/report").get_json()["items"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", item["submitted_on"]) for item in items)
    hidden = [item for item in items if item["visibility"] == "hidden"]
    assert [item["hidden_reason"] for item in hidden] == ["abusive"]
    assert all(item["hidden_reason"] is None for item in items if item not in hidden)


def test_the_list_is_grouped_by_article_in_table_order(client, report):
    html = _page(client, report)
    order = [html.index(f'id="items-1-{key}"') for key in ("all", "2", "3")]
    assert order == sorted(order)
    assert "共 6 条意见" in html


def test_search_finds_words_in_comments_and_in_answers(client, report):
    assert _items(_page(client, report, "?q=过渡期")) == ["第三条应当设立过渡期。"]
    # a word of the answer's reason finds its comment
    assert _items(_page(client, report, "?q=上位法")) == ["第二条的适用范围不清楚。"]
    both_words = _items(_page(client, report, "?q=第三条 延长"))
    assert both_words == ["第三条的期限太短，建议延长到六十日。"]
    html = _page(client, report, "?q=没有这个词")
    assert _items(html) == [] and "没有符合条件的意见。" in html and "共 0 条意见符合条件" in html


def test_hidden_text_is_not_searchable(client, report):
    assert "辱骂内容" not in _page(client, report, "?q=辱骂")


def test_filter_by_article_and_by_disposition(client, report):
    assert sorted(_items(_page(client, report, "?article=3"))) == sorted(
        ["第三条的期限太短，建议延长到六十日。", "第三条应当设立过渡期。"])
    whole = _items(_page(client, report, "?article=0"))
    assert "整体上支持本办法。" in whole and all("第三条" not in text for text in whole)
    assert _items(_page(client, report, "?disposition=not_adopted")) == ["第二条的适用范围不清楚。"]
    assert _items(_page(client, report, "?article=3&disposition=adopted")) == [
        "第三条的期限太短，建议延长到六十日。"]
    html = _page(client, report, "?article=3")
    assert '<option value="3" selected>第三条</option>' in html


def test_the_per_article_table_links_to_the_filtered_list(client, report):
    html = _page(client, report)
    assert f'href="/consultations/{report.id}/report?article=3#items-1-3"' in html
    assert f'href="/consultations/{report.id}/report?article=0#items-1-all"' in html


@pytest.mark.parametrize("query", ["?article=x", "?article=99999999", "?disposition=bogus",
                                   "?q=" + "长" * 500])
def test_bad_filters_are_ignored(client, report, query):
    html = _page(client, report, query)
    assert "意见及答复" in html


@pytest.mark.parametrize("query", ["?page=abc", "?page=-1", "?page=0",
                                   "?page=99999999999999999999"])
def test_a_page_out_of_range_is_400_like_on_every_list(client, report, query):
    """SPEC §5 (and tests/security/test_pages.py): a page number out of range is 400."""
    assert client.get(f"/consultations/{report.id}/report{query}").status_code == 400


def test_a_page_past_the_end_is_empty_not_an_error(client, report):
    html = _page(client, report, "?page=9&article=3")
    assert _items(html) == [] and "本页没有意见。" in html
    assert f'href="/consultations/{report.id}/report?article=3#items-title">回到第一页' in html


def test_the_search_box_escapes_what_was_typed(client, report):
    html = _page(client, report, f"?q={HOSTILE}")
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_fifty_comments_a_page_with_filters_kept_in_the_links(client, make):
    c = make.consultation("closed")
    approver = make.user("approver", c.unit)
    for n in range(55):
        comment = make.comment(c, article=5 if n % 2 else 4, body=f"编号{n:02d}的意见。")
        make.answer(comment, "adopted", None)
    publish_report(c, summary="总结", actor=approver)
    first = _page(client, c)
    assert len(_items(first)) == 50 and "第 1 / 2 页，共 55 项" in first
    second = _page(client, c, "?page=2")
    assert len(_items(second)) == 5
    assert set(_items(first)).isdisjoint(_items(second))
    # article order across pages: all of article 4 (28 comments) come before article 5
    assert all("第四条" not in h3 for h3 in re.findall(r"<h3>(.*?)</h3>", second, re.S))
    filtered = _page(client, c, "?q=的意见&disposition=adopted")
    assert "page=2" in filtered and "disposition=adopted" in filtered
    links = re.findall(r'href="([^"]*page=2[^"]*)"', filtered)
    assert links and all("q=" in link and "disposition=adopted" in link for link in links)


def test_a_correction_is_shown_at_once(client, report, make):
    assert "（第 1 次更正版）" not in _page(client, report)
    make.answer(make.comment(report, body="补录的信函意见"), "adopted", None)
    approver = make.user("approver", report.unit)
    publish_report(report, summary="更正后的总结", actor=approver, correction_note="补录。")
    html = _page(client, report)
    assert "更正后的总结" in html and "补录的信函意见" in html and "共 7 条意见" in html


def test_the_report_page_links_the_downloads(client, report):
    html = _page(client, report)
    for extension in ("pdf", "csv", "xlsx"):
        assert f'href="/consultations/{report.id}/report.{extension}"' in html


def test_bar_chart_geometry():
    chart = charts.bar_chart("x", [("甲", 10), ("乙", 0), ("丙", 1), ("丁", 5)])
    assert chart.total == 16 and chart.maximum == 10
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert widths[1] == 0 and widths[2] >= 2 and widths[3] == widths[0] / 2
    assert charts.bar_chart("empty", []).bars == []


def test_daily_counts_fill_the_days_between():
    assert charts.daily_counts([("2024-05-03", 2), ("2024-05-01", 1), (None, 4)]) == [
        ("2024-05-01", 1), ("2024-05-02", 0), ("2024-05-03", 2)]
    assert charts.daily_counts([]) == []


def test_anonymous_readers_get_a_cacheable_page_with_an_etag(client, report, client_as, make):
    first = client.get(f"/consultations/{report.id}/report")
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    again = client.get(f"/consultations/{report.id}/report",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other_page = client.get(f"/consultations/{report.id}/report?article=3")
    assert other_page.headers["ETag"] != first.headers["ETag"]
    staff = client_as(make.user("editor", report.unit)).get(f"/consultations/{report.id}/report")
    assert staff.status_code == 200 and "public" not in staff.headers.get("Cache-Control", "")
    assert "ETag" not in staff.headers


def test_a_correction_changes_the_etag(client, report, make):
    first = client.get(f"/consultations/{report.id}/report")
    approver = make.user("approver", report.unit)
    publish_report(report, summary="更正后的总结", actor=approver, correction_note="补录。")
    again = client.get(f"/consultations/{report.id}/report",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "更正后的总结" in again.get_data(as_text=True)
    assert again.headers["ETag"] != first.headers["ETag"]
