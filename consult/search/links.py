"""Where a search result leads: the public page of what was found."""

from __future__ import annotations

from flask import url_for

from consult.comments.models import Comment
from consult.consultations.models import Article, Consultation
from consult.extensions import db
from consult.search.engine import Hit
from consult.search.models import Kind
from consult.urls import external_url


def _targets(hits: list[Hit]) -> dict:
    """What links need beyond the index row, in one query per kind: article numbers and
    comments' tracking numbers."""
    articles = [h.ref_id for h in hits if h.kind == Kind.ARTICLE]
    comments = [h.ref_id for h in hits if h.kind == Kind.COMMENT]
    targets: dict = {}
    if articles:
        targets.update({(Kind.ARTICLE, i): n for i, n in db.session.execute(
            db.select(Article.id, Article.number).where(Article.id.in_(articles)))})
    if comments:
        targets.update({(Kind.COMMENT, i): t for i, t in db.session.execute(
            db.select(Comment.id, Comment.tracking_no).where(Comment.id.in_(comments)))})
    return targets


def _endpoint(hit: Hit, targets: dict) -> tuple[str, dict]:
    if hit.kind == Kind.CONSULTATION:
        return "consultations.detail", {"consultation_id": hit.ref_id}
    if hit.kind == Kind.ARTICLE:
        number = targets.get((Kind.ARTICLE, hit.ref_id))
        return "consultations.detail", {"consultation_id": hit.consultation_id,
                                        "_anchor": f"article-{number}" if number else "draft"}
    if hit.kind == Kind.REPORT:
        return "answers.report", {"consultation_id": hit.consultation_id}
    if hit.kind == Kind.COMMENT:
        tracking_no = targets.get((Kind.COMMENT, hit.ref_id))
        if tracking_no is None:  # gone since it was indexed: its consultation's comments
            return "consultations.detail", {"consultation_id": hit.consultation_id,
                                            "_anchor": "comments"}
        return "comments.receipt", {"tracking_no": tracking_no}
    if hit.kind == Kind.POLICY:
        return "policies.detail", {"policy_id": hit.ref_id}
    return "policies.interpretation", {"interpretation_id": hit.ref_id}


def links(hits: list[Hit], *, external: bool = False) -> list[str]:
    """Each hit's link: a path for the page, an absolute URL on BASE_URL for the API."""
    targets = _targets(hits)
    out = []
    for hit in hits:
        endpoint, values = _endpoint(hit, targets)
        out.append(external_url(endpoint, **values) if external else url_for(endpoint, **values))
    return out


def consultation_titles(hits: list[Hit]) -> dict[int, str]:
    """The title of the consultation each hit belongs to (shown under an article or comment)."""
    ids = {h.consultation_id for h in hits if h.consultation_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(
        db.select(Consultation.id, Consultation.title).where(Consultation.id.in_(ids))).all())
