"""Refresh the message catalogs: extract, update, and fill Traditional Chinese by OpenCC.

Message ids are Simplified Chinese (the default language). zh_Hant is generated from them (OpenCC
s2tw, then the reviewed fixes below), so it is never out of date and never edited by hand;
English is translated by hand in translations/en. Run `make messages` after changing UI strings,
then fill and review translations/en/LC_MESSAGES/messages.po. translations/README.md says more.
"""

from __future__ import annotations

import re
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


# How zh-Hant is made (see translations/README.md): OpenCC's Taiwan standard characters (s2tw:
# 眾, not 衆; 裡, 為, 著), then the fixes below, in this order. They are the review of the catalog:
# re-running this script applies them again, and tests/main/test_translations.py checks that the
# catalog is exactly what this makes.
CONFIG = "s2tw"

# Characters, everywhere (names in 《》 too): OpenCC's slips in these texts — it splits words
# wrongly (单位|制作 read as 单位制, ，并为 as 合并为, 须发 as 胡须头发, 延长征求 as 长征) — and
# the one form kept of characters with two (issue 13: 平台, not 平臺; 發布 and 公布 as in
# Taiwan's and the mainland's official usage).
CHARACTERS: tuple[tuple[str, str], ...] = (
    ("鬚髮", "須發"),
    ("髮", "發"),
    ("佈", "布"),
    ("臺", "台"),  # 平台, 出台, 後台
    ("征求", "徵求"),
    ("制作", "製作"),
    ("，併為", "，並為"),
    ("併發", "並發"),
    ("賬", "帳"),  # 帳號
)

# Words, outside names in 《》 (a law or a standard keeps its own name:
# 《中華人民共和國個人信息保護法》). GLOSSARY.md's zh-Hant column first;
# it takes Taiwan's words (個人資訊, 帳號, 回饋), and so does the rest:
# Taiwan's usage where it differs from the mainland's. The words of
# government (審核, 發布, 文件 for a document, 保存) are the same on both
# sides and kept.
WORDS: tuple[tuple[str, str], ...] = (
    ("反饋", "回饋"),
    ("垃圾信息", "垃圾訊息"),
    ("信息", "資訊"),  # 個人資訊 (GLOSSARY), 基本資訊
    ("數據", "資料"),  # 開放資料, 統計資料
    ("登錄", "登入"),
    ("模板", "範本"),
    ("默認", "預設"),
    ("鏈接", "連結"),
    ("設置", "設定"),
    ("服務器", "伺服器"),
    ("互聯網", "網際網路"),
    ("網絡", "網路"),
    ("軟件", "軟體"),
    ("用戶", "使用者"),
    ("字符串", "字串"),
    ("字符", "字元"),
    ("文檔", "文件"),
    ("電子郵箱", "電子信箱"),
    ("郵箱", "信箱"),
    ("搜索", "搜尋"),
    ("屏幕", "螢幕"),
    ("導入", "匯入"),
    ("導出", "匯出"),
    ("創建", "建立"),
    ("添加", "新增"),
    ("界面", "介面"),
    ("接口令牌", "存取權杖"),
    ("令牌", "權杖"),
    ("接口", "介面"),
    ("批量", "批次"),
    ("變量", "變數"),
    ("刷新", "重新整理"),
    ("哈希", "雜湊"),
    ("支持", "支援"),
    ("聯繫", "聯絡"),
    ("點擊", "點選"),
    ("訪問", "造訪"),
    ("純文本", "純文字"),
)

TITLE = re.compile(r"(《[^《》]*》)")  # a name (law, standard, document): its words are kept


def to_traditional(converter: OpenCC, text: str) -> str:
    """`text` (Simplified) in the catalog's Traditional Chinese."""
    text = converter.convert(text)
    for wrong, right in CHARACTERS:
        text = text.replace(wrong, right)
    parts = TITLE.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside 《》
        for wrong, right in WORDS:
            parts[i] = parts[i].replace(wrong, right)
    return "".join(parts)


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
