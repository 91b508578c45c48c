"""What the comments changed (F18): the last draft version against the final text, article by
article, with the adopted answers behind each change.

The pairing is the drafts' own (`consult.consultations.versions.match`: by number where the
texts are alike, else by similarity, so an inserted article renumbers the rest without making
every later one "changed"); on top of it an article split in two and two articles merged into
one are recognised by how much of one text the other holds. Staff link each adopted (or partly
adopted) answer to the final article it changed; the platform proposes the link from the
article the comment was on and from text similarity.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from consult.answers.models import Disposition
from consult.comments.services import public_text
from consult.consultations.models import Article, DraftVersion
from consult.consultations.versions import diff_pieces, match
from consult.policies.models import Policy, PolicyArticle
from consult.policies.services import adopted_answers

# Share of a text found in another for the two to be one article split or merged.
CONTAINED = 0.6
# Similarity of a comment to an article for the platform to propose the link.
PROPOSE_SIMILAR = 0.2


@dataclass
class ChangeRow:
    """One line of the comparison: a final article and the draft article(s) it came from."""

    kind: str  # unchanged, changed, added, removed, split, merged
    new: PolicyArticle | None
    old: list[Article] = field(default_factory=list)
    pieces: list[tuple[str, str]] = field(default_factory=list)
    answers: list[Disposition] = field(default_factory=list)

    @property
    def renumbered(self) -> bool:
        return bool(self.new is not None and self.old and self.old[0].label != self.new.label)

    @property
    def changed(self) -> bool:
        return self.kind != "unchanged"


@dataclass
class Comparison:
    version: DraftVersion
    rows: list[ChangeRow]
    pairs: dict[int, Article]  # final article id → its draft article (1:1 pairs)

    @property
    def changed(self) -> int:
        return sum(1 for row in self.rows if row.changed)

    @property
    def after_comments(self) -> int:
        return sum(1 for row in self.rows if row.changed and row.answers)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("unchanged", "changed", "added", "removed", "split", "merged"), 0)
        for row in self.rows:
            counts[row.kind] += 1
        return counts


def _text(article) -> str:
    return f"{article.heading} {article.text}" if article.heading else article.text


def contained(part: str, whole: str) -> float:
    """How much of `part` is found, in order, in `whole` (0–1)."""
    if not part:
        return 0.0
    matcher = difflib.SequenceMatcher(None, part, whole, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(part)


def last_version(policy: Policy) -> DraftVersion | None:
    consultation = policy.consultation
    return consultation.current_version if consultation is not None else None


def compare(policy: Policy) -> Comparison | None:
    """The comparison of the last draft with the final text; None without a draft."""
    version = last_version(policy)
    if version is None or not policy.articles:
        return None
    old, new = version.articles, policy.articles
    pairs = match(old, new, fallback=False)
    paired_old = {a.id for a in pairs.values()}
    # A final article no old one is like, but mostly made of one: that one split in two.
    splits: dict[int, Article] = {}
    for article in new:
        if article.id in pairs:
            continue
        source = max(old, key=lambda o: contained(_text(article), _text(o)), default=None)
        if source is not None and source.id in paired_old \
                and contained(_text(article), _text(source)) >= CONTAINED:
            splits[article.id] = source
    # An old article no final one is like, but held by one: merged into it.
    merged: dict[int, list[Article]] = {}
    merged_old: set[int] = set()
    for article in old:
        if article.id in paired_old:
            continue
        host = max((n for n in new if n.id in pairs),
                   key=lambda n: contained(_text(article), _text(n)), default=None)
        if host is not None and contained(_text(article), _text(host)) >= CONTAINED:
            merged.setdefault(host.id, []).append(article)
            merged_old.add(article.id)
    # Left over under the same number: one article rewritten beyond recognition.
    by_label = {a.label: a for a in old if a.id not in paired_old and a.id not in merged_old}
    for article in new:
        if article.id not in pairs and article.id not in splits and article.label in by_label:
            pairs[article.id] = by_label.pop(article.label)
            paired_old.add(pairs[article.id].id)

    rows: list[ChangeRow] = []
    position: dict[int, int] = {}  # old article id → index of its row
    for article in new:
        counterpart = pairs.get(article.id)
        if article.id in splits:
            source = splits[article.id]
            rows.append(ChangeRow("split", article, [source],
                                  diff_pieces(_text(source), _text(article))))
        elif counterpart is None:
            rows.append(ChangeRow("added", article, [], [("insert", _text(article))]))
        elif article.id in merged:
            sources = sorted([counterpart, *merged[article.id]], key=lambda o: o.number)
            rows.append(ChangeRow("merged", article, sources,
                                  diff_pieces("".join(_text(o) for o in sources),
                                              _text(article))))
        else:
            a, b = _text(counterpart), _text(article)
            rows.append(ChangeRow("unchanged" if a == b else "changed", article, [counterpart],
                                  diff_pieces(a, b)))
        if counterpart is not None:
            position[counterpart.id] = len(rows) - 1
    # Removed articles: after the row of the nearest earlier old article that has one.
    inserts: list[tuple[int, int, ChangeRow]] = []
    anchor = -1
    for order, article in enumerate(old):
        if article.id in position:
            anchor = position[article.id]
            continue
        if article.id in merged_old:
            continue
        inserts.append((anchor, order, ChangeRow("removed", None, [article],
                                                 [("delete", _text(article))])))
    for anchor, _order, row in sorted(inserts, key=lambda t: (t[0], t[1]), reverse=True):
        rows.insert(anchor + 1, row)
    linked = {link.disposition_id: link.article_number for link in policy.answer_links}
    by_number = {row.new.number: row for row in rows if row.new is not None}
    for disposition in adopted_answers(policy):
        row = by_number.get(linked.get(disposition.id, -1))
        if row is not None:
            row.answers.append(disposition)
    return Comparison(version=version, rows=rows, pairs=pairs)


def propose_links(policy: Policy, comparison: Comparison) -> dict[int, tuple[int, str]]:
    """disposition id → (final article number, "number" or "similarity") for each adopted
    answer not yet linked: the final article the comment's draft article became, else the
    changed article whose text is most like the comment."""
    linked = {link.disposition_id for link in policy.answer_links}
    to_new: dict[str, PolicyArticle] = {}  # draft label → final article, in the last version
    for row in comparison.rows:
        for article in row.old:
            if row.new is not None:
                to_new.setdefault(article.label, row.new)
    changed = [row.new for row in comparison.rows if row.changed and row.new is not None]
    proposals: dict[int, tuple[int, str]] = {}
    for disposition in adopted_answers(policy):
        if disposition.id in linked:
            continue
        comment = disposition.comment
        if comment.article is not None and comment.article.label in to_new:
            proposals[disposition.id] = (to_new[comment.article.label].number, "number")
            continue
        body = comment.body or ""
        best = max(changed, key=lambda a: contained(_text(a), body) + contained(body, _text(a)),
                   default=None)
        if best is not None and (contained(_text(best), body)
                                 + contained(body, _text(best))) / 2 >= PROPOSE_SIMILAR:
            proposals[disposition.id] = (best.number, "similarity")
    return proposals


def answer_text(disposition: Disposition) -> str | None:
    """What the public may read of the comment behind an answer (masked, once published)."""
    return public_text(disposition.comment)


def change_of(disposition: Disposition) -> tuple[Policy, PolicyArticle] | None:
    """The published final article an adopted answer was linked to (receipts, the report)."""
    comment = disposition.comment
    policy = comment.consultation.policy if comment is not None else None
    if policy is None or policy.published_at is None:
        return None
    for link in policy.answer_links:
        if link.disposition_id == disposition.id:
            article = next((a for a in policy.articles if a.number == link.article_number),
                           None)
            return (policy, article) if article is not None else None
    return None


def outcome_of(comment) -> dict:
    """For a receipt: the published policy, and the final article the comment's adopted answer
    was linked to."""
    consultation = comment.consultation
    policy = consultation.policy
    if policy is not None and policy.published_at is None:
        policy = None
    disposition = comment.disposition
    change = change_of(disposition) if disposition is not None and comment.needs_answer \
        and consultation.report_published else None
    return {
        "policy": policy,
        "article": change[1] if change else None,
        "changes": policy is not None and consultation.current_version is not None,
    }


def change_links(consultation) -> dict[str, PolicyArticle]:
    """tracking number → the final article its adopted answer was linked to, once the policy
    is published (the report page shows the link beside the answer)."""
    policy = consultation.policy if consultation is not None else None
    if policy is None or policy.published_at is None or not policy.answer_links:
        return {}
    articles = {a.number: a for a in policy.articles}
    return {link.disposition.comment.tracking_no: articles[link.article_number]
            for link in policy.answer_links if link.article_number in articles}
