"""Personal data in comment text, masked before publication (F10).

Staff see the original; the public sees the text with resident ID numbers, mobile and landline
numbers, e-mail addresses, bank card numbers and QQ/WeChat ids replaced by MARK. Everything
else is left exactly as written (full-width digits stay full-width outside a masked span).

How it works: the text is folded character by character to a copy of the same length
(full-width digits and letters, ＠, full-width brackets and colon, dash variants, ideographic
spaces and Chinese numerals 〇一二…九/壹贰…玖/幺 become ASCII), detectors run on that copy in order
of priority, each match is checked (dates, checksums, Luhn) and kept unless it overlaps an
earlier one, and the kept spans are replaced in the original text.

Decisions (each one is a row of tests/comments/test_masking.py):

- **Resident ID numbers, 18 digits**: masked when the birth date (digits 7–14) is a real date
  between 1900-01-01 and today, and either the province code (first two digits) exists or the
  ISO 7064 MOD 11-2 check character is right. The checksum is *not* required: a mistyped ID
  number is still somebody's personal data, and a wrong check digit is the most common typo.
  15-digit old IDs are masked when the province exists and the 19yymmdd birth date is real.
  Digits may be spaced or hyphenated in the 6-4-4-4 / 6-8-4 groups people use.
- **A number inside a longer digit run is never partially masked** (an ID inside a 20-digit
  run, a mobile inside a 12-digit one): the run is not an ID or phone number.
- **Mobiles**: 1[3-9] and 9 digits, written 3-4-4, 4-3-4 or solid, with +86/0086/86 or (+86);
  not when a unit follows (13800000000元 is an amount).
- **Landlines**: with an area code 0xx/0xxx (brackets, space or hyphen, optional extension
  转/分机/ext/-), or +86 with the area code's 0 dropped. A bare 7–8 digit local number is
  masked only right after 电话/座机/固话/传真/Tel: alone it is as likely a date (20261125) or an
  amount. Service numbers (12345, 400-xxx-xxxx hotlines) are public, not personal.
- **Bank cards**: 16–19 digits, solid or in groups of four, with a valid Luhn check digit; any
  12–23 digit number right after 卡号/银行卡/账号/账户, whatever its check digit.
- **E-mail addresses**: ASCII local part and domain with a letter TLD, ＠/@/(at)/[at].
- **QQ / WeChat ids**: only right after QQ/扣扣/微信/WeChat/vx/wx (a bare 5–12 digit number is
  far more often something else).
- **Not masked**: dates in any notation (2026年11月25日, 20261125, 2026-11-25), document
  numbers (郑政〔2026〕12号), article and statute numbers, amounts (1000000元), year ranges,
  and postal codes alone (450000 says where, not who).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from consult import clock

MARK = "［个人信息已隐去］"

# Character-for-character folding, so that spans in the folded copy are spans of the original.
_FOLD_MAP: dict[str, str] = {}
_FOLD_MAP.update({chr(0xFF10 + i): str(i) for i in range(10)})  # ０-９
_FOLD_MAP.update({chr(0xFF21 + i): chr(ord("A") + i) for i in range(26)})  # Ａ-Ｚ
_FOLD_MAP.update({chr(0xFF41 + i): chr(ord("a") + i) for i in range(26)})  # ａ-ｚ
_FOLD_MAP.update({
    "＠": "@", "＋": "+", "（": "(", "）": ")", "：": ":", "．": ".", "＿": "_", "［": "[",
    "］": "]", "\u3000": " ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    # Hyphens and dashes people put between digit groups.
    "－": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\ufe63": "-",
})
_FOLD_CHARS = re.compile("[" + re.escape("".join(_FOLD_MAP)) + "]")
# Chinese numerals, as phone numbers are read out or typed to get past filters (幺 = 1).
_NUMERALS = {char: str(digit) for digit, chars in enumerate((
    "〇零", "一壹幺", "二贰", "三叁", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖"))
    for char in chars}
_NUMERAL_FOLD = str.maketrans(_NUMERALS)
# Only runs of four or more numerals are numbers: 第一条 and 一4101… keep their 一.
_NUMERAL_RUN = re.compile("[{0}](?:[ \\-]?[{0}]){{3,}}".format("".join(_NUMERALS)))

# Units after which a number is a quantity, not a phone number.
_UNIT = r"(?!\s?[元万亿千百个人次户家件吨米%年月日倍台辆套份名位岁天周])"
_S = r"[ \-]?"  # one optional separator between digit groups
_EXTENSION = r"(?:[ \-]?(?:转|分机|ext\.?|x|-)[ \-]?\d{1,5})?"
_LOCAL_NUMBER = rf"[2-9]\d{{2,3}}{_S}\d{{4}}{_EXTENSION}(?!\d)"

# Patterns start with a literal or a character class where they can, so that the regex engine
# skips ahead quickly; `\d(?<!\d\d)` is "a digit not preceded by a digit".
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+ ?(?:@|\(at\)|\[at\]) ?"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
_QQ = re.compile(
    r"(?<![A-Za-z])(?:[Qq]{2}|扣扣)(?:号码|号)?\s?:?\s?(?P<pii>[1-9]\d{4,11})(?!\d)"
)
_WECHAT = re.compile(
    r"(?:微信|(?<![A-Za-z])(?i:wechat|weixin|vx|wx))(?:号|ID|id)?\s?:?\s?"
    r"(?P<pii>[A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])"
)
_CARD_AFTER_WORD = re.compile(
    r"(?:卡号|银行卡号?|银行账号|账号|帐号|账户|帐户)(?:为|是)?\s?:?\s?"
    r"(?P<pii>\d(?:[ \-]?\d){11,22})(?!\d)"
)
_ID18 = re.compile(
    rf"\d(?<!\d\d)\d{{5}}{_S}\d{{4}}{_S}\d{{4}}{_S}\d{{3}}(?:\d(?![\dXx])|[Xx](?![0-9A-Za-z]))"
)
_ID15 = re.compile(r"\d(?<!\d\d)\d{14}(?!\d)")
# Solid, or in groups of four with the same separator throughout (6222 0212 3456 7890 128).
_CARD = re.compile(r"\d(?<!\d\d)(?:\d{15,18}|\d{3}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?)(?!\d)")
_MOBILE_DIGITS = rf"1[3-9]\d(?:{_S}\d{{4}}{_S}\d{{4}}|\d{_S}\d{{3}}{_S}\d{{4}})(?!\d){_UNIT}"
_MOBILE = re.compile(rf"1(?<!\d1)(?=[3-9]){_MOBILE_DIGITS[1:]}")
_LANDLINE = re.compile(
    rf"(?:0(?<!\d0)[1-9]\d{{1,2}}{_S}|\(0[1-9]\d{{1,2}}\)[ \-]?){_LOCAL_NUMBER}"
)
# +86, 0086, (+86) or 86 before a mobile, or before an area code without its 0.
_INTERNATIONAL = re.compile(
    r"(?:\+86|\(\+?86\)|(?<!\d)(?:00)?86)[ \-]?"
    rf"(?:{_MOBILE_DIGITS}|(?:\(0?[1-9]\d{{1,2}}\)[ \-]?|0?[1-9]\d{{1,2}}{_S}){_LOCAL_NUMBER})"
)
_LOCAL_AFTER_WORD = re.compile(
    r"(?:电话|座机|固话|传真|(?<![A-Za-z])(?i:tel|phone))(?:号码|号)?(?:是|为)?\s?:?\s?"
    rf"(?P<pii>{_LOCAL_NUMBER})"
)

# Province-level codes of resident ID numbers (81/82/83: Hong Kong, Macao, Taiwan permits).
_PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _digits(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a resident ID number's first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _birth_date_ok(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= clock.today()


def is_resident_id(value: str) -> bool:
    """An 18-digit resident ID number by birth date and province or checksum (see above)."""
    digits = _digits(value).upper()
    if len(digits) != 18 or not digits[:17].isdigit():
        return False
    if not _birth_date_ok(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
        return False
    return int(digits[:2]) in _PROVINCES or id_check_character(digits[:17]) == digits[17]


def _is_old_id(value: str) -> bool:
    """A 15-digit resident ID number (before 1999): province and 19yymmdd birth date."""
    return int(value[:2]) in _PROVINCES and _birth_date_ok(
        1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])
    )


def luhn_ok(digits: str) -> bool:
    """The Luhn check digit of a card number is right."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _is_card(value: str) -> bool:
    digits = _digits(value)
    return 16 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_ok(digits)


