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
