"""Write the .docx twin of each corpus .txt, as a drafting office types it in Word.

Run from the checkout: `.venv/bin/python tests/consultations/corpus/build_docx.py`. The first
line is in Word's Title style, chapters and parts are Heading 1, sections and items Heading 2,
the 目录 sits under its own heading, indents are paragraph formatting (first line two
characters) instead of full-width spaces, and paragraphs are split into several runs, so the
importer reads Word the way it is really written. The .docx files are committed.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.shared import Pt

HERE = Path(__file__).resolve().parent
CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章")
SECTION = re.compile(r"^第[一二三四五六七八九十]+[节節]")
PART = re.compile(r"^[一二三四五六七八九十]+、")
ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")


def build(source: Path) -> Path:
    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    document = docx.Document()
    document.core_properties.title = lines[0]
    document.add_paragraph(lines[0], style="Title")
    for line in lines[1:]:
        if CHAPTER.match(line) or PART.match(line) or re.fullmatch(r"目\s*录", line):
            document.add_heading(line, level=1)
        elif SECTION.match(line) or ITEM.match(line):
            document.add_heading(line, level=2)
        else:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(24)
            middle = len(line) // 2
            paragraph.add_run(line[:middle])
            paragraph.add_run(line[middle:])
    target = source.with_suffix(".docx")
    document.save(target)
    return target


if __name__ == "__main__":
    for path in sorted(HERE.glob("*.txt")):
        print(build(path).name)
