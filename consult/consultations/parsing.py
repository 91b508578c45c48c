"""Split pasted draft text into articles by its own headings, losing no line.

Understood headings: 第一章 (chapter), 第一节 (section), 第一条 (article); or, in plans and
notices without 第一条, 一、 (part, kept as the chapter), （一）/(一) (item) and 1./1、 (point).
In a plan an item is an article; a point is an article where it stands directly under a part
(or at the top), else it stays in its item's text; a part's own paragraphs (before its first
item or point, or a part with none) are the part's article, labelled 一. Text before the first
heading (a title, a preamble) is returned apart, or becomes the article if nothing else does.

Nothing is dropped: a 目录 (table of contents) at the top is recognised and set aside
(`ParsedDraft.contents`), a chapter or section heading with no article under it stays in the
text where it stood, and `render` writes every line back (a property test holds it to that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CN_NUM = "零〇一二三四五六七八九十百千两"
_NUM = rf"[{CN_NUM}\d]{{1,12}}"

CHAPTER_RE = re.compile(rf"^\s*(第{_NUM}章)\s*(.*)$")
SECTION_RE = re.compile(rf"^\s*(第{_NUM}[节節])\s*(.*)$")
ARTICLE_RE = re.compile(rf"^\s*(第{_NUM}[条條])\s*(.*)$")
PART_RE = re.compile(rf"^\s*([{CN_NUM}]{{1,8}})\s*[、，,．.]\s*(.*)$")
ITEM_RE = re.compile(rf"^\s*[（(]\s*([{CN_NUM}]{{1,8}})\s*[)）]\s*(.*)$")
# 1. / 1、 / １． — but not a decimal (3.5万元) at the start of a sentence.
POINT_RE = re.compile(r"^\s*([0-9０-９]{1,3})\s*[.．、](?![0-9０-９])\s*(.*)$")
CONTENTS_RE = re.compile(r"^\s*目\s*[录錄次]\s*$")
# A 目录 entry ends in dot leaders and a page number: "第一章　总则……1".
PAGE_RE = re.compile(r"(?:[.．·…。_—-]{2,}|\s)\s*[0-9０-９]+\s*$")

# Longest chapter and heading kept as such (the columns' size); a longer "heading" is text.
CHAPTER_MAX = 200
HEADING_MAX = 60


@dataclass
class ParsedArticle:
    number: int
    label: str
    text: str
    chapter: str | None = None
    section: str | None = None
    heading: str | None = None
    marker: str = ""  # the number as the text wrote it: 第三条, （二）, 1.


@dataclass
class ParsedDraft:
    articles: list[ParsedArticle] = field(default_factory=list)
    preamble: str = ""
    contents: list[str] = field(default_factory=list)  # a 目录 set aside, its lines as they were


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


_SENTENCE_END = tuple("。；：！？;:!?」”）)")


def _join(text: str, line: str) -> str:
    """Join a continuation line: a new paragraph after a full stop, else a broken line mended."""
    if not text:
        return line
    return f"{text}\n{line}" if text.endswith(_SENTENCE_END) else text + line


def _structural(line: str) -> re.Match | None:
    return CHAPTER_RE.match(line) or SECTION_RE.match(line)


def _entry_label(line: str) -> str | None:
    m = _structural(line)
    return m[1] if m else None


def split_contents(lines: list[str]) -> tuple[list[str], list[str]]:
    """(contents, body): a 目录 near the top — the line 目录 and the chapter, section and
    page-numbered entries after it, or a run of chapter headings whose first comes back — set
    apart from the body. `lines` are stripped and non-empty."""
    for i, line in enumerate(lines[:60]):
        if not CONTENTS_RE.match(line):
            continue
        seen: set[str] = set()
        j = i + 1
        while j < len(lines):
            entry = lines[j]
            label = _entry_label(entry)
            if label is not None and label in seen:
                break  # the body starts: its first chapter again
            if label is None and not (PAGE_RE.search(entry) and len(entry) <= 80):
                break
            if label is not None:
                seen.add(label)
            j += 1
        if j > i + 1:
            return lines[i:j], lines[:i] + lines[j:]
        break
    # No 目录 line: chapter headings in a row at the top, the first of them repeated later.
    for i, line in enumerate(lines[:60]):
        if not CHAPTER_RE.match(line):
            continue
        j, seen = i, set()
        while j < len(lines) and _structural(lines[j]) and _entry_label(lines[j]) not in seen:
            seen.add(_entry_label(lines[j]))
            j += 1
        first = _entry_label(line)
        if j - i >= 2 and sum(1 for x in lines[i + 1:j] if CHAPTER_RE.match(x)) >= 1 and any(
                _entry_label(x) == first for x in lines[j:]):
            return lines[i:j], lines[:i] + lines[j:]
        break
    return [], lines


def style_of(lines: list[str]) -> str:
    if any(ARTICLE_RE.match(line) for line in lines):
        return "articles"
    if any(PART_RE.match(line) or ITEM_RE.match(line) or POINT_RE.match(line) for line in lines):
        return "plan"
    return "paragraphs"


def split_heading(rest: str) -> tuple[str | None, str]:
    """(heading, text) of what follows an item's or part's number: a short line is a heading,
    a short first sentence before more text is one too, a long line is text."""
    rest = rest.strip()
    if not rest:
        return None, ""
    stop = rest.find("。")
    if 0 <= stop < min(len(rest) - 1, HEADING_MAX):
        return rest[:stop + 1], rest[stop + 1:].strip()
    if len(rest) <= HEADING_MAX:
        return rest, ""
    return None, rest


_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _title(m: re.Match) -> str:
    """第一章 总则 from "第一章　总　　则": one space after the number, none between characters."""
    return f"{m[1]} {_CJK_GAP.sub('', m[2].strip())}".strip()


def _digits(text: str) -> str:
    return text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


def parse_articles(text: str) -> ParsedDraft:
    """Split `text` into articles; plain text with no headings becomes one article per paragraph."""
    result = ParsedDraft()
    stripped_lines = [line.strip() for line in _lines(text) if line.strip()]
    result.contents, lines = split_contents(stripped_lines)
    style = style_of(lines)
    chapter = section = None
    part: str | None = None  # the number of the current 一、 part (plan)
    current: ParsedArticle | None = None
    preamble: list[str] = []
    pending: list[str] = []  # chapter and section lines no article has taken yet
    # The part-level articles (a part's own paragraphs): their marker (一、) and heading.
    parts: dict[int, tuple[str, str | None]] = {}

    def keep(line: str) -> None:
        """A line of text: the current article's, else the preamble's."""
        if current is None:
            preamble.append(line)
        else:
            current.text = _join(current.text, line)

    def orphans() -> None:
        """Headings with no article under them stay in the text where they stood."""
        for line in pending:
            if current is None:
                preamble.append(line)
            else:
                current.text = f"{current.text}\n{line}" if current.text else line
        pending.clear()

    def start(label: str, marker: str, rest: str, heading: str | None = None) -> ParsedArticle:
        nonlocal current
        pending.clear()
        current = ParsedArticle(
            number=0, label=label, text=rest.strip(), chapter=chapter, section=section,
            heading=heading, marker=marker,
        )
        result.articles.append(current)
        return current

    for line in lines:
        if style == "articles":
            if m := CHAPTER_RE.match(line):
                orphans()
                section = None
                if len(line) <= CHAPTER_MAX:
                    chapter = _title(m)
                    pending.append(line)
                else:  # too long for a chapter title: the number heads it, the line is text
                    chapter = m[1]
                    keep(line)
                continue
            if m := SECTION_RE.match(line):
                if pending and SECTION_RE.match(pending[-1]):
                    orphans()
                if len(line) <= CHAPTER_MAX:
                    section = _title(m)
                    pending.append(line)
                else:
                    section = m[1]
                    keep(line)
                continue
            if m := ARTICLE_RE.match(line):
                start(m[1], m[1], m[2])
                continue
        elif style == "plan":
            if m := PART_RE.match(line):
                orphans()
                part, section = m[1], None
                marker = line[:len(line) - len(m[2])].strip()
                heading, rest = split_heading(m[2])
                chapter = marker + (heading or "")
                parts[id(start(part, "", rest))] = (marker, heading)
                continue
            if m := ITEM_RE.match(line):
                label = f"{part}({m[1]})" if part else f"({m[1]})"
                heading, rest = split_heading(m[2])
                start(label, line[:len(line) - len(m[2])].strip(), rest, heading=heading)
                continue
            if (m := POINT_RE.match(line)) and (
                    current is None or current.label == part or "." in current.label):
                number = _digits(m[1])
                label = f"{part}.{number}" if part else f"{number}."
                start(label, line[:len(line) - len(m[2])].strip(), m[2])
                continue
        keep(line)
    orphans()

    if style == "paragraphs" or not result.articles:
        # No headings at all: each paragraph is an article, numbered as it stands.
        for i, para in enumerate(preamble, start=1):
            result.articles.append(ParsedArticle(number=i, label=f"第{i}段", text=para))
        for i, article in enumerate(result.articles, start=1):
            article.number = i
        return result

    # A part's own article: dropped when empty and its items follow; a part with nothing under
    # it is an article like any other (一、 its number, no chapter of its own).
    articles, result.articles = result.articles, []
    for i, article in enumerate(articles):
        if id(article) in parts:
            alone = i + 1 == len(articles) or id(articles[i + 1]) in parts
            if alone:
                article.marker, article.heading = parts[id(article)]
                article.chapter = None
            elif not article.text:
                continue
        result.articles.append(article)
    result.preamble = "\n".join(preamble)
    for article in result.articles:
        if not article.text and article.heading:
            article.text, article.heading = article.heading, None
    for i, article in enumerate(result.articles, start=1):
        article.number = i
    return result


def articles_text(preamble: str | None, articles) -> str:
    """Articles (parsed or saved: label, chapter, section, heading, text) as editable text that
    splits back into the same articles: the numbers written as the text writes them."""
    lines, chapter, section = ([preamble] if preamble else []), None, None
    for article in articles:
        if article.chapter and article.chapter != chapter:
            chapter = article.chapter
            lines.append(chapter)
        if article.section and article.section != section:
            section = article.section
            lines.append(section)
        label, heading, text = article.label, article.heading, article.text
        if ARTICLE_RE.match(label):
            head = f"{label} "
        elif label.endswith(")") and "(" in label:  # 一(二) → （二）
            head = "（" + label.split("(", 1)[1].rstrip(")") + "）"
        elif "." in label:  # 一.1 and 1. → 1.
            head = label.rsplit(".", 1)[1] + "." if not label.endswith(".") else label
        elif PART_RE.match(label + "、") and not article.chapter:  # a part on its own
            head = label + "、"
        else:  # a part's own paragraphs under its heading, or a paragraph
            head = ""
        if heading:
            lines.append(head + heading)
            lines.append(text)
        else:
            lines.append(head + text)
    return "\n".join(lines)


def render(parsed: ParsedDraft) -> str:
    """The parsed draft written back as text: preamble, 目录, then each chapter, section and
    article with its number as written (what the importer must not lose)."""
    lines = [parsed.preamble] if parsed.preamble else []
    lines += parsed.contents
    chapter = section = None
    for article in parsed.articles:
        if article.chapter and article.chapter != chapter:
            chapter = article.chapter
            lines.append(chapter)
        if article.section and article.section != section:
            section = article.section
            lines.append(section)
        head = article.marker + (article.heading or "")
        lines.append(f"{head}\n{article.text}" if head else article.text)
    return "\n".join(lines)


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
