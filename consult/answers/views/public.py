"""Public pages: the published adoption report, rendered from its frozen content (F14)."""

from __future__ import annotations

from flask import abort, render_template

from consult.answers.models import DispositionCode
from consult.answers.services import UNSPECIFIED_REGION, published_report
from consult.answers.views import bp
from consult.comments.models import Category, Channel, HiddenReason
from consult.consultations.models import Consultation
from consult.consultations.policy import is_public
from consult.consultations.views.public import trace_of
from consult.extensions import db


def _items_by_article(content: dict) -> list[dict]:
    """The report's items grouped under the article rows of `by_article`, in their order."""
    groups = {(row["version"], row["article"]): {**row, "items": []}
              for row in content.get("by_article", [])}
    for item in content.get("items", []):
        key = (item.get("version"), item.get("article"))
        group = groups.setdefault(key, {"version": key[0], "article": key[1], "label": None,
                                        "received": 0, "by_disposition": {}, "items": []})
        group["items"].append(item)
    return list(groups.values())


@bp.get("/consultations/<int:consultation_id>/report")
def report(consultation_id: int):
    """The adoption report: totals, per-article answers and every item; 404 until published."""
    consultation = db.get_or_404(Consultation, consultation_id)
    if not is_public(consultation):
        abort(404)
    published = published_report(consultation)
    if published is None or not published.content:
        abort(404)
    content = published.content
    totals = content["totals"]
    by_region = sorted(totals.get("by_region", {}).items(),
                       key=lambda pair: (pair[0] == UNSPECIFIED_REGION, -pair[1], pair[0]))
    return render_template(
        "answers/report.html",
        consultation=consultation,
        report=published,
        content=content,
        totals=totals,
        by_region=by_region,
        unspecified_region=UNSPECIFIED_REGION,
        groups=_items_by_article(content),
        multiple_versions=len({row["version"] for row in content.get("by_article", [])}) > 1,
        dispositions=[d.value for d in DispositionCode],
        categories=[c.value for c in Category],
        channels=[c.value for c in Channel],
        hidden_reasons=[r.value for r in HiddenReason],
        trace=trace_of(consultation),
    )
