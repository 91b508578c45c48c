"""Text folding for comparing what people write: the same words, however they were typed.

`normalise` is shared by the sensitive-word screening (`consult.comments.screening`) and the
detector of near-identical comments (`consult.answers.similarity`). Core: imports no domain.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NOISE = re.compile(r"[\W_]+")  # punctuation, symbols, white space (CJK characters are \w)


@lru_cache(maxsize=1)
def _to_simplified():
    from opencc import OpenCC

    return OpenCC("t2s")


def normalise(text: str | None) -> str:
    """The text as compared: NFKC, simplified, lower case, without punctuation or spaces."""
    # Punctuation goes first: Chinese text is full of full-width commas, which NFKC would
    # change, so that most texts would need the slow full normalisation.
    text = _NOISE.sub("", text or "")
    if not unicodedata.is_normalized("NFKC", text):
        text = _NOISE.sub("", unicodedata.normalize("NFKC", text))
    text = _to_simplified().convert(text)
    return text.lower()


# ---------------------------------------------------------------- search tokens (F19)
#
# One tokenizer for the search index and its queries (`consult.search`), on both databases:
# SQLite's FTS5 and PostgreSQL's text search only ever see its space-separated tokens. Text is
# folded (NFKC, traditional → simplified, lower case, Latin accents dropped); a run of Chinese
# (or Japanese, Korean) characters becomes its overlapping pairs of characters — 稳就业 → 稳就
# 就业 — followed by its last character alone (so that a one-character query, as a prefix, finds
# a character wherever it stands); Latin words and numbers stay whole. A query is cut the same
# way, each of its words a phrase of adjacent tokens, so a two-character word matches exactly
# where those two characters stand side by side.

_CJK = ("\u2e80-\u2fdf\u3005\u3007\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
        "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f")
_SEGMENT = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")
_QUERY_CHUNK = re.compile(r"[^\s!-/:-@\[-`{-~\u3000-\u303f\uff01-\uff0f\uff1a-\uff20"
                          r"\uff3b-\uff40\uff5b-\uff65]+")


def fold(text: str | None) -> str:
    """The text as the search index reads it: NFKC, simplified, lower case, Latin accents
    dropped; punctuation and spaces kept (so that a snippet can be found again in it)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _to_simplified().convert(text).lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFD", text)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        text = unicodedata.normalize("NFC", stripped)
    return text


def _segments(folded: str):
    """(is_cjk, run) for each run of CJK characters and each Latin word or number."""
    for match in _SEGMENT.finditer(folded):
        if match.group("cjk"):
            yield True, match.group("cjk")
        else:
            yield False, match.group("word")


def _cjk_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)] + [run[-1]]


def search_tokens(text: str | None) -> str:
    """The text's index tokens, space-separated, in the order of the text."""
    if not text:
        return ""  # a comment's title: none
    tokens: list[str] = []
    for is_cjk, run in _segments(fold(text)):
        if is_cjk:
            tokens.extend(_cjk_tokens(run))
        else:
            tokens.append(run)
    return " ".join(tokens)


def query_phrases(query: str | None, *, max_phrases: int = 12) -> list[tuple[list[str], bool]]:
    """The query as phrases of adjacent tokens, all of which must match: [(tokens, prefix)].

    Each word of the query (cut at spaces and punctuation) is one phrase, tokenized as the
    index is, except that a run of Chinese at its end gives no last-character token (it stands
    in the middle of longer text as often as at an end); a single character there is a prefix
    (就 finds 就业). At most `max_phrases` phrases (a pasted paragraph is not a search)."""
    phrases: list[tuple[list[str], bool]] = []
    seen: set[tuple[tuple[str, ...], bool]] = set()
    for chunk in _QUERY_CHUNK.findall(fold(query)):
        segments = list(_segments(chunk))
        if not segments:
            continue
        tokens: list[str] = []
        prefix = False
        for position, (is_cjk, run) in enumerate(segments):
            last = position == len(segments) - 1
            if not is_cjk:
                tokens.append(run)
            elif not last:
                tokens.extend(_cjk_tokens(run))
            elif len(run) == 1:
                tokens.append(run)
                prefix = True
            else:
                tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        key = (tuple(tokens), prefix)
        if key not in seen:
            seen.add(key)
            phrases.append((tokens, prefix))
        if len(phrases) == max_phrases:
            break
    return phrases


def query_terms(query: str | None) -> list[str]:
    """The query's folded words (runs of Chinese, Latin words, numbers): what a snippet marks."""
    terms = [run for chunk in _QUERY_CHUNK.findall(fold(query)) for _, run in _segments(chunk)]
    return sorted(set(terms), key=len, reverse=True)
