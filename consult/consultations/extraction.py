"""Reading an uploaded draft (F3): bytes in, paragraphs and notes out — pure functions.

The file's kind is read from its bytes, never from its name: a PDF renamed .docx is refused as a
PDF, a Word file named .txt is read as Word. Plain text is decoded (UTF-8, UTF-16, GB18030);
Word is read for its visible text: accepted insertions without deletions or hidden text, the
numbers Word adds itself (第一条 typed by a list style), tables row by row. `importing.py`
splits what comes out and says what looks wrong.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import docx
from flask_babel import gettext as _

from consult import archives
from consult.consultations.parsing import (
    ARTICLE_RE,
    CHAPTER_RE,
    ITEM_RE,
    PART_RE,
    SECTION_RE,
    int_to_chinese,
)
from consult.errors import ValidationFailed


@dataclass
class Extracted:
    """The readable content of an uploaded draft."""

    kind: str  # "docx" or "txt"
    paragraphs: list[str]
    encoding: str | None = None  # of a .txt
    styled_title: str | None = None  # a .docx paragraph in Word's "Title" style
    notes: list[str] = field(default_factory=list)  # what the editor should know about the file

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def refuse(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={"file": message})


def clean_filename(name: str | None) -> str:
    """The last part of an uploaded file's name, printable only: for messages and the audit log."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:255]


def extract(data: bytes, filename: str | None = None) -> Extracted:
    """Paragraphs of a .docx or .txt draft; ValidationFailed (422) with a clear reason otherwise."""
    name = clean_filename(filename)
    if not data.strip():
        raise refuse(_("文件是空的。"), "empty_file")
    if data.startswith(b"%PDF-"):
        raise refuse(_("“%(name)s”是 PDF 文件，无法导入条款。请上传 Word（.docx）或纯文本（.txt）"
                       "文件；PDF 文件可以作为附件上传。", name=name or "PDF"),
                     "pdf_not_importable")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise refuse(_("这是旧版 Word（.doc）等 Office 97-2003 格式的文件。请在 Word 中“另存为”"
                       "“Word 文档（*.docx）”后再导入。"), "old_word_format")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return extract_docx(data)
    if name.lower().endswith(".docx"):
        raise refuse(_("“%(name)s”的扩展名是 .docx，但内容不是 Word 文件，"
                       "可能已损坏或被改了扩展名。", name=name), "not_docx")
    return extract_txt(data)


# --- plain text ---------------------------------------------------------------------------

_ALLOWED_CONTROLS = set("\t\n\r\f\v\x1a")


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (GBK, GB2312)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    if b"\x00" in data:
        raise refuse(_("这不是文本文件（含有二进制内容）。请上传 Word（.docx）或纯文本（.txt）"
                       "文件。"), "not_text")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError:
        raise refuse(_("无法识别文件的文字编码（支持 UTF-8 和 GB18030/GBK）。请用记事本打开，"
                       "“另存为”UTF-8 编码后再导入。"), "unknown_encoding") from None


