"""Personal data in comment text, masked before publication (F10, issue 9).

Staff see the original; the public sees the text with resident ID numbers, mobile and landline
numbers, e-mail addresses, bank card numbers, QQ/WeChat ids, licence plates, the house, building
and room numbers of street addresses, and the names writers give as their own replaced by MARK.
Everything else is left exactly as written (full-width digits stay full-width, invisible
characters stay where they were, outside a masked span). Masking happens when a text is shown
(`mask()` at display; a published report freezes what it showed, and `flask --app app privacy
remask` applies new rules to published reports, consult/answers/remask.py).

How it works: the text is folded to a copy in which every Unicode digit (Arabic-Indic ٠١٢,
Devanagari, full-width, mathematical, circled ①) is an ASCII digit, every space (ideographic,
no-break, thin) a space, every dash and hyphen (‐ ‑ – — − ﹣ ー ─ …) a "-", every dot used as a
separator (． 。 · ・) a ".", full-width letters and signs ASCII, and invisible characters
(zero-width space, joiners, word joiner, BOM, soft hyphen, direction marks) are dropped; runs of
four or more Chinese numerals (〇一二…九/壹贰…玖/幺) become digits. The copy remembers where each
of its characters came from, so spans found in it are spans of the original. Detectors run on
the copy in order of priority; each match is checked (dates, checksums, Luhn, context) and kept
unless it overlaps an earlier one; the kept spans are replaced in the original text.

Decisions (each one is a row of tests/comments/test_masking.py):

- **Resident ID numbers, 18 digits**: masked when the birth date (digits 7–14) is a real date
  between 1900-01-01 and today, and either the province code (first two digits) exists or the
  ISO 7064 MOD 11-2 check character is right. The checksum is *not* required: a mistyped ID
  number is still somebody's personal data, and a wrong check digit is the most common typo.
  15-digit old IDs are masked when the province exists and the 19yymmdd birth date is real.
  Digits may be spaced, hyphenated or dotted in the 6-4-4-4 / 6-8-4 groups people use.
- **Separators**: one space, hyphen or dot between the usual groups (138 0013 8000,
  138-0013-8000, 138.0013.8000), or one between every digit (1 3 8 0 0 1 3 8 0 0 0). Other
  groupings (13 80 01 38 000) are not recognised: they read like lists of numbers.
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
- **Licence plates**: a province's one-character abbreviation, the issuing letter, then five
  characters with at least three digits (豫A12345, 川A8B8C8), six for new-energy plates
  (京AD12345, 粤B12345D), or four and 挂/学/警 (冀A1234挂); a dot or space may follow the
  letter. The whole plate is masked. 豫A级景区 and 沪A2026年 are not plates.
- **Street addresses**: the road, estate or village name stays, the numbers after it go:
  经三路12号院3号楼2单元501室 → 经三路［个人信息已隐去］. Masked when the numbers name more than
  a house — two or more of 号/号院/号楼/栋/幢/座/单元/层/楼/室/户/弄 parts (a room number may
  follow 单元 bare: 1单元302; 3-2-501 counts as building-unit-room) — or one dwelling part
  (号楼, 栋, 单元, 室 …) right after a road or estate name. A house number alone (经三路12号,
  also a public office's address), a room alone (在501室召开), ordinals (第711号) and place
  names alone (郑州市金水区经三路) stay. Numbers written in Chinese numerals are not recognised.
- **Names the writer gives as their own**: after 我叫 / 我的名字是(叫) / 本人(是) / 姓名 /
  联系人 / 署名 / 落款, a common Chinese surname (single or compound, simplified or
  traditional) and one or two more characters, followed by punctuation, a space, the end of
  the text or a word that starts what is said next (认为, 建议, 电话, 今年 …). So 本人王小明建议…
  and 联系人：王小明 are masked, but not 本人认为第六条… (认 is no surname), 本人于今年… (no
  word boundary after the candidate), 本人张家口市民 (a place, no boundary) or 王某 (already
  anonymous).
- **Other likely names are flagged, not masked**: `likely_names()` lists a surname with a title
  (王小明先生, 李主任) and a name alone on the closing line of a letter; the moderation page and
  the staff's comment list show them so that a person decides (hide the comment with the reason
  "personal data" if needed). Masking every surname-like pair blindly would mangle prose.
- **Not masked**: dates in any notation (2026年11月25日, 20261125, 2026-11-25, 2026.03.15),
  document numbers (郑政〔2026〕12号), article and statute numbers, amounts (1000000元), decimals
  and versions (13.8%, 3.1.5), year ranges, and postal codes alone (450000 says where, not who).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from consult import clock

MARK = "［个人信息已隐去］"

# --- folding ----------------------------------------------------------------------------------

# Characters that are folded one for one (or dropped), found by one character class so that
# ordinary prose, which has none of them, costs a single scan. Full-width commas and the
# ideographic full stop, in every Chinese sentence, are left alone (。 is a separator in the
# patterns themselves).
_DIGIT_ZEROS = (  # the zero of every run of ten decimal digits (Unicode category Nd) but ASCII
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
)
# Characters outside the Basic Multilingual Plane are all looked at (one range keeps the class
# a fast bitmap): digits there fold, anything else (emoji) stays as it is.
_DIGITS = "".join(f"{chr(zero)}-{chr(zero + 9)}" for zero in _DIGIT_ZEROS if zero < 0x10000)
_SPACES = "\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVISIBLE = "\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
# Superscripts, subscripts, circled and parenthesised digits (Unicode "No" with a digit value).
_DIGIT_SIGNS = "\u00b2\u00b3\u00b9\u2070-\u2089\u2460-\u24ff\u2776-\u2793"
_DASHES = (
    "\u02d7\u058a\u05be\u1806\u2010-\u2015\u2043\u2212\u23af\u2500\u2501\u2e17\u2e3a\u2e3b"
    "\u301c\u3030\u30a0\u30fc\ufe31\ufe32\ufe58\ufe63\uff0d\uff70"
)
_DOTS = "\uff0e\u00b7\u30fb\u2027\u2219\u2022\uff61"
_FULL_WIDTH = (  # ０-９ Ａ-Ｚ ａ-ｚ ＠ ＋ （ ） ： ＿ ［ ］
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff20\uff0b\uff08\uff09\uff1a\uff3f\uff3b\uff3d"
)
_FOLDABLE = re.compile(
    f"[{_DIGITS}{_SPACES}{_INVISIBLE}{_DIGIT_SIGNS}{_DASHES}{_DOTS}{_FULL_WIDTH}"
    "\U00010000-\U0010ffff]"
)
_DROPPED = re.compile(f"[{_INVISIBLE}]")


def _chars(ranges: str) -> frozenset[str]:
    return frozenset(chr(c) for a, b in re.findall(r"(.)(?:-(.))?", ranges)
                     for c in range(ord(a), ord(b or a) + 1))


_DROPPED_CHARS, _DASH_CHARS, _DOT_CHARS = _chars(_INVISIBLE), _chars(_DASHES), _chars(_DOTS)
_fold_cache: dict[str, str] = {}


def _fold_char(char: str) -> str:
    """The ASCII character `char` stands for here ("" for an invisible one)."""
    folded = _fold_cache.get(char)
    if folded is None:
        if char in _DROPPED_CHARS:
            folded = ""
        elif char in _DASH_CHARS:
            folded = "-"
        elif char in _DOT_CHARS:
            folded = "."
        elif "\uff01" <= char <= "\uff5e":  # full-width ASCII: Ａ１＠（）：．
            folded = chr(ord(char) - 0xFEE0)
        elif char.isspace():
            folded = " "
        else:
            digit = unicodedata.digit(char, None)
            folded = str(digit) if digit is not None else char
        _fold_cache[char] = folded
    return folded


# Chinese numerals, as phone numbers are read out or typed to get past filters (幺 = 1).
_NUMERALS = {char: str(digit) for digit, chars in enumerate((
    "〇零", "一壹幺", "二贰", "三叁", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖"))
    for char in chars}
_NUMERAL_FOLD = str.maketrans(_NUMERALS)
# Only runs of four or more numerals are numbers: 第一条 and 一4101… keep their 一.
_NUMERAL_RUN = re.compile("[{0}](?:[ \\-]?[{0}]){{3,}}".format("".join(_NUMERALS)))


def _fold(text: str) -> tuple[str, list[int] | None]:
    """A copy of `text` with digits, letters and separators in ASCII and invisible characters
    dropped, and where each of its characters came from (None: the same place)."""
    origin = None
    if _FOLDABLE.search(text):
        if _DROPPED.search(text):
            origin = [i for i, char in enumerate(text) if char not in _DROPPED_CHARS]
        text = _FOLDABLE.sub(lambda match: _fold_char(match.group()), text)
    return _NUMERAL_RUN.sub(lambda run: run.group().translate(_NUMERAL_FOLD), text), origin


# --- numbers ----------------------------------------------------------------------------------

# Units after which a number is a quantity, not a phone number.
_UNIT = r"(?!\s?[元万亿千百个人次户家件吨米%年月日倍台辆套份名位岁天周])"
_S = r"[ .。\-]?"  # one optional separator between digit groups
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
    r"(?P<pii>\d(?:[ .。\-]?\d){11,22})(?!\d)"
)
_ID18 = re.compile(
    rf"\d(?<!\d\d)\d{{5}}{_S}\d{{4}}{_S}\d{{4}}{_S}\d{{3}}(?:\d(?![\dXx])|[Xx](?![0-9A-Za-z]))"
)
_ID15 = re.compile(r"\d(?<!\d\d)\d{14}(?!\d)")
# Solid, or in groups of four with the same separator throughout (6222 0212 3456 7890 128).
_CARD = re.compile(
    r"\d(?<!\d\d)(?:\d{15,18}|\d{3}([ .。\-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?)(?!\d)"
)
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
# One digit at a time, each followed by the same separator: 1 3 8 0 0 1 3 8 0 0 0.
_ONE_BY_ONE = re.compile(r"\d(?<![\d.\-]\d)([ .。\-])\d(?:\1\d){9,17}(?:\1[Xx])?(?![\d.\-]|\1\d)")

# Province-level codes of resident ID numbers (81/82/83: Hong Kong, Macao, Taiwan permits).
_PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_SEPARATORS = re.compile(r"[ .。\-]")


def _digits(value: str) -> str:
    return _SEPARATORS.sub("", value)


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
    value = _digits(value)
    return len(value) == 15 and value.isdigit() and int(value[:2]) in _PROVINCES and (
        _birth_date_ok(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])))


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


_MOBILE_SOLID = re.compile(r"1[3-9]\d{9}")


def _one_by_one(value: str) -> bool:
    """Digits typed one at a time: a mobile, an ID number or a card number once joined."""
    digits = _digits(value)
    return bool(_MOBILE_SOLID.fullmatch(digits)) or is_resident_id(digits) or _is_old_id(
        digits) or (digits.isdigit() and _is_card(digits))


# --- licence plates and addresses -------------------------------------------------------------

_PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Za-hj-np-z"  # no I or O on plates
_PLATE = re.compile(
    rf"[{_PROVINCE_ABBREVIATIONS}][{_PLATE_LETTER}][ .]?"
    rf"(?P<tail>[{_PLATE_LETTER}0-9]{{4}}[挂学警]|[{_PLATE_LETTER}0-9]{{5,6}})(?![A-Za-z0-9])"
)
_NEW_ENERGY = re.compile(r"[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF]")


def _is_plate(value: str) -> bool:
    tail = value[2:].lstrip(" .").upper()
    if tail[-1] in "挂学警":
        return sum(c.isdigit() for c in tail) >= 3
    if len(tail) == 6:
        return bool(_NEW_ENERGY.fullmatch(tail))
    return sum(c.isdigit() for c in tail) >= 3


_DWELLING = ("号楼", "栋", "幢", "座", "单元", "层", "楼", "室", "户")
_ADDRESS_SUFFIX = "(?:号院|号楼|号|栋|幢|座|单元|层|楼|室|户|弄)"
_ADDRESS_PART = rf"\d{{1,5}}{_ADDRESS_SUFFIX}"
_ADDRESS_TRIPLE = r"\d{1,4}-\d{1,4}-\d{1,5}(?![\d.\-])"
_ADDRESS_END = rf"(?: ?{_ADDRESS_TRIPLE}|\d{{2,5}}(?![\d.\-]){_UNIT})"  # 8号3-2-501, 1单元302
# Numbers right after a road, street, estate or village name (路 街 道 巷 胡同 里 弄 村 …
# 小区 花园 大厦 …): one part or more, or a building-unit-room triple.
_ADDRESS_AFTER_PLACE = re.compile(
    rf"[路街道巷同里弄村屯苑园院寓厦场城庄湾府邸居区](?P<pii>\d{{1,5}}{_ADDRESS_SUFFIX}"
    rf"(?: ?{_ADDRESS_PART})*{_ADDRESS_END}?|{_ADDRESS_TRIPLE})"
)
# Elsewhere: two parts or more (3号楼2单元501室), never a house number alone (第711号, 12号).
_ADDRESS = re.compile(
    rf"\d(?<!\d\d)\d{{0,4}}{_ADDRESS_SUFFIX}(?:(?: ?{_ADDRESS_PART})+{_ADDRESS_END}?"
    rf"|{_ADDRESS_END})"
)
_PARTS = re.compile(rf"{_ADDRESS_PART}|{_ADDRESS_TRIPLE}|\d+")


def _is_address_after_place(value: str) -> bool:
    """Numbers after a road or estate name that name more than a house (see the rules)."""
    parts = _PARTS.findall(value)
    return len(parts) >= 2 or any(part.endswith(_DWELLING) or "-" in part for part in parts)


def _is_address(value: str) -> bool:
    """Two numbered parts or more, one of them a dwelling's (3号楼2单元, not 3号5号). The
    detector runs only on texts that name a dwelling part at all (楼, 室 …)."""
    return any(part.endswith(_DWELLING) or "-" in part or part.isdigit()
               for part in _PARTS.findall(value))


# --- names ------------------------------------------------------------------------------------

_SURNAMES_COMPOUND = [
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "钟离", "澹台", "端木", "百里", "呼延", "南宫", "独孤", "西门", "歐陽",
    "司馬", "諸葛", "長孫", "鍾離", "軒轅",
]
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍"
    "华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米"
    "柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "張劉陳楊黃趙吳孫馬鄭謝許韓馮鄧曾蕭葉蘇魏呂盧薑鍾譚陸範賈韋鄒閆龍賀顧郝龔邵萬錢湯戴"
    "莊聶魯嚴"
)
_NAME_TRIGGER = re.compile(
    r"(?:我叫|我的名字(?:是|叫)|本人(?:姓名)?(?:是|叫)?|姓名(?:是|为|為)?|"
    r"联系人(?:是|为)?|聯繫人|聯系人|署名(?:是|为)?|落款(?:是|为)?)[:：]?[ ]?"
)
_CJK = r"[\u4e00-\u9fff]"
_NAME_AFTER_TRIGGER = re.compile(
    rf"(?:{'|'.join(_SURNAMES_COMPOUND)}|[{_SURNAMES}]){_CJK}{{1,2}}"
)
# What may follow a name: punctuation, a space, the end, or a word that starts what is said.
_NAME_END = re.compile(
    r"$|[\s，。、,.;；:：!！?？（(“\"'‘—\-～~]|"
    r"(?:认为|認為|建议|建議|觉得|覺得|希望|反映|要求|提出|提议|表示|同意|支持|反对|反對|是|系|"
    r"现|現|住|居住|家住|今年|年龄|男|女|身份证|身份證|电话|電話|手机|手機|联系|聯繫|邮箱|郵箱|"
    r"地址|工作|就职|从事|退休|作为|作為|代表|特此|对|對|就|关于|關於|针对|向|签名|的|来自|來自|"
    r"出生|为|為|在)"
)
_ANONYMOUS = frozenset("某×XxＸ*＊")


def _name_spans(folded: str) -> list[tuple[int, int]]:
    """Names introduced as the writer's own (see the module's rules)."""
    spans = []
    for trigger in _NAME_TRIGGER.finditer(folded):
        start = trigger.end()
        match = _NAME_AFTER_TRIGGER.match(folded, start)
        if match is None:
            continue
        # The longest candidate followed by a word boundary: 王小明 in 本人王小明建议.
        for end in range(match.end(), start + 1, -1):
            name = folded[start:end]
            if len(name) < 2 or any(char in _ANONYMOUS for char in name):
                break
            if _NAME_END.match(folded, end):
                spans.append((start, end))
                break
    return spans


_TITLES = (
    "先生|女士|小姐|同志|老师|老師|师傅|師傅|大爷|大爺|阿姨|大妈|大媽|经理|經理|主任|局长|局長|"
    "处长|處長|科长|科長|所长|所長|书记|書記|村长|村長|医生|醫生|律师|律師|警官|校长|校長|院长|院長"
)
_WITH_TITLE = re.compile(
    rf"(?:{'|'.join(_SURNAMES_COMPOUND)}|[{_SURNAMES}])(?:(?!{_TITLES}){_CJK}){{0,2}}"
    rf"(?:{_TITLES})"
)
_SIGNATURE = re.compile(
    rf"(?:^|\n|——|—|--)[ \t　]*((?:{'|'.join(_SURNAMES_COMPOUND)}|[{_SURNAMES}]){_CJK}{{1,2}})"
    r"[ \t　]*(?=\n|$)"
)
_NOT_SIGNATURES = frozenset({"谢谢", "謝謝", "谢谢你", "谢谢您", "敬礼", "此致", "万分感谢"})


def likely_names(text: str | None) -> list[str]:
    """Words that look like a person's name but are not masked: for a moderator to check.

    A surname with a title (王小明先生, 李主任) and a name alone on the closing line of a
    letter, as they stand in `mask(text)` (a name already masked is not listed).
    """
    shown = mask(text) or ""
    if not shown:
        return []
    found = [match.group() for match in _WITH_TITLE.finditer(shown)]
    found += [match.group(1) for match in _SIGNATURE.finditer(shown)
              if match.group(1) not in _NOT_SIGNATURES]
    return list(dict.fromkeys(found))


# --- detection --------------------------------------------------------------------------------


def _words(*words: str) -> Callable[[str], bool]:
    """A trigger: the (folded, lowercased) text contains one of `words`."""
    return lambda lowered: any(word in lowered for word in words)


_HAS_DIGIT = re.compile(r"\d")
# What may be personal data without a digit: an e-mail address, a WeChat id, a name.
_NAME_WORDS = ("我叫", "名字", "本人", "姓名", "联系人", "聯繫人", "聯系人", "署名", "落款")
_NO_DIGIT_TRIGGER = _words("@", "(at)", "[at]", "微信", "wechat", "weixin", "vx", "wx",
                           *_NAME_WORDS)

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
    ("digits", _ONE_BY_ONE, _one_by_one, bool),
    ("plate", _PLATE, _is_plate, bool),
    ("address", _ADDRESS_AFTER_PLACE, _is_address_after_place, bool),
    ("address", _ADDRESS, _is_address, _words("栋", "幢", "座", "单元", "层", "楼", "室", "户")),
)


@dataclass(frozen=True)
class Found:
    """Personal data found in a text: text[start:end] is of `kind`."""

    start: int
    end: int
    kind: str


def find_personal_data(text: str) -> list[Found]:
    """Every span of personal data in `text`, in order, none overlapping."""
    folded, origin = _fold(text)
    lowered = folded.lower()
    has_digit = _HAS_DIGIT.search(folded) is not None
    if not has_digit and not _NO_DIGIT_TRIGGER(lowered):
        return []  # the common case of prose without a number: nothing to look for
    spans: list[tuple[int, int, str]] = []

    def keep(start: int, end: int, kind: str) -> None:
        if not any(start < other_end and other_start < end for other_start, other_end, _k
                   in spans):
            spans.append((start, end, kind))

    if has_digit:
        for kind, pattern, check, trigger in _DETECTORS:
            if trigger is not bool and not trigger(lowered):
                continue
            for match in pattern.finditer(folded):
                start, end = match.span("pii") if "pii" in pattern.groupindex else match.span()
                if check is None or check(folded[start:end]):
                    keep(start, end, kind)
    else:  # only the detectors that need no digit
        for kind, pattern, _check, trigger in _DETECTORS[:3]:
            if trigger(lowered):
                for match in pattern.finditer(folded):
                    keep(*(match.span("pii") if "pii" in pattern.groupindex else match.span()),
                         kind)
    if any(word in folded for word in _NAME_WORDS):
        for start, end in _name_spans(folded):
            keep(start, end, "name")
    if origin is not None:  # back to the original's positions (invisible characters dropped)
        spans = [(origin[start], origin[end - 1] + 1, kind) for start, end, kind in spans]
    return [Found(start, end, kind) for start, end, kind in sorted(spans)]


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
