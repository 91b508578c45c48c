"""Split pasted draft text into articles by its own headings.

Understood headings: 第一章 (chapter), 第一节 (section), 第一条 (article); or, in plans like the
reference document, 一、 (part, kept as the chapter) and （一）/(一) (article).
Text before the first article heading (a title, a preamble) becomes a preamble article only if
no other article follows; otherwise it is returned apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CN_NUM = "零〇一二三四五六七八九十百千两"
_NUM = rf"[{CN_NUM}\d]+"

CHAPTER_RE = re.compile(rf"^\s*(第{_NUM}章)\s*(.*)$")
SECTION_RE = re.compile(rf"^\s*(第{_NUM}节)\s*(.*)$")
ARTICLE_RE = re.compile(rf"^\s*(第{_NUM}条)\s*(.*)$")
PART_RE = re.compile(rf"^\s*([{CN_NUM}]+)\s*[、，,．.]\s*(.*)$")
ITEM_RE = re.compile(rf"^\s*[（(]\s*([{CN_NUM}]+)\s*[)）]\s*(.*)$")


@dataclass
class ParsedArticle:
    number: int
    label: str
    text: str
    chapter: str | None = None
    section: str | None = None
    heading: str | None = None


@dataclass
class ParsedDraft:
    articles: list[ParsedArticle] = field(default_factory=list)
    preamble: str = ""


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


_SENTENCE_END = tuple("。；：！？;:!?」”）)")


def _join(text: str, line: str) -> str:
    """Join a continuation line: a new paragraph after a full stop, else a broken line mended."""
    if not text:
        return line
    return f"{text}\n{line}" if text.endswith(_SENTENCE_END) else text + line


def parse_articles(text: str) -> ParsedDraft:
    """Split `text` into articles; plain text with no headings becomes one article per paragraph."""
    lines = [line for line in _lines(text) if line.strip()]
    has_articles = any(ARTICLE_RE.match(line) for line in lines)
    result = ParsedDraft()
    chapter = section = None
    current: ParsedArticle | None = None
    preamble: list[str] = []

    def start(label: str, rest: str, heading: str | None = None) -> ParsedArticle:
        article = ParsedArticle(
            number=len(result.articles) + 1, label=label, text=rest.strip(),
            chapter=chapter, section=section, heading=heading,
        )
        result.articles.append(article)
        return article

    for line in lines:
        stripped = line.strip()
        if has_articles:
            if m := CHAPTER_RE.match(stripped):
                chapter, section, current = f"{m[1]} {m[2]}".strip(), None, None
                continue
            if m := SECTION_RE.match(stripped):
                section, current = f"{m[1]} {m[2]}".strip(), None
                continue
            if m := ARTICLE_RE.match(stripped):
                current = start(m[1], m[2])
                continue
        else:
            if m := PART_RE.match(stripped):
                chapter, current = f"{m[1]}、{m[2]}".strip(), None
                continue
            if m := ITEM_RE.match(stripped):
                label = f"{chapter.split('、')[0]}({m[1]})" if chapter else f"({m[1]})"
                current = start(label, "", heading=m[2].strip() or None)
                continue
        if current is None:
            preamble.append(stripped)
        else:
            current.text = _join(current.text, stripped)

    if not result.articles:
        # No headings at all: each paragraph is an article, numbered as it stands.
        for i, para in enumerate(preamble, start=1):
            result.articles.append(ParsedArticle(number=i, label=f"第{i}段", text=para))
        return result
    result.preamble = "\n".join(preamble)
    for article in result.articles:
        if not article.text and article.heading:
            article.text, article.heading = article.heading, None
    return result


# ------------------------------------------------------------------------------ numerals

CN_DIGITS = "零一二三四五六七八九"


def int_to_chinese(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五, 110 → 一百一十 (as 第N条 writes them)."""
    if n <= 0 or n >= 10000:
        return str(n)
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    size, unit = (100, "百") if n < 1000 else (1000, "千")
    head, rest = divmod(n, size)
    out = CN_DIGITS[head] + unit
    if rest == 0:
        return out
    if rest < size // 10:
        out += "零"
    return out + ("一" if 10 <= rest < 20 else "") + int_to_chinese(rest)


def chinese_to_int(text: str) -> int | None:
    """一 → 1, 十一 → 11, 二十 → 20, 一百零一 → 101; digits as they are; None if not a number."""
    if text.isdigit():
        return int(text)
    digits = {ch: i for i, ch in enumerate(CN_DIGITS)} | {"〇": 0, "两": 2}
    units = {"十": 10, "百": 100, "千": 1000}
    total = current = 0
    for ch in text:
        if ch in digits:
            current = digits[ch]
        elif ch in units:
            total += (current or 1) * units[ch]
            current = 0
        else:
            return None
    return total + current or None
