"""Import a draft from a Word (.docx) or plain-text (.txt) file (F3).

`extraction.py` reads the file (bytes in, paragraphs and notes out); `preview(text)` then splits
the (possibly corrected) text with `parse_articles` and says what looks wrong: no headings,
skipped or repeated numbers, garbled characters. Nothing is stored until the editor has seen the
split and saves it (`save_import`, the one service here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import gettext as _

from consult import audit
from consult.auth.models import Unit, User
from consult.consultations import services
from consult.consultations.extraction import Extracted, clean_filename, extract, refuse
from consult.consultations.models import Consultation
from consult.consultations.parsing import (
    ARTICLE_RE,
    CHAPTER_RE,
    ITEM_RE,
    PART_RE,
    SECTION_RE,
    ParsedDraft,
    chinese_to_int,
    parse_articles,
    split_contents,
    style_of,
)
from consult.uploads import TooLarge

__all__ = ["Extracted", "Preview", "body_text", "clean_filename", "detect_title", "extract",
           "preview", "read_limited", "refuse", "save_import"]

TITLE_MAX = 300
GARBLED_SHOWN = 10


@dataclass
class Preview:
    """How a text splits, and what in it looks wrong."""

    parsed: ParsedDraft
    style: str  # "articles" (第一条), "plan" (一、/（一）) or "paragraphs" (no headings)
    counts: dict[str, int]
    warnings: list[str]


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """The upload's bytes, or TooLarge (413) past `limit`, without reading more than needed."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(_("导入的文件不能超过 %(mb)d MB。", mb=max(1, limit // (1024 * 1024))))
    return data


# --- title and preview ----------------------------------------------------------------------

def detect_title(extracted: Extracted) -> str:
    """The draft's title: a paragraph before the articles naming the 征求意见稿, Word's "Title"
    paragraph, or else the first paragraph."""
    parsed = parse_articles(extracted.text)
    candidates = parsed.preamble.split("\n") if parsed.preamble else extracted.paragraphs[:5]
    for line in candidates:
        if "征求意见稿" in line or "徵求意見稿" in line:
            return line.strip()[:TITLE_MAX]
    if extracted.styled_title:
        return extracted.styled_title[:TITLE_MAX]
    return extracted.paragraphs[0][:TITLE_MAX]


def body_text(extracted: Extracted, title: str) -> str:
    """The text without its title paragraph (the title has its own field)."""
    paragraphs = list(extracted.paragraphs)
    for i, paragraph in enumerate(paragraphs[:20]):
        if paragraph[:TITLE_MAX] == title:
            del paragraphs[i]
            break
    return "\n".join(paragraphs) if paragraphs else extracted.text


CJK = r"\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
GARBLED_RE = re.compile(rf"\ufffd|[\ue000-\uf8ff]|(?<=[{CJK}])\?|\?(?=[{CJK}])")