def extract_txt(data: bytes) -> Extracted:
    """Lines of a text file; binary content is refused."""
    text, encoding = decode_text(data)
    controls = sum(1 for ch in text
                   if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS)
    if controls > len(text) // 200:
        raise refuse(_("这不是文本文件（含有大量控制字符）。请上传 Word（.docx）或纯文本（.txt）"
                       "文件。"), "not_text")
    text = text.replace("\x1a", "")
    paragraphs = [line.strip() for line in re.split(r"\r\n|\r|\n|\f|\v", text)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise refuse(_("文件是空的。"), "empty_file")
    return Extracted(kind="txt", paragraphs=paragraphs, encoding=encoding)


# --- Word ---------------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _val(element, tag: str) -> str | None:
    """The w:val attribute of the child `tag` of `element`, if any."""
    if element is None:
        return None
    child = element.find(_w(tag))
    return None if child is None else child.get(_w("val"))


# Runs under these are not the document's current visible text: deleted in tracked changes,
# the fallback copy of a drawing (the same text twice), or text boxes floating beside the text.
_SKIPPED_PARENTS = {_w("del"), _w("moveFrom"), f"{{{MC}}}Fallback", _w("txbxContent")}


def _run_text(run) -> str:
    parts = []
    for child in run:
        if child.tag == _w("t"):
            parts.append(child.text or "")
        elif child.tag == _w("tab"):
            parts.append("\t")
        elif child.tag in (_w("br"), _w("cr")):
            parts.append("\n")
        elif child.tag == _w("noBreakHyphen"):
            parts.append("-")
    return "".join(parts)


def paragraph_text(p) -> str:
    """The visible text of a w:p element: accepted insertions, without deletions or hidden text."""
    parts = []
    for run in p.iter(_w("r")):
        parent, skipped = run.getparent(), False
        while parent is not None and parent is not p:
            if parent.tag in _SKIPPED_PARENTS:
                skipped = True
                break
            parent = parent.getparent()
        rpr = run.find(_w("rPr"))
        if skipped or (rpr is not None and rpr.find(_w("vanish")) is not None):
            continue
        parts.append(_run_text(run))
    return "".join(parts)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"),
                           (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"),
                           (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def format_number(n: int, fmt: str | None) -> str:
    """A list counter as Word shows it for the numbering format `fmt`."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting",
               "ideographDigital", "taiwaneseCounting", "taiwaneseCountingThousand"):
        return int_to_chinese(n)
    if fmt == "chineseLegalSimplified":
        return int_to_chinese(n).translate(str.maketrans("一二三四五六七八九十百千",
                                                         "壹贰叁肆伍陆柒捌玖拾佰仟"))
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return "甲乙丙丁戊己庚辛壬癸"[n - 1]
    if fmt in ("upperLetter", "lowerLetter") and n >= 1:
        letter = chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt in ("upperRoman", "lowerRoman") and n >= 1:
        return _roman(n) if fmt == "upperRoman" else _roman(n).lower()
    if fmt == "decimalFullWidth":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class Numbering:
    """Word's automatic list numbering (第一条 typed by Word, not by the author), rendered as text.

    Counters are kept per abstract list, as Word does: lists that share a definition continue
    each other unless a w:startOverride restarts them.
    """

    def __init__(self, document, styles: dict):
        self.levels: dict[str, dict[int, dict]] = {}  # abstractNumId -> ilvl -> level
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstract, overrides)
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        self.styles = styles
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):  # no numbering definitions
            return
        for abstract in root.findall(_w("abstractNum")):
            levels = {}
            for lvl in abstract.findall(_w("lvl")):
                levels[int(lvl.get(_w("ilvl"), "0"))] = {
                    "start": int(_val(lvl, "start") or 1),
                    "fmt": _val(lvl, "numFmt") or "decimal",
                    "text": _val(lvl, "lvlText") or "",
                    "restart": _val(lvl, "lvlRestart"),
                    "suffix": _val(lvl, "suff") or "tab",
                }
            self.levels[abstract.get(_w("abstractNumId"))] = levels
        for num in root.findall(_w("num")):
            overrides = {}
            for override in num.findall(_w("lvlOverride")):
                start = _val(override, "startOverride")
                if start is not None:
                    overrides[int(override.get(_w("ilvl"), "0"))] = int(start)
            self.nums[num.get(_w("numId"))] = (_val(num, "abstractNumId"), overrides)

    def _num_pr(self, p, style_id: str | None):
        """(numId, ilvl) of a paragraph, from itself or from its style (and the styles below)."""
        ppr = p.find(_w("pPr"))
        num_pr = ppr.find(_w("numPr")) if ppr is not None else None
        if num_pr is not None:
            return _val(num_pr, "numId"), int(_val(num_pr, "ilvl") or 0)
        seen = set()
        while style_id and style_id not in seen:
            seen.add(style_id)
            style = self.styles.get(style_id)
            if style is None:
                break
            sppr = style.element.find(_w("pPr"))
            num_pr = sppr.find(_w("numPr")) if sppr is not None else None
            if num_pr is not None:
                return _val(num_pr, "numId"), int(_val(num_pr, "ilvl") or 0)
            based = style.element.find(_w("basedOn"))
            style_id = based.get(_w("val")) if based is not None else None
        return None, 0

    def label(self, p, style_id: str | None) -> str:
        """The number Word shows before paragraph `p` ("第一条 ", "（二）"), or ""."""
        num_id, ilvl = self._num_pr(p, style_id)
        if not num_id or num_id == "0" or num_id not in self.nums:
            return ""
        abstract_id, overrides = self.nums[num_id]
        levels = self.levels.get(abstract_id, {})
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:
            self.started.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
        level = levels[ilvl]
        counters[ilvl] = counters.get(ilvl, level["start"] - 1) + 1
        for deeper, spec in levels.items():
            if deeper > ilvl and spec["restart"] != "0":
                counters.pop(deeper, None)
        if level["fmt"] in ("bullet", "none"):
            return ""

        def counter(match):
            k = int(match[1]) - 1
            spec = levels.get(k, level)
            return format_number(counters.get(k, spec["start"]), spec["fmt"])

        text = re.sub(r"%([1-9])", counter, level["text"])
        if not text:
            return ""
        return text + {"tab": " ", "space": " "}.get(level["suffix"], "")


def _style_name(style) -> str:
    return (getattr(style, "name", None) or "").strip()


def _is_heading(name: str) -> bool:
    lower = name.lower()
    return lower.startswith("heading") or lower.startswith("标题") or lower == "title"


def _is_toc(name: str) -> bool:
    return name.lower().startswith("toc") or name.startswith("目录")


def _open_docx(data: bytes):
    corrupt = refuse(_("文件已损坏，无法打开（不是完整的 .docx 文件）。"), "corrupt_file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise corrupt from None
    with archive:
        names = set(archive.namelist())
        if "word/document.xml" not in names:
            if "xl/workbook.xml" in names:
                raise refuse(_("这是 Excel 文件，无法导入条款。Excel 文件可以作为附件上传。"),
                             "not_docx")
            raise refuse(_("这是一个压缩文件，但不是 Word（.docx）文件。"), "not_docx")
        # Before python-docx parses anything: sizes, ratios and no DTD (zip bombs, entities).
        archives.check(archive, scan_xml=True)
    try:
        return docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - python-docx and lxml raise many kinds on a broken file
        raise refuse(_("Word 文件已损坏或格式无法识别。请在 Word 中打开并重新保存后再导入。"),
                     "corrupt_file") from None


def extract_docx(data: bytes) -> Extracted:
    """Paragraphs of a Word file in order: headings by style, numbers Word adds, tables by row."""
    document = _open_docx(data)
    styles = {}
    for style in document.styles:
        styles[style.style_id] = style
    numbering = Numbering(document, styles)
    body = document.element.body
    result = Extracted(kind="docx", paragraphs=[])
    unnumbered_headings: list[str] = []
    counts = {"tables": 0, "images": 0, "toc": 0, "textboxes": 0}

    def add_paragraph(p) -> None:
        style_id = _val(p.find(_w("pPr")), "pStyle")
        style = styles.get(style_id) if style_id else None
        name = _style_name(style)
        if _is_toc(name):
            counts["toc"] += 1
            return
        text = paragraph_text(p).strip()
        if not text:
            return
        label = numbering.label(p, style_id)
        if label and not text.startswith(label.strip()):
            text = label + text
        if name.lower() == "title" and result.styled_title is None:
            result.styled_title = text
        elif _is_heading(name) and not _has_number(text):
            unnumbered_headings.append(text)
        result.paragraphs.append(text)

    def add_table(tbl) -> None:
        counts["tables"] += 1
        for tr in tbl.findall(_w("tr")):
            cells = []
            for tc in tr.findall(_w("tc")):
                tc_pr = tc.find(_w("tcPr"))
                merge = tc_pr.find(_w("vMerge")) if tc_pr is not None else None
                if merge is not None and merge.get(_w("val"), "continue") == "continue":
                    continue  # the rest of a vertically merged cell: said in the row above
                text = " ".join(t for t in (paragraph_text(p).strip()
                                            for p in tc.iter(_w("p"))) if t)
                if text:
                    cells.append(text)
            if cells:
                result.paragraphs.append(" | ".join(cells))

    def walk(container) -> None:
        for child in container:
            if child.tag == _w("p"):
                add_paragraph(child)
            elif child.tag == _w("tbl"):
                add_table(child)
            elif child.tag == _w("sdt"):  # content controls, including a table of contents
                content = child.find(_w("sdtContent"))
                if content is not None:
                    walk(content)
            elif child.tag in (_w("ins"), _w("customXml")):
                walk(child)

    walk(body)
    counts["images"] = sum(1 for _ in body.iter(_w("drawing"), _w("pict")))
    counts["textboxes"] = sum(1 for _ in body.iter(_w("txbxContent")))
    if not result.paragraphs:
        raise refuse(_("Word 文件中没有文字。"), "empty_file")
    if counts["tables"]:
        result.notes.append(_("文件中的 %(n)d 个表格已按行转为段落（单元格之间以“ | ”分隔），"
                              "请核对。", n=counts["tables"]))
    if counts["images"]:
        result.notes.append(_("文件中的图片（%(n)d 处）未导入；需要时请作为附件上传。",
                              n=counts["images"]))
    if counts["textboxes"]:
        result.notes.append(_("文本框中的文字（%(n)d 处）未导入，请核对。", n=counts["textboxes"]))
    if counts["toc"]:
        result.notes.append(_("已跳过 Word 自动生成的目录。"))
    if unnumbered_headings:
        shown = "、".join(f"“{h[:30]}”" for h in unnumbered_headings[:5])
        result.notes.append(_(
            "%(headings)s 等 %(n)d 段使用了 Word 标题样式，但没有“第一章”“第一条”“一、”“（一）”"
            "这样的编号，未识别为章节；如需分章分节，请在下方全文中补上编号。",
            headings=shown, n=len(unnumbered_headings)))
    return result


def _has_number(text: str) -> bool:
    return any(regex.match(text) for regex in (CHAPTER_RE, SECTION_RE, ARTICLE_RE, PART_RE,
                                               ITEM_RE))
