"""Refresh the message catalogs: extract, update, and fill Traditional Chinese by OpenCC.

Message ids are Simplified Chinese (the default language). zh_Hant is generated from them
(s2t), so it is never out of date; English is translated by hand in translations/en.
Run `make messages` after changing UI strings, then review translations/en/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po
from opencc import OpenCC

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def run(*args: str) -> None:
    subprocess.run([*PYBABEL, *args], check=True, cwd=ROOT)


def ensure_catalog(locale: str) -> Path:
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if po.exists():
        run("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale, "--no-fuzzy-matching")
    else:
        run("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale)
    return po


# OpenCC's Taiwan variant characters (眾, not 衆) with the words of GLOSSARY.md and common usage
# on mainland and Hong Kong government sites put back where OpenCC prefers another form
# (issue 13: 公眾, not 公衆; 平台, not 平臺).
CONFIG = "s2tw"
FIXES = {
    "臺": "台",  # 平台, 出台, 後台
    "發佈": "發布",
    "征求": "徵求",
    "個人信息": "個人資訊",
    "賬號": "帳號",
    "反饋": "回饋",
}


def to_traditional(converter: OpenCC, text: str) -> str:
    text = converter.convert(text)
    for wrong, right in FIXES.items():
        text = text.replace(wrong, right)
    return text


def fill_traditional(po: Path) -> None:
    converter = OpenCC(CONFIG)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hant")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(to_traditional(converter, part) for part in message.id)
        else:
            message.string = to_traditional(converter, message.id)
        message.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog, width=100)


def main() -> None:
    TRANSLATIONS.mkdir(exist_ok=True)
    run("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
        "--sort-output", "-o", str(POT), ".")
    fill_traditional(ensure_catalog("zh_Hant"))
    ensure_catalog("en")
    run("compile", "-d", str(TRANSLATIONS), "--statistics")


if __name__ == "__main__":
    main()
