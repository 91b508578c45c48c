"""Splitting pasted draft text into articles."""

from pathlib import Path

import pytest

from consult.consultations.parsing import parse_articles

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"


RULE_TEXT = """郑州市公共数据开放管理办法（征求意见稿）
第一章 总则
第一条 为了规范公共数据开放，制定本办法。
第二条 本办法适用于本市行政区域内的公共数据开放活动。
第二章 开放管理
第一节 开放目录
第三条 市大数据管理部门应当编制公共数据开放目录。
目录应当动态调整。
第四条 公共数据开放目录应当向社会公布。
第三章 附则
第五条 本办法自2027年1月1日起施行。
"""


def test_rule_with_chapters_sections_and_articles():
    parsed = parse_articles(RULE_TEXT)
    assert [a.label for a in parsed.articles] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    assert [a.number for a in parsed.articles] == [1, 2, 3, 4, 5]
    third = parsed.articles[2]
    assert third.chapter == "第二章 开放管理"
    assert third.section == "第一节 开放目录"
    assert third.text == "市大数据管理部门应当编制公共数据开放目录。\n目录应当动态调整。"
    assert parsed.articles[4].chapter == "第三章 附则" and parsed.articles[4].section is None
    assert parsed.preamble == "郑州市公共数据开放管理办法（征求意见稿）"


def test_plan_with_parts_and_items():
    text = (
        "一、总体要求\n（一）加强领导\n各单位要加强领导。\n(二)明确分工\n分工如下。\n"
        "二、保障措施\n（一）强化培训\n加大培训力度。"
    )
    parsed = parse_articles(text)
    assert [a.label for a in parsed.articles] == ["一(一)", "一(二)", "二(一)"]
    assert parsed.articles[1].heading == "明确分工"
    assert parsed.articles[1].text == "分工如下。"
    assert parsed.articles[2].chapter == "二、保障措施"


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside the checkout")
def test_reference_plan_splits_into_nineteen_items_and_mends_broken_lines():
    text = (REFERENCE / "2020-openness-work-plan.zh.txt").read_text(encoding="utf-8")
    parsed = parse_articles(text)
    assert len(parsed.articles) == 19
    assert parsed.articles[10].label == "三(三)"
    assert parsed.articles[10].heading == "拓寬公眾參與途徑"
    # "穩金\n融" was broken inside a word in the source; it is joined again.
    assert "穩金融" in parsed.articles[2].text


def test_text_without_headings_becomes_paragraph_articles():
    parsed = parse_articles("第一段内容。\n\n第二段内容。")
    assert [a.text for a in parsed.articles] == ["第一段内容。", "第二段内容。"]


def test_empty_text_has_no_articles():
    assert parse_articles("  \n ").articles == []


def test_a_chapter_without_articles_stays_in_the_text():
    parsed = parse_articles("第一章 总则\n第一条 甲。\n第二章 附则\n第三章 其他\n第二条 乙。")
    assert parsed.articles[0].text == "甲。\n第二章 附则"
    assert parsed.articles[1].chapter == "第三章 其他"


def test_a_contents_list_without_its_heading_is_recognised_by_the_repeated_chapter():
    parsed = parse_articles("某某条例\n第一章 总则\n第二章 管理\n第一章 总则\n第一条 甲。\n"
                            "第二章 管理\n第二条 乙。")
    assert parsed.contents == ["第一章 总则", "第二章 管理"]
    assert [a.chapter for a in parsed.articles] == ["第一章 总则", "第二章 管理"]
    assert parsed.preamble == "某某条例"


def test_a_decimal_is_not_a_point_and_a_long_item_line_is_text():
    parsed = parse_articles("一、收费\n1.5万元以下的，免收。\n（一）" + "很长的一句话" * 20)
    assert [a.label for a in parsed.articles] == ["一", "一(一)"]
    assert parsed.articles[0].text == "1.5万元以下的，免收。"
    assert parsed.articles[1].heading is None
    assert parsed.articles[1].text == "很长的一句话" * 20


def test_an_item_with_a_short_first_sentence_has_it_as_heading():
    parsed = parse_articles("（一）加强组织领导。各地要亲自部署。\n（二）强化隐患排查")
    assert [(a.heading, a.text) for a in parsed.articles] == [
        ("加强组织领导。", "各地要亲自部署。"), (None, "强化隐患排查")]
