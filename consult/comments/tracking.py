"""Tracking numbers: random, readable over the phone, with a check character.

Form `ZX26-7K3M-9QXD`: eleven random characters and one Luhn mod-31 check character from an
alphabet without look-alikes (no 0/O, 1/I/L). 31**11 ≈ 2.5e16 numbers: unguessable.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_N = len(ALPHABET)


def _check_char(payload: str) -> str:
    total, factor = 0, 2
    for ch in reversed(payload):
        addend = factor * _INDEX[ch]
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def new_tracking_no() -> str:
    # One draw from the system's random source, written in base 31 (a choice per character
    # read it eleven times).
    number = secrets.randbelow(_N ** 11)
    digits = []
    for _ in range(11):
        number, digit = divmod(number, _N)
        digits.append(ALPHABET[digit])
    payload = "".join(digits)
    raw = payload + _check_char(payload)
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize(value: str) -> str | None:
    """The canonical form of a typed tracking number, or None when it cannot be one."""
    raw = re.sub(r"[\s\-－]", "", value or "").upper()
    if len(raw) != 12 or any(ch not in _INDEX for ch in raw):
        return None
    if _check_char(raw[:11]) != raw[11]:
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