def _words(*words: str) -> Callable[[str], bool]:
    """A trigger: the (folded, lowercased) text contains one of `words`."""
    return lambda lowered: any(word in lowered for word in words)


_HAS_DIGIT = re.compile(r"\d")
# What may be personal data without a digit: an e-mail address or a WeChat id.
_NO_DIGIT_TRIGGER = _words("@", "(at)", "[at]", "微信", "wechat", "weixin", "vx", "wx")

# In order of priority: an earlier detector's span wins over an overlapping later one. A
# detector runs only when its trigger finds what it needs in the text (cheap `in` tests).
_Detector = tuple[str, re.Pattern, Callable[[str], bool] | None, Callable[[str], bool]]
_DETECTORS: tuple[_Detector, ...] = (
    ("email", _EMAIL, None, _words("@", "(at)", "[at]")),
    ("qq", _QQ, None, _words("qq", "扣扣")),
    ("wechat", _WECHAT, None, _words("微信", "wechat", "weixin", "vx", "wx")),
    ("bank_card", _CARD_AFTER_WORD, None, _words("卡号", "银行卡", "账号", "帐号", "账户", "帐户")),
    ("id_number", _ID18, is_resident_id, bool),
    ("id_number", _ID15, _is_old_id, bool),
    ("bank_card", _CARD, _is_card, bool),
    ("mobile", _INTERNATIONAL, None, _words("86")),
    ("mobile", _MOBILE, None, bool),
    ("landline", _LANDLINE, None, bool),
    ("landline", _LOCAL_AFTER_WORD, None, _words("电话", "座机", "固话", "传真", "tel", "phone")),
)


