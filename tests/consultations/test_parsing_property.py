"""The importer loses nothing: whatever the text, every non-empty line comes back out.

Generated documents mix every kind of line the splitter understands (chapters, sections,
articles with and without a space, 一、 parts, （一）/(一) items, 1./1、 points, a 目录 with page
numbers, full-width indents, broken lines) with free text, in any order. Every non-empty input
line must be found (whitespace aside) in the parsed draft written back (`render`): the
preamble, the 目录 set aside, the headings, the numbers as written and the article text. And
whatever is parsed fits the columns it is saved in.
"""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.consultations.parsing import int_to_chinese, parse_articles, render

WORDS = ["公共数据", "开放", "管理", "单位", "应当", "依法", "本办法", "规定", "市人民政府",
         "第三条规定的", "一是", "目录", "附件", "（", "）", "“", "”", "1.5万元", "2027年",
         "第", "条", "章", "节", "、", "，", "：", "；", "……", "?", "繁體條款"]
ENDS = ["", "。", "；", "：", "，"]
SPACES = ["", " ", "　", "　　", "\t"]


def _cn(n: int) -> str:
    return int_to_chinese(n)


sentence = st.builds(
    lambda words, end: "".join(words) + end,
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), st.sampled_from(ENDS),
)
plain = st.builds(lambda words, end: "".join(words) + end,
                  st.lists(st.sampled_from(WORDS[:9]), min_size=1, max_size=8),
                  st.sampled_from(ENDS))
number = st.integers(min_value=1, max_value=40)
indent = st.sampled_from(SPACES)

line_kinds = st.one_of(
    sentence,
    st.builds(lambda n, s, t: f"第{_cn(n)}章{s}{t}", number, st.sampled_from(SPACES), sentence),
    st.builds(lambda n, s, t: f"第{_cn(n)}节{s}{t}", number, st.sampled_from(SPACES), sentence),
    st.builds(lambda n, s, t: f"第{_cn(n)}条{s}{t}", number, st.sampled_from(SPACES), sentence),
    st.builds(lambda n, t: f"第{_cn(n)}條　{t}", number, sentence),
    st.builds(lambda n, p, t: f"{_cn(n)}{p}{t}", number, st.sampled_from(["、", "．", "."]),
              sentence),
    st.builds(lambda n, t: f"（{_cn(n)}）{t}", number, sentence),
    st.builds(lambda n, t: f"({_cn(n)}){t}", number, sentence),
    st.builds(lambda n, p, t: f"{n}{p}{t}", number, st.sampled_from([".", "、", "．"]), sentence),
    st.builds(lambda n, t: f"（{n}）{t}", number, sentence),
    st.just("目录"),
    st.just("目　　录"),
    st.builds(lambda n, t, p: f"第{_cn(n)}章　{t}……{p}", number, sentence, number),
    st.builds(lambda t: "　　" + t, sentence),
    st.text(alphabet="第一二三十章节条、（）().。1２ 　目录abc", min_size=1, max_size=12),
)

document = st.lists(st.tuples(indent, line_kinds, st.sampled_from(["\n", "\n\n", "\r\n"])),
                    max_size=40)


def _squeeze(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _assert_nothing_lost(text: str) -> None:
    parsed = parse_articles(text)
    out = _squeeze(render(parsed))
    for line in re.split(r"\r\n|\r|\n", text):
        if line.strip():
            assert _squeeze(line) in out, (line, render(parsed))
    # What is parsed fits the columns it is saved in (articles.label, chapter, section, heading).
    for article in parsed.articles:
        assert len(article.label) <= 60
        assert article.chapter is None or len(article.chapter) <= 200
        assert article.section is None or len(article.section) <= 200
        assert article.heading is None or len(article.heading) <= 300
    assert [a.number for a in parsed.articles] == list(range(1, len(parsed.articles) + 1))


@settings(max_examples=400, deadline=None)
@given(document)
def test_no_non_empty_line_disappears(lines):
    _assert_nothing_lost("".join(f"{pad}{line}{end}" for pad, line, end in lines))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_no_line_of_any_text_disappears(text):
    _assert_nothing_lost(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(number, plain), min_size=1, max_size=10),
       st.lists(plain, max_size=4))
def test_a_plan_of_parts_keeps_its_headings(parts, preamble):
    """一、 headings over plain paragraphs (the 1996 办法 that lost all three headings)."""
    text = "\n".join(preamble + [f"{_cn(i)}、关于{t}\n{t}{t}" for i, (_n, t) in
                                 enumerate(parts, start=1)])
    parsed = parse_articles(text)
    assert [(a.label, a.heading, a.text) for a in parsed.articles] == [
        (_cn(i), f"关于{t}", t + t) for i, (_n, t) in enumerate(parts, start=1)]
    assert parsed.preamble == "\n".join(preamble)
