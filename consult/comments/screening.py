"""Sensitive words (issue 9): comments that name clearly unlawful or abusive content wait for a
moderator, even where the consultation publishes first and moderates after.

The list is a text file (SENSITIVE_WORDS_FILE; the default `sensitive_words.txt` beside this
module): `[类别]` lines start a category, the other lines are words. A text matches after the
same folding on both sides (`consult.textfold.normalise`): NFKC (full-width forms),
traditional to simplified (OpenCC t2s), lower case, and every space, punctuation mark, symbol
and invisible character removed — so 網絡賭博, ｗｅｂ, 网 络 赌 博 and 网*络*赌*博 are all
caught. The comment keeps the categories that matched (never the words: the moderator sees why,
the author only that it awaits review). An empty SENSITIVE_WORDS_FILE turns screening off.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from flask import current_app

from consult.textfold import normalise

DEFAULT_FILE = Path(__file__).with_name("sensitive_words.txt")


def parse(text: str) -> dict[str, str]:
    """{normalised word: category} from the file's text (see the module's format)."""
    words: dict[str, str] = {}
    category = "其他"
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1].strip() or category
            continue
        word = normalise(line)
        if word:
            words.setdefault(word, category)
    return words


@lru_cache(maxsize=8)
def _matcher(path: str, mtime: float) -> tuple[re.Pattern | None, dict[str, str]]:
    words = parse(Path(path).read_text(encoding="utf-8"))
    if not words:
        return None, words
    alternatives = sorted(words, key=len, reverse=True)  # the longest word wins
    return re.compile("|".join(re.escape(word) for word in alternatives)), words


def _current() -> tuple[re.Pattern | None, dict[str, str]]:
    path = current_app.config.get("SENSITIVE_WORDS_FILE")
    if not path:
        return None, {}
    try:
        mtime = os.stat(path).st_mtime  # on every comment: no Path object for it
    except OSError as error:  # a configured list that is missing must not pass silently
        raise RuntimeError(f"SENSITIVE_WORDS_FILE {path!r} cannot be read: {error}") from error
    return _matcher(str(path), mtime)


def categories(*texts: str | None) -> list[str]:
    """The categories of sensitive words in `texts` (body, name, region), in list order."""
    pattern, words = _current()
    if pattern is None:
        return []
    found: dict[str, None] = {}
    for text in texts:
        if text:
            for match in pattern.finditer(normalise(text)):
                found[words[match.group()]] = None
    return list(found)