def garbled(text: str) -> list[tuple[int, str]]:
    """(line, excerpt) of each suspect character: U+FFFD, private-use characters (symbol fonts),
    and a lone ASCII "?" beside Chinese text, the usual trace of a failed conversion."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        for match in GARBLED_RE.finditer(line):
            start = max(0, match.start() - 8)
            excerpt = line[start:match.end() + 8]
            found.append((number, ("…" if start else "") + excerpt
                          + ("…" if match.end() + 8 < len(line) else "")))
    return found


def _sequence_warnings(items: list[tuple[str, int | None]], scope: str = "") -> list[str]:
    """Warnings for numbers that repeat, skip or go backwards in `items` ((label, number), ...)."""
    warnings, seen = [], set()
    previous_label, previous = None, 0
    for label, number in items:
        if number is None:
            continue
        if number in seen:
            warnings.append(_("%(scope)s“%(label)s”重复出现。", scope=scope, label=label))
        elif number != previous + 1:
            if previous_label is None:
                warnings.append(_("%(scope)s编号从“%(label)s”开始，前面的编号缺失。",
                                  scope=scope, label=label))
            else:
                warnings.append(_("%(scope)s“%(before)s”之后是“%(label)s”，编号不连续。",
                                  scope=scope, before=previous_label, label=label))
        seen.add(number)
        previous_label, previous = label, number
    return warnings


def numbering_warnings(text: str, style: str) -> list[str]:
    """Skipped, repeated or out-of-order chapter, section and article numbers (a 目录 aside)."""
    _contents, lines = split_contents([line.strip() for line in text.split("\n") if line.strip()])
    if style == "articles":
        chapters, articles = [], []
        sections: dict[str, list] = {}
        chapter = ""
        for line in lines:
            if m := CHAPTER_RE.match(line):
                chapter = m[1]
                chapters.append((m[1], chinese_to_int(m[1][1:-1])))
            elif m := SECTION_RE.match(line):
                sections.setdefault(chapter, []).append((m[1], chinese_to_int(m[1][1:-1])))
            elif m := ARTICLE_RE.match(line):
                articles.append((m[1], chinese_to_int(m[1][1:-1])))
        warnings = _sequence_warnings(chapters) + _sequence_warnings(articles)
        for chapter, items in sections.items():
            warnings += _sequence_warnings(items, scope=chapter and f"{chapter}中")
        return warnings
    if style == "plan":
        parts, items = [], {}
        part = ""
        for line in lines:
            if m := PART_RE.match(line):
                part = m[1]
                parts.append((f"{m[1]}、", chinese_to_int(m[1])))
            elif m := ITEM_RE.match(line):
                items.setdefault(part, []).append((f"（{m[1]}）", chinese_to_int(m[1])))
        warnings = _sequence_warnings(parts)
        for part, numbered in items.items():
            warnings += _sequence_warnings(numbered, scope=part and f"“{part}、”中")
        return warnings
    return []


def preview(text: str) -> Preview:
    """Split `text` as saving would, with counts and what the editor should check."""
    parsed = parse_articles(text)
    articles = parsed.articles
    _contents, body = split_contents([line.strip() for line in text.split("\n") if line.strip()])
    style = style_of(body) if articles else "paragraphs"
    counts = {
        "chapters": len({a.chapter for a in articles if a.chapter}),
        "sections": len({(a.chapter, a.section) for a in articles if a.section}),
        "articles": len(articles),
        "characters": sum(len(a.text) for a in articles),
    }
    warnings = []
    if parsed.contents:
        warnings.append(_("已识别出目录（%(n)d 行）并将其略去，不作为条款或序言。",
                          n=len(parsed.contents)))
    if style == "paragraphs" and articles:
        warnings.append(_("未识别到条款编号，已按段落拆分（共 %(n)d 段）。如原文有“第一条”“一、”"
                          "“（一）”等编号，请检查编号是否写在正文里。", n=len(articles)))
    warnings += numbering_warnings(text, style)
    for article in articles:
        if not article.text.strip():
            warnings.append(_("“%(label)s”没有内容。", label=article.label))
    suspects = garbled(text)
    if suspects:
        listed = "；".join(_("第 %(line)d 行“%(text)s”", line=line, text=excerpt)
                          for line, excerpt in suspects[:GARBLED_SHOWN])
        warnings.append(_("发现 %(n)d 处疑似乱码或转换错误的字符，请对照原文改正：%(list)s。",
                          n=len(suspects), list=listed))
    return Preview(parsed=parsed, style=style, counts=counts, warnings=warnings)


def save_import(unit: Unit, data: services.DraftInput, *, actor: User,
                filename: str | None = None) -> Consultation:
    """Create the draft from the corrected text, noting the source file in the audit log."""
    consultation = services.create_draft(unit, data, actor=actor)
    name = clean_filename(filename)
    audit.record(actor, "import", consultation,
                 reason=_("来源文件：%(name)s", name=name) if name else None,
                 detail={"filename": name} if name else None)
    return consultation
