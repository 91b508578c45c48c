"""Personal data in comment text, masked before publication (F10).

Staff see the original; the public sees the text with ID numbers, phone numbers, e-mail
addresses and bank card numbers replaced by a marker.
"""

from __future__ import annotations

import re
import unicodedata

MARK = "［个人信息已隐去］"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
# Digits may be spaced or hyphenated by the writer: 138 0013 8000.
_SEP = r"[ \-]?"
_ID18 = re.compile(
    rf"(?<!\d)[1-9]\d{{5}}{_SEP}(?:19|20)\d{{2}}{_SEP}\d{{4}}{_SEP}\d{{3}}[\dXx](?![\dA-Za-z])"
)
_ID15 = re.compile(r"(?<!\d)[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)")
_MOBILE = re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
_LANDLINE = re.compile(rf"(?<!\d)0\d{{2,3}}{_SEP}\d{{7,8}}(?!\d)")
_CARD = re.compile(rf"(?<!\d)(?:\d{{4}}{_SEP}){{3}}\d{{4}}(?:{_SEP}\d{{1,3}})?(?!\d)")


_FULL_WIDTH = frozenset(
    [chr(c) for c in range(0xFF10, 0xFF1A)]  # ０-９
    + [chr(c) for c in range(0xFF21, 0xFF3B)]  # Ａ-Ｚ
    + [chr(c) for c in range(0xFF41, 0xFF5B)]  # ａ-ｚ
    + ["＠", "－", "＋"]
)


def _fold_digits(text: str) -> str:
    """Full-width digits and letters to ASCII (NFKC keeps Chinese characters as they are)."""
    return "".join(unicodedata.normalize("NFKC", ch) if ch in _FULL_WIDTH else ch for ch in text)


def mask(text: str) -> str:
    """`text` with personal data replaced by MARK."""
    text = _fold_digits(text)
    for pattern in (_EMAIL, _ID18, _ID15, _CARD, _MOBILE, _LANDLINE):
        text = pattern.sub(MARK, text)
    return text
