"""New masking rules for what is already published: `flask --app app privacy remask`.

Comment text is masked when it is shown (`consult.comments.masking.mask` in `public_text`), so
pages, the API and receipts follow the current rules by themselves. What was frozen is the
published report: its items carry the text, name and region as they were masked on the day.
This module applies today's publication rules to the newest revision of every published report
— text, name and region masked again, and no text or name for unverified or hidden comments
(issue 9 finding 2: older reports carried them) — and, where any item changes, publishes the
next revision with a public note (`consult.answers.services.publish_revision`). Totals never
change, except that regions masked anew are counted under their masked name. Running it again
changes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from consult.answers.models import Report
from consult.answers.services import publish_revision
from consult.comments.masking import mask
from consult.consultations.models import Consultation
from consult.extensions import db

REMASK_NOTE = "按更新后的个人信息保护规则，重新处理了 %d 条意见的公开内容。"
NOT_SHOWN = ("unverified", "hidden")


@dataclass
class RemaskLine:
    consultation: Consultation
    revision: int  # the newest revision, as it was
    items: int  # items whose text, name or region changed


def remasked(content: dict) -> tuple[dict, int]:
    """A copy of a report's content under today's rules, and how many items changed."""
    content = copy.deepcopy(content)
    changed = 0
    for item in content.get("items", []):
        before = (item.get("text"), item.get("name"), item.get("region"))
        if item.get("visibility") in NOT_SHOWN:
            item["text"] = item["name"] = None
        for key in ("text", "name", "region"):
            if isinstance(item.get(key), str):
                item[key] = mask(item[key])
        if isinstance(item.get("by_region"), dict):  # a group's members by region
            item["by_region"] = _masked_keys(item["by_region"])
        if (item.get("text"), item.get("name"), item.get("region")) != before:
            changed += 1
    totals = content.get("totals") or {}
    if isinstance(totals.get("by_region"), dict):
        totals["by_region"] = _masked_keys(totals["by_region"])
    return content, changed


def _masked_keys(counts: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for region, n in counts.items():
        key = mask(region) if region else region
        out[key] = out.get(key, 0) + n
    return out


def remask_reports(*, dry_run: bool = False) -> list[RemaskLine]:
    """Publish a new revision of every report whose newest revision changes under today's
    rules (with `dry_run`, only count). Returns one line per report that changes."""
    newest = (
        db.select(Report.consultation_id, db.func.max(Report.revision).label("revision"))
        .where(Report.published_at.is_not(None)).group_by(Report.consultation_id).subquery()
    )
    reports = db.session.scalars(
        db.select(Report).join(newest, db.and_(Report.consultation_id == newest.c.consultation_id,
                                               Report.revision == newest.c.revision))
        .order_by(Report.consultation_id)
    ).all()
    lines = []
    for report in reports:
        content, changed = remasked(report.content or {})
        if not changed:
            continue
        lines.append(RemaskLine(report.consultation, report.revision, changed))
        if not dry_run:
            content.pop("digest", None)
            publish_revision(report.consultation, note=REMASK_NOTE % changed, actor=None,
                             content=content)
    return lines