@dataclass(frozen=True)
class Found:
    """Personal data found in a text: text[start:end] is of `kind`."""

    start: int
    end: int
    kind: str


def _fold(text: str) -> str:
    """A copy of `text`, as long as it, with digits, letters and separators in ASCII."""
    folded = _FOLD_CHARS.sub(lambda char: _FOLD_MAP[char.group()], text)
    return _NUMERAL_RUN.sub(lambda run: run.group().translate(_NUMERAL_FOLD), folded)


def find_personal_data(text: str) -> list[Found]:
    """Every span of personal data in `text`, in order, none overlapping."""
    folded = _fold(text)
    lowered = folded.lower()
    if not _HAS_DIGIT.search(folded) and not _NO_DIGIT_TRIGGER(lowered):
        return []  # the common case of prose without a number: nothing to look for
    found: list[Found] = []
    for kind, pattern, check, trigger in _DETECTORS:
        if trigger is not bool and not trigger(lowered):
            continue
        for match in pattern.finditer(folded):
            start, end = match.span("pii") if "pii" in pattern.groupindex else match.span()
            if check is not None and not check(folded[start:end]):
                continue
            if any(start < other.end and other.start < end for other in found):
                continue
            found.append(Found(start, end, kind))
    return sorted(found, key=lambda item: item.start)


def mask(text: str | None) -> str | None:
    """`text` with personal data replaced by MARK (None stays None)."""
    if not text:
        return text
    parts: list[str] = []
    position = 0
    for item in find_personal_data(text):
        parts += [text[position:item.start], MARK]
        position = item.end
    parts.append(text[position:])
    return "".join(parts)
