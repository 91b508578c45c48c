"""The zh-Hant catalog (issue 13): made by tools/translations.py from the Simplified message ids
(OpenCC s2tw, then the reviewed fixes), so it is exactly what the tool makes; it uses the
GLOSSARY's zh-Hant words, and none of the forms the review took out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from opencc import OpenCC

from tools.translations import CHARACTERS, CONFIG, TITLE, WORDS, to_traditional

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "zh_Hant" / "LC_MESSAGES" / "messages.po"
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"
SHARED_GLOSSARY = Path("/tmp/shared/GLOSSARY.md")  # the product's own, beside the checkout

# Forms the review took out (issue 13 and the catalog's review), checked outside 《》 names.
BANNED = ("公衆", "衆", "平臺", "臺", "發佈", "公佈", "佈", "髮", "鬚", "賬", "反饋", "，併為",
          "併發", "制作", "長征", "個人信息", "登錄", "模板", "默認", "鏈接", "數據", "信息",
          "郵箱", "軟件", "網絡", "服務器", "用戶", "字符", "創建", "導入", "搜索")


def _messages(path: Path):
    with path.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield from zip(ids, strings, strict=True)


@pytest.fixture(scope="module")
def messages() -> list[tuple[str, str]]:
    return list(_messages(CATALOG))


def _outside_names(text: str) -> str:
    """The text without the names in 《》 (a law keeps its name: 個人信息保護法)."""
    return TITLE.sub("《》", text)


def _glossary_pairs(text: str) -> list[tuple[str, str]]:
    """(zh-Hans, zh-Hant) of every term of GLOSSARY.md's table: "条 / 条款" and
    "参与方式（网上征求意见、听证会）" give one pair per word."""
    pairs = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.search(r"[\u4e00-\u9fff]", cells[1]):
            continue
        hans, hant = cells[1].split(" / "), cells[2].split(" / ")
        if len(hans) != len(hant):
            continue
        for s, t in zip(hans, hant, strict=True):
            s_words, t_words = re.split(r"[（）、]", s), re.split(r"[（）、]", t)
            if len(s_words) == len(t_words):
                pairs.extend((a, b) for a, b in zip(s_words, t_words, strict=True) if a)
    return pairs


def test_the_catalog_is_exactly_what_the_tool_makes(messages):
    """Fixes live in tools/translations.py, never in the catalog: regenerating keeps them."""
    converter = OpenCC(CONFIG)
    wrong = [(msgid, msgstr) for msgid, msgstr in messages
             if msgstr != to_traditional(converter, msgid)]
    assert not wrong, f"{len(wrong)} msgstrs differ from the tool's, e.g. {wrong[:2]}"
    with (ROOT / "translations" / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    with CATALOG.open("rb") as fh:
        assert {m.id for m in read_po(fh) if m.id} == template


def test_the_glossary_in_the_repository_is_the_products():
    if not SHARED_GLOSSARY.exists():
        pytest.skip("the product's GLOSSARY.md is not at /tmp/shared")
    assert GLOSSARY.read_text(encoding="utf-8") == SHARED_GLOSSARY.read_text(encoding="utf-8")


def test_every_glossary_term_is_translated_with_the_glossarys_word(messages):
    pairs = _glossary_pairs(GLOSSARY.read_text(encoding="utf-8"))
    assert ("意见征集", "意見徵集") in pairs and ("个人信息", "個人資訊") in pairs
    assert ("采纳", "採納") in pairs and ("条", "條") in pairs and ("网站", "網站") in pairs
    assert len(pairs) > 70
    used = 0
    problems = []
    for msgid, msgstr in messages:
        source, target = _outside_names(msgid), _outside_names(msgstr)
        for hans, hant in pairs:
            if hans in source:
                used += 1
                if source.count(hans) > target.count(hant):
                    problems.append(f"{hans} → {hant}: {msgstr}")
    assert used > 1000  # the check looked at the catalog's words, not at nothing
    assert not problems, "\n".join(problems[:20])


def test_no_form_the_review_took_out_is_left(messages):
    problems = [(form, msgstr) for msgid, msgstr in messages for form in BANNED
                if form in _outside_names(msgstr)]
    assert not problems, problems[:20]
    # every word the tool puts right is gone too (its "wrong" side never reaches the catalog)
    for wrong, _right in (*CHARACTERS, *WORDS):
        assert not any(wrong in _outside_names(msgstr) for _id, msgstr in messages), wrong


@pytest.mark.parametrize("simplified, traditional", [
    ("公众参与平台", "公眾參與平台"),
    ("修改须发布新版本", "修改須發布新版本"),  # OpenCC alone: 修改鬚髮布新版本
    ("简化版面，并为本浏览器记住", "簡化版面，並為本瀏覽器記住"),  # not 併為
    ("合并为一组", "合併為一組"),  # but merging stays 合併
    ("延长并发布", "延長並發布"),
    ("由起草单位制作", "由起草單位製作"),  # OpenCC alone: 單位制作
    ("延长征求意见期限", "延長徵求意見期限"),  # OpenCC alone: 延長征求
    ("意见采纳情况反馈", "意見採納情況回饋"),
    ("恢复账号，登录后下载我的数据", "恢復帳號，登入後下載我的資料"),
    ("使用理由模板", "使用理由範本"),
    ("处理您的个人信息", "處理您的個人資訊"),
    ("依照《中华人民共和国个人信息保护法》", "依照《中華人民共和國個人信息保護法》"),
    ("《互联网网站适老化通用设计规范》，互联网", "《互聯網網站適老化通用設計規範》，網際網路"),
])
def test_the_tool_translates_these_as_reviewed(simplified, traditional):
    assert to_traditional(OpenCC(CONFIG), simplified) == traditional
