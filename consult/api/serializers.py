"""The JSON shapes of SPEC §5. Only what the public may see: never contact data.

Times are ISO 8601 in the local time zone with their offset; links are the HTML pages'
absolute URLs, or null while the page is not published.
"""

from __future__ import annotations

from datetime import datetime

from consult import clock
from consult.answers.models import Report
from consult.catalogue.models import CatalogueItem
from consult.comments.models import Comment, CommentStatus, HiddenReason
from consult.comments.services import public_text, status_note
from consult.consultations.models import Article, Consultation
from consult.consultations.policy import is_public
from consult.policies.catalogue_status import shown_status
from consult.urls import external_url


def timestamp(moment: datetime | None) -> str | None:
    return clock.local(moment).isoformat() if moment is not None else None


def _link(endpoint: str, **values) -> str:
    return external_url(endpoint, **values)


def page_of(items: list, *, page: int, per_page: int, total: int) -> dict:
    """SPEC §5's list envelope."""
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def unit_ref(unit) -> dict:
    return {"id": unit.id, "name": unit.name}


def links(consultation: Consultation, *, has_report: bool) -> dict:
    """The HTML pages that trace this draft on: report, final policy, interpretations."""
    policy = consultation.policy
    published_policy = policy if policy is not None and policy.published_at else None
    interpretations = []
    if published_policy is not None:
        interpretations = [
            _link("policies.interpretation", interpretation_id=item.id)
            for item in published_policy.interpretations
            if item.published_at is not None
        ]
    return {
        "report": _link("answers.report", consultation_id=consultation.id)
        if has_report else None,
        "policy": _link("policies.detail", policy_id=published_policy.id)
        if published_policy is not None else None,
        "interpretations": interpretations,
    }


def article(item: Article) -> dict:
    return {
        "number": item.number,
        "label": item.label,
        "chapter": item.chapter,
        "section": item.section,
        "heading": item.heading,
        "text": item.text,
    }


def consultation_item(consultation: Consultation, *, comment_count: int,
                      has_report: bool) -> dict:
    """A consultation in a list: everything but the articles."""
    version = consultation.current_version
    return {
        "id": consultation.id,
        "title": consultation.title,
        "type": consultation.type.value,
        "unit": unit_ref(consultation.unit),
        "status": consultation.status.value,
        "opens_at": timestamp(consultation.opens_at),
        "closes_at": timestamp(consultation.closes_at),
        "summary": consultation.summary,
        "version": version.number if version is not None else None,
        "comment_count": comment_count,
        "links": links(consultation, has_report=has_report),
        "url": _link("consultations.detail", consultation_id=consultation.id),
    }


def consultation_detail(consultation: Consultation, *, comment_count: int,
                        has_report: bool) -> dict:
    """One consultation with its drafting explanation and the articles of its current version."""
    data = consultation_item(consultation, comment_count=comment_count, has_report=has_report)
    version = consultation.current_version
    data.update(
        explanation=consultation.explanation,
        short_window_reason=consultation.short_window_reason,
        withdrawn_reason=consultation.withdrawn_reason,
        articles=[article(item) for item in version.articles] if version is not None else [],
    )
    return data


def _answer(comment: Comment, report: Report | None) -> dict | None:
    """The unit's answer, public only once the report is published."""
    disposition = comment.disposition
    if report is None or disposition is None or not comment.needs_answer:
        return None
    return {"disposition": disposition.code.value, "reason": disposition.reason}


def public_comment(comment: Comment, *, report: Report | None) -> dict:
    """A published comment as the public sees it: masked text, name only with consent."""
    answer = _answer(comment, report)
    return {
        "tracking_no": comment.tracking_no,
        "article": comment.article.number if comment.article is not None else None,
        "version": comment.version.number,
        "category": comment.category.value,
        "channel": comment.channel.value,
        "region": comment.public_region,
        "name": comment.public_name,
        "text": public_text(comment),
        "created_at": timestamp(comment.created_at),
        "disposition": answer["disposition"] if answer else None,
        "reason": answer["reason"] if answer else None,
    }


def receipt(comment: Comment, *, report: Report | None) -> dict:
    """What anyone holding the tracking number may see of a comment (never its contact data)."""
    consultation = comment.consultation
    hidden = comment.status == CommentStatus.HIDDEN
    return {
        "tracking_no": comment.tracking_no,
        "consultation": {
            "id": consultation.id,
            "title": consultation.title,
            "url": _link("consultations.detail", consultation_id=consultation.id),
        },
        "version": comment.version.number,
        "article": comment.article.number if comment.article is not None else None,
        "article_label": comment.article.label if comment.article is not None else None,
        "category": comment.category.value,
        "channel": comment.channel.value,
        "status": comment.status.value,
        "status_text": status_note(comment),
        "hidden_reason": (comment.hidden_reason or HiddenReason.OTHER).value if hidden else None,
        "name": comment.public_name,
        "text": public_text(comment),
        "created_at": timestamp(comment.created_at),
        "answer": _answer(comment, report),
        "url": _link("comments.receipt", tracking_no=comment.tracking_no),
    }


def catalogue_item(item: CatalogueItem) -> dict:
    """A published catalogue item, its public consultations and its changes since publication."""
    return {
        "id": item.id,
        "code": item.code,
        "year": item.year,
        "title": item.title,
        "unit": unit_ref(item.unit),
        "legal_basis": item.legal_basis,
        "methods": list(item.methods or []),
        "planned_start": item.planned_start.isoformat() if item.planned_start else None,
        "planned_end": item.planned_end.isoformat() if item.planned_end else None,
        "status": shown_status(item).value,
        "published_at": timestamp(item.published_at),
        "consultations": [
            {"id": c.id, "title": c.title,
             "url": _link("consultations.detail", consultation_id=c.id)}
            for c in item.consultations if is_public(c)
        ],
        "changes": [
            {"at": timestamp(change.at), "changes": change.changes, "reason": change.reason}
            for change in item.changes
        ],
        "url": _link("catalogue.detail", item_id=item.id),
    }
