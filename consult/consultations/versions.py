"""Revised drafts (F5): version n+1 with a changelog, a second comment round, and the
article-by-article comparison of two versions.

A published draft is never edited in place (SPEC §3): a change is a new `DraftVersion`, and the
earlier ones stay readable. Comments point at the version (and article) they were made on, so a
second round never moves a first-round comment.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from consult import clock
from consult.auth.models import User
from consult.consultations import services, windows
from consult.consultations.models import Article, Consultation, DraftVersion
from consult.consultations.parsing import parse_articles
from consult.consultations.states import target_state
from consult.errors import Conflict, InvalidTransition, ValidationFailed
from consult.extensions import db
from consult.labels import label

SECOND_ROUND_REASON = "第二轮征求意见"  # the extension notice of a second round (stored as is)
CHANGELOG_MAX = 10_000
# Articles whose texts are at least this similar are taken for one article renumbered or moved.
SIMILAR = 0.5


def can_revise(consultation: Consultation) -> bool:
    """A new version is possible while open, or closed before the report (the state machine)."""
    return target_state("new_version", consultation.status) is not None


def new_version(consultation: Consultation, text: str, changelog: str, *, actor: User,
                reopen_until: date | None = None,
                short_window_reason: str | None = None) -> DraftVersion:
    """Publish version n+1 of the draft; with `reopen_until`, a second comment round.

    The second round runs from today to `reopen_until` and must meet the type's minimum (or give
    a reason, published with the notice); it is recorded as an extension 「第二轮征求意见」.
    """
    changelog = (changelog or "").strip()
    if not changelog:
        message = _("请填写修改说明（将与新版本一同公布）。")
        raise ValidationFailed(message, fields={"changelog": message})
    if len(changelog) > CHANGELOG_MAX:
        message = _("修改说明不能超过 %(n)d 字。", n=CHANGELOG_MAX)
        raise ValidationFailed(message, fields={"changelog": message})
    if not can_revise(consultation):
        raise InvalidTransition(
            _("当前状态（%(status)s）不能发布新版本：征求意见期间或截止后、意见采纳情况公布前才可以。",
              status=label(consultation.status, "state")),
            code="invalid_transition",
        )
    parsed = parse_articles(text or "")
    if not parsed.articles:
        raise ValidationFailed(_("正文不能为空。"), fields={"text": _("正文不能为空。")})
    if reopen_until is not None:
        today = clock.today()
        closes_on = clock.local_date(consultation.closes_at)
        if reopen_until < closes_on:
            raise Conflict(_("征求意见期限不能提前截止，只能延长。"), code="closing_early")
        if reopen_until == closes_on:
            message = _("第二轮的截止日期须晚于现在的截止日期（%(date)s）；不需要第二轮时请不填。",
                        date=closes_on.isoformat())
            raise ValidationFailed(message, fields={"reopen_until": message})
        try:
            windows.check(consultation.type, today, reopen_until,
                          concerns_business=bool(consultation.concerns_business),
                          short_window_reason=short_window_reason,
                          minimums=consultation.window_minimums)
        except ValidationFailed as error:  # the form's field is the round's closing date
            error.fields = {"reopen_until" if k == "closes_on" else k: v
                            for k, v in error.fields.items()}
            raise
    previous = consultation.current_version
    number = (previous.number if previous else 0) + 1
    version = DraftVersion(number=number, preamble=parsed.preamble or None, changelog=changelog,
                           created_at=clock.now())
    for item in parsed.articles:
        version.articles.append(Article(
            number=item.number, label=item.label, chapter=item.chapter, section=item.section,
            heading=item.heading, text=item.text,
        ))
    consultation.versions.append(version)
    db.session.flush()
    services.transition(consultation, "new_version", actor=actor, reason=changelog,
                        detail={"version": number})
    if reopen_until is not None:
        # Also from closed: the round opens again until the new date (the transition above).
        services.lengthen(consultation, clock.end_of_day(reopen_until), SECOND_ROUND_REASON,
                          actor=actor, kind="second_round", version=version,
                          short_window_reason=short_window_reason)
    return version


# ------------------------------------------------------------------------------- comparison


@dataclass
class Row:
    """One line of the comparison: an article in both versions, or in one of them."""

    kind: str  # unchanged, changed, added, removed
    old: Article | None
    new: Article | None
    # (op, text) pieces: equal / insert / delete, character by character (Chinese has no spaces)
    pieces: list[tuple[str, str]] = field(default_factory=list)

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old.label != self.new.label


def _text(article: Article) -> str:
    return f"{article.heading} {article.text}" if article.heading else article.text


def _ratio(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def match(old: list[Article], new: list[Article], *, fallback: bool = True
          ) -> dict[int, Article]:
    """new article id → its old article: by label where the texts are alike, then by text
    similarity (an inserted article renumbers the ones after it), then (`fallback`) by label
    alone."""
    pairs: dict[int, Article] = {}
    used: set[int] = set()
    by_label = {a.label: a for a in old}
    for article in new:
        candidate = by_label.get(article.label)
        if candidate is not None and _ratio(_text(candidate), _text(article)) >= SIMILAR:
            pairs[article.id] = candidate
            used.add(candidate.id)
    scored = sorted(
        ((_ratio(_text(o), _text(n)), i, j, o, n)
         for j, n in enumerate(new) if n.id not in pairs
         for i, o in enumerate(old) if o.id not in used),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    for score, _i, _j, o, n in scored:
        if score < SIMILAR:
            break
        if n.id in pairs or o.id in used:
            continue
        pairs[n.id] = o
        used.add(o.id)
    for article in new if fallback else ():  # rewritten beyond recognition, same number
        candidate = by_label.get(article.label)
        if article.id not in pairs and candidate is not None and candidate.id not in used:
            pairs[article.id] = candidate
            used.add(candidate.id)
    return pairs


def diff_pieces(a: str, b: str) -> list[tuple[str, str]]:
    """Character-level differences of `a` → `b` as (equal|delete|insert, text) pieces."""
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", a[i1:i2]))
            continue
        if op in ("delete", "replace"):
            pieces.append(("delete", a[i1:i2]))
        if op in ("insert", "replace"):
            pieces.append(("insert", b[j1:j2]))
    return pieces


def compare(old: DraftVersion, new: DraftVersion) -> list[Row]:
    """The articles of `new` in order, each with its counterpart in `old`; removed articles of
    `old` are placed after the article that follows their predecessor."""
    pairs = match(old.articles, new.articles)
    matched_old = {a.id: n for n in new.articles if (a := pairs.get(n.id)) is not None}
    rows: list[Row] = []
    position: dict[int, int] = {}  # old article id → index of its row
    for article in new.articles:
        counterpart = pairs.get(article.id)
        if counterpart is None:
            rows.append(Row("added", None, article, [("insert", _text(article))]))
            continue
        a, b = _text(counterpart), _text(article)
        kind = "unchanged" if a == b else "changed"
        rows.append(Row(kind, counterpart, article, diff_pieces(a, b)))
        position[counterpart.id] = len(rows) - 1
    # Removed articles: after the row of the nearest earlier old article that has one.
    inserts: list[tuple[int, int, Row]] = []
    anchor = -1
    for order, article in enumerate(old.articles):
        if article.id in matched_old:
            anchor = position[article.id]
            continue
        inserts.append((anchor, order, Row("removed", article, None,
                                           [("delete", _text(article))])))
    for anchor, _order, row in sorted(inserts, key=lambda t: (t[0], t[1]), reverse=True):
        rows.insert(anchor + 1, row)
    return rows


def summary(rows: list[Row]) -> dict[str, int]:
    counts = {"changed": 0, "added": 0, "removed": 0, "unchanged": 0}
    for row in rows:
        counts[row.kind] += 1
    return counts
