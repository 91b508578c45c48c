"""The importer on a corpus of real-shaped documents, each as .txt and as .docx.

规章 with a 目录, chapters and sections; a 1996 办法 of 一、 headings over plain paragraphs and
1./2. items; 通知 with （一） items or 1、 points; a work plan mixing 一、/（一）/1.; 意见 of bare
一、 paragraphs; a 修改决定 quoting articles; a 公告 without numbers; full-width indents and no
space after 第X条; traditional characters. Each splits as a reader expects, with no false
numbering warning, nothing lost, the same from Word as from text, and back again from the
editable text.
"""

from pathlib import Path

import pytest

from consult.consultations import importing
from consult.consultations.parsing import articles_text, parse_articles, render

CORPUS = Path(__file__).resolve().parent / "corpus"

# file → (style, article labels, chapters, sections, 目录 lines, first preamble line)
EXPECTED = {
    "01_provincial_regulation_with_contents": (
        "articles", [f"第{n}条" for n in "一二三四五六七八九"], 4, 2, 7, "河南省公共数据管理规定"),
    "02_municipal_rule_fullwidth_no_space": (
        "articles", [f"第{n}条" for n in "一二三四五六七八"], 4, 0, 0, "郑州市电动自行车管理办法"),
    "03_ministry_measures_1996_parts_and_points": (
        "plan", ["一", "一.1", "一.2", "二", "二.1", "二.2", "二.3", "三"], 2, 0, 0,
        "财政部关于印发《会计基础工作规范》的补充办法"),
    "04_notice_with_items": (
        "plan", ["(一)", "(二)", "(三)", "(四)"], 0, 0, 0,
        "关于做好2027年春节期间安全生产工作的通知"),
    "05_work_plan_parts_items_points": (
        "plan", ["一", "二(一)", "二(二)", "二(三)", "三(一)", "三(二)"], 2, 0, 0,
        "郑州市2027年政务公开工作实施方案"),
    "06_opinions_parts_only": (
        "plan", ["一", "二", "三", "四"], 0, 0, 0,
        "郑州市人民政府关于促进民营经济高质量发展的意见"),
    "07_flat_measures_with_annex": (
        "articles", [f"第{n}条" for n in "一二三四五"], 0, 0, 0,
        "郑州市城市道路挖掘管理办法（征求意见稿）"),
    "08_amending_decision": (
        "plan", ["一", "二", "三"], 0, 0, 0,
        "郑州市人民政府关于修改《郑州市城市供水管理办法》的决定"),
    "09_announcement_paragraphs": (
        "paragraphs", [f"第{n}段" for n in range(1, 8)], 0, 0, 0, None),
    "10_regulation_contents_with_pages": (
        "articles", [f"第{n}条" for n in "一二三四五六"], 4, 0, 5, "郑州市物业管理条例"),
    "11_notice_numbered_points": (
        "plan", ["1.", "2.", "3."], 0, 0, 0, "关于开展2027年度行政规范性文件清理工作的通知"),
    "12_traditional_rule": (
        "articles", [f"第{n}條" for n in "一二三四五"], 3, 1, 0, "鄭州市公共資料開放管理辦法"),
}


def _squeeze(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _shape(parsed):
    return [(a.label, a.chapter, a.section, a.heading, a.text) for a in parsed.articles]


def test_the_corpus_has_ten_kinds_of_document_in_both_formats():
    names = {p.stem for p in CORPUS.glob("*.txt")}
    assert names == set(EXPECTED) and len(names) >= 10
    assert names == {p.stem for p in CORPUS.glob("*.docx")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_document_splits_as_a_reader_expects(name):
    style, labels, chapters, sections, contents, first = EXPECTED[name]
    text = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    preview = importing.preview(text)
    assert preview.style == style
    assert [a.label for a in preview.parsed.articles] == labels
    assert preview.counts["chapters"] == chapters
    assert preview.counts["sections"] == sections
    assert len(preview.parsed.contents) == contents
    if first is not None:
        assert preview.parsed.preamble.split("\n")[0] == first
    # No false warning: the only notes are the 目录 set aside and, without numbers, the split.
    expected_notes = (1 if contents else 0) + (1 if style == "paragraphs" else 0)
    assert len(preview.warnings) == expected_notes, preview.warnings
    assert not any("重复" in w or "不连续" in w or "没有内容" in w for w in preview.warnings)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_line_of_the_document_is_lost(name):
    text = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    out = _squeeze(render(parse_articles(text)))
    for line in text.splitlines():
        if line.strip():
            assert _squeeze(line) in out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_word_and_text_split_alike(name):
    text = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    extracted = importing.extract((CORPUS / f"{name}.docx").read_bytes(), f"{name}.docx")
    assert extracted.kind == "docx"
    assert _shape(parse_articles(extracted.text)) == _shape(parse_articles(text))
    assert importing.detect_title(extracted) == text.split("\n")[0].strip()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_editable_text_splits_back_into_the_same_articles(name):
    parsed = parse_articles((CORPUS / f"{name}.txt").read_text(encoding="utf-8"))
    again = parse_articles(articles_text(parsed.preamble, parsed.articles))
    assert _shape(again) == _shape(parsed)


def test_the_1996_measures_keep_their_three_headings():
    """The 财政部 办法 that once fell back to paragraphs and dropped 一、二、三、."""
    parsed = parse_articles(
        (CORPUS / "03_ministry_measures_1996_parts_and_points.txt").read_text(encoding="utf-8"))
    headings = [a.chapter or f"{a.label}、{a.heading}" for a in parsed.articles]
    for heading in ("一、关于会计机构和会计人员", "二、关于会计核算", "三、关于会计监督"):
        assert heading in headings
    assert parsed.articles[1].text == (
        "大、中型企业、事业单位和业务主管部门应当根据法律和国家有关规定设置总会计师。")


def test_a_contents_list_is_set_aside_not_taken_for_the_preamble():
    parsed = parse_articles(
        (CORPUS / "01_provincial_regulation_with_contents.txt").read_text(encoding="utf-8"))
    assert parsed.contents[0] == "目　　录"
    assert parsed.preamble == ("河南省公共数据管理规定\n（2026年3月1日河南省人民政府令第210号公布"
                               "　自2026年5月1日起施行）")
    assert parsed.articles[3].chapter == "第二章 数据目录"
    assert parsed.articles[3].section == "第一节 目录编制"
    assert parsed.articles[0].chapter == "第一章 总则"


def test_the_import_page_shows_the_contents_set_aside_without_false_warnings(
        client_as, post_form, make):
    from tests.consultations.test_import import upload

    unit = make.unit()
    client = client_as(make.user("editor", unit))
    name = "01_provincial_regulation_with_contents.docx"
    response = upload(client, post_form, (CORPUS / name).read_bytes(), name, unit=unit)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已略去的目录（7 行）" in html and "重复出现" not in html
    assert "9 条" in html
