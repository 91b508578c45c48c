"""The public adoption report page, rendered from the frozen report."""

import pytest

from consult.answers.services import publish_report
from consult.comments.models import Category, Channel, CommentStatus, HiddenReason

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def answered(make):
    """A closed consultation whose comments the unit has answered, report not yet published."""
    c = make.consultation("closed", title="城市绿化管理办法（征求意见稿）")
    approver = make.user("approver", c.unit)
    on_3 = make.comment(c, article=3, body=f"第三条的期限太短。{HOSTILE}", region="金水区",
                        display_name="钱七", publish_name=True)
    make.answer(on_3, "adopted", None)
    whole = make.comment(c, body="整体上支持。", category=Category.ENTERPRISE,
                         channel=Channel.LETTER, display_name="不公开的名字")
    make.answer(whole, "already_provided", "第九条已有规定。")
    make.comment(c, body="辱骂内容", status=CommentStatus.HIDDEN,
                 hidden_reason=HiddenReason.ABUSIVE)
    make.comment(c, article=3, body="未验证的意见", status=CommentStatus.UNVERIFIED)
    return c, approver


def test_the_report_is_not_found_before_it_is_published(client, answered):
    c, _approver = answered
    assert client.get(f"/consultations/{c.id}/report").status_code == 404


def test_the_report_of_a_draft_or_unknown_consultation_is_not_found(client, make):
    assert client.get(f"/consultations/{make.consultation('draft').id}/report").status_code == 404
    assert client.get("/consultations/999999/report").status_code == 404


def test_the_published_report_shows_totals_answers_and_links(client, answered):
    c, approver = answered
    report = publish_report(c, summary="共收到意见4条，采纳1条。", actor=approver)
    response = client.get(f"/consultations/{c.id}/report")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "共收到意见4条，采纳1条。" in html and report.digest in html
    assert '<span class="stat-value">4</span><span class="stat-label">收到意见</span>' in html
    assert '<span class="stat-value">2</span><span class="stat-label">已答复</span>' in html
    assert "含辱骂、攻击性内容" in html and "信函" in html and "金水区" in html
    assert "第九条已有规定。" in html and "已有规定" in html and "采纳" in html
    assert "钱七" in html and "不公开的名字" not in html
    assert "辱骂内容" not in html
    assert f'href="/consultations/{c.id}"' in html
    assert f"/api/v1/consultations/{c.id}/report" in html
    assert 'class="bar bar-5"' in html  # one of two answers adopted: half a bar
    assert "style=" not in html  # CSP: no inline styles


def test_hostile_html_is_escaped_in_the_report(client, answered):
    c, approver = answered
    publish_report(c, summary=f"总结{HOSTILE}", actor=approver)
    html = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_report_is_rendered_from_the_frozen_content(client, answered, session):
    c, approver = answered
    publish_report(c, summary="总结", actor=approver)
    late = c  # a comment recorded after publishing does not change the published report
    from tests import factories

    factories.comment(late, body="发布后才录入的意见")
    html = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    assert "发布后才录入的意见" not in html
    assert '<span class="stat-value">4</span><span class="stat-label">收到意见</span>' in html


def test_per_article_table_lists_the_articles_commented(client, answered):
    c, approver = answered
    publish_report(c, summary="总结", actor=approver)
    html = client.get(f"/consultations/{c.id}/report").get_data(as_text=True)
    start = html.index('id="by-article"')
    table = html[start:html.index("</table>", start)]
    assert "整体意见" in table and "第三条" in table and "第四条" not in table
    assert 'id="items-1-3"' in html and 'id="items-1-all"' in html
