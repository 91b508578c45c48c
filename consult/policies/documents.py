"""A published policy as a document to download: DOCX (python-docx, written per request: it
takes milliseconds) and PDF (WeasyPrint, the report's layout path, built by a job: see
`consult/policies/files.py`). Both carry the title, 文号, unit, dates and the text article by
article, with chapters and sections as headings, and a link back to the page (from BASE_URL)."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import docx
from docx.shared import Pt
from flask import render_template
from flask_babel import gettext as _

from consult.answers.exports import html_to_pdf
from consult.labels import label
from consult.policies.models import Policy
from consult.urls import external_url

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|]+')


def blocks(policy: Policy) -> list[tuple[str, str]]:
    """(kind, text) in reading order: chapter, section, article (label, heading and text)."""
    out: list[tuple[str, str]] = []
    chapter = section = None
    for article in policy.articles:
        if article.chapter and article.chapter != chapter:
            chapter, section = article.chapter, None
            out.append(("chapter", chapter))
        if article.section and article.section != section:
            section = article.section
            out.append(("section", section))
        head = " ".join(x for x in (_label(article), article.heading) if x)
        out.append(("article", f"{head}　{article.text}" if head else article.text))
    return out


def _label(article) -> str:
    """The number as a reader cites it: 第三条; 一(二) → （二）; 一.1 → 1."""
    text = article.label
    if text.endswith("段"):
        return ""
    if text.endswith(")") and "(" in text:
        return "（" + text.split("(", 1)[1].rstrip(")") + "）"
    if "." in text and not text.endswith("."):
        return text.rsplit(".", 1)[1] + "."
    return text if text.startswith("第") or text.endswith(".") else text + "、"


def facts(policy: Policy) -> list[tuple[str, str]]:
    rows = [(_("文号"), policy.document_number), (_("发文单位"), policy.unit.name),
            (_("文件类型"), str(label(policy.type, "type"))),
            (_("印发日期"), policy.issued_on.isoformat())]
    if policy.effective_on:
        rows.append((_("施行日期"), policy.effective_on.isoformat()))
    if policy.valid_until:
        rows.append((_("有效期至"), policy.valid_until.isoformat()))
    return rows


def policy_docx(policy: Policy) -> bytes:
    """The policy as a Word document."""
    document = docx.Document()
    document.core_properties.title = policy.title
    document.core_properties.identifier = policy.document_number
    document.add_paragraph(policy.title, style="Title")
    document.add_paragraph(policy.document_number).alignment = 1  # centred, as issued
    for name, value in facts(policy):
        document.add_paragraph(f"{name}：{value}")
    if policy.preamble:
        for line in policy.preamble.split("\n"):
            document.add_paragraph(line)
    for kind, text in blocks(policy):
        if kind == "chapter":
            document.add_heading(text, level=1)
        elif kind == "section":
            document.add_heading(text, level=2)
        else:
            for i, line in enumerate(text.split("\n")):
                paragraph = document.add_paragraph(line)
                paragraph.paragraph_format.first_line_indent = Pt(21) if i else None
    document.add_paragraph(_("网页版：%(url)s", url=page_url(policy)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def page_url(policy: Policy) -> str:
    return external_url("policies.detail", policy_id=policy.id)


def policy_html(policy: Policy) -> str:
    """The print layout (templates/policies/print.html)."""
    return render_template("policies/print.html", policy=policy, facts=facts(policy),
                           blocks=blocks(policy), url=page_url(policy))


def policy_pdf(policy: Policy) -> bytes:
    """The policy as PDF, laid out by WeasyPrint with Noto Sans CJK embedded."""
    return html_to_pdf(policy_html(policy), stylesheet="css/policy-print.css")


def content_disposition(policy: Policy, extension: str) -> str:
    """`attachment` with an ASCII fallback name and the title as RFC 5987 `filename*`."""
    fallback = f"policy-{policy.id}.{extension}"
    title = _UNSAFE_IN_NAME.sub("", policy.title).strip()[:80] or fallback
    utf8 = quote(f"{title}.{extension}", safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{utf8}"
