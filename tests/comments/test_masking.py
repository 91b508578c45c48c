"""Personal data in comment text is masked before publication (F10): the table of tricky cases.

Each row is a decision written down in consult/comments/masking.py's docstring. M is the mark.
"""

import pytest

from consult.comments.masking import (
    MARK as M,
)
from consult.comments.masking import (
    find_personal_data,
    id_check_character,
    is_resident_id,
    luhn_ok,
    mask,
)

CASES = [
    # --- resident ID numbers, 18 digits
    ("id: checksum right", "身份证41010519900307123X。", f"身份证{M}。"),
    ("id: lowercase x", "身份证号41010519900307123x", f"身份证号{M}"),
    ("id: the standard's own example", "11010519491231002X", M),
    ("id: mistyped check digit is still personal data",
     "我的身份证号410105199003071234，请保密", f"我的身份证号{M}，请保密"),
    ("id: between Chinese characters", "张三410105198501011235住金水区", f"张三{M}住金水区"),
    ("id: after Latin letters", "ID410105198501011235", f"ID{M}"),
    ("id: spaced 6-8-4", "身份证：410105 19900307 123X", f"身份证：{M}"),
    ("id: hyphenated 6-4-4-4", "410105-1990-0307-123X", M),
    ("id: full-width digits and Ｘ", "证件号４１０１０５１９９００３０７１２３Ｘ", f"证件号{M}"),
    ("id: ideographic spaces", "４１０１０５　１９９００３０７　１２３Ｘ号", f"{M}号"),
    ("id: unknown province but checksum right", "990105199003071232", M),
    ("id: unknown province and checksum wrong", "990105199003071234", "990105199003071234"),
    ("id: month 13 is no birth date", "编号410105199013011230", "编号410105199013011230"),
    ("id: 30 February is no birth date", "410105199002301232", "410105199002301232"),
    ("id: born before 1900", "410105189903071236", "410105189903071236"),
    ("id: born in the future", "410105209901011235", "410105209901011235"),
    ("id: inside a longer digit run, not partly",
     "流水号12410105199003071234", "流水号12410105199003071234"),
    ("id: X followed by more digits", "41010519900307123X0", "41010519900307123X0"),
    ("id: an 18-digit run in a 26-digit one", "订单2041010519850101123599",
     "订单2041010519850101123599"),
    ("id: old 15-digit form", "旧身份证410105900307123", f"旧身份证{M}"),
    ("id: old form with a bad date", "410105901307123", "410105901307123"),
    # --- mobiles
    ("mobile: solid", "手机13800138000", f"手机{M}"),
    ("mobile: spaced 3-4-4", "手机 138 0013 8000 联系", f"手机 {M} 联系"),
    ("mobile: hyphenated", "138-0013-8000", M),
    ("mobile: 4-3-4", "1380 013 8000", M),
    ("mobile: +86 and spaces", "请拨+86 138 0013 8000", f"请拨{M}"),
    ("mobile: +86 solid", "+8613800138000", M),
    ("mobile: 0086", "0086-13800138000", M),
    ("mobile: (+86)", "(+86)13800138000", M),
    ("mobile: full-width digits", "手机１３８００１３８０００。", f"手机{M}。"),
    ("mobile: Chinese numerals", "手机：一三八〇〇一三八〇〇〇", f"手机：{M}"),
    ("mobile: read out with 幺", "幺三八 〇〇幺三 八〇〇〇", M),
    ("mobile: right after a date", "2026年11月25日13800138000", f"2026年11月25日{M}"),
    ("mobile: after an eight-digit date", "20261125 13800138000", f"20261125 {M}"),
    ("mobile: an amount is not a phone number", "预算13800000000元", "预算13800000000元"),
    ("mobile: a 12-digit run is not a phone number", "213800138000", "213800138000"),
    # --- landlines
    ("landline: area code and hyphen", "座机0371-67188888", f"座机{M}"),
    ("landline: brackets", "(0371)67188888", M),
    ("landline: full-width brackets and digits", "（０３７１）６７１８８８８８", M),
    ("landline: extension 转", "010-62345678转806", M),
    ("landline: spaced with -ext", "0371 6718 8888-123", M),
    ("landline: +86 without the 0", "+86 371 6718 8888", M),
    ("landline: local number after 电话", "电话：67188888", f"电话：{M}"),
    ("landline: local number after 传真, spaced", "传真 6718 8888", f"传真 {M}"),
    ("landline: eight digits alone are not a phone number", "共67188888人次", "共67188888人次"),
    ("landline: service hotlines are public", "请拨打12345或400-123-4567",
     "请拨打12345或400-123-4567"),
    # --- e-mail addresses
    ("email: plain", "邮箱zhang.san@example.com", f"邮箱{M}"),
    ("email: plus and subdomains", "写信到 li_si+consult@mail.example.com.cn。", f"写信到 {M}。"),
    ("email: full-width ＠", "wang＠example.org", M),
    ("email: (at)", "zhao(at)example.com", M),
    ("email: a mobile as the local part is one mark", "13800138000@163.com", M),
    ("email: an @ before a unit's name is no address", "联系@市场监管局", "联系@市场监管局"),
    # --- bank cards
    ("card: groups of four", "卡号6222 0212 3456 7890 128", f"卡号{M}"),
    ("card: solid, Luhn right", "6228480012345671", M),
    ("card: hyphenated", "6228-4800-1234-5671", M),
    ("card: after 卡号 whatever the check digit", "卡号：6222021234567890123", f"卡号：{M}"),
    ("card: after 账户", "账户为 6217 0012 3456 7890 11", f"账户为 {M}"),
    ("card: Luhn wrong and no keyword", "编号6228480012345672", "编号6228480012345672"),
    # --- QQ and WeChat
    ("qq: after QQ", "QQ：123456789", f"QQ：{M}"),
    ("wechat: id after 微信", "加微信 zhangsan_2026 详谈", f"加微信 {M} 详谈"),
    ("wechat: 微信号", "微信号：wxid_abc123", f"微信号：{M}"),
    ("qq: a QQ group is public", "QQ群123456", "QQ群123456"),
    ("wechat: an official account name", "微信公众号郑州发布", "微信公众号郑州发布"),
    # --- what is not personal data
    ("date: Chinese", "自2026年11月25日起施行", "自2026年11月25日起施行"),
    ("date: eight digits", "20261125", "20261125"),
    ("date: ISO with time", "2026-11-25 14:30", "2026-11-25 14:30"),
    ("date: Chinese numerals", "二〇二六年十一月二十五日", "二〇二六年十一月二十五日"),
    ("document number", "郑政〔2026〕12号", "郑政〔2026〕12号"),
    ("article numbers", "第十五条第二款，第15条", "第十五条第二款，第15条"),
    ("amount", "补贴1000000元", "补贴1000000元"),
    ("amount that reads like a date", "预算20200301元", "预算20200301元"),
    ("year ranges", "2021—2025年、2021-2025年", "2021—2025年、2021-2025年"),
    ("statute", "国务院令第711号，GB 50016-2014", "国务院令第711号，GB 50016-2014"),
    ("postal code alone", "邮编450000", "邮编450000"),
    ("times and percentages", "14:30-16:00，增长13.8%", "14:30-16:00，增长13.8%"),
    # --- mixed
    ("mixed: full-width text outside the mark is kept as typed",
     "２０２６年，手机１３８００１３８０００", f"２０２６年，手机{M}"),
    ("mixed: postal code kept, phone masked", "邮编450000，电话0371-67188888",
     f"邮编450000，电话{M}"),
    ("mixed: several kinds in one comment",
     "本人王某，身份证11010519491231002X，手机13800138000，邮箱a@b.cn，第3条应当修改。",
     f"本人王某，身份证{M}，手机{M}，邮箱{M}，第3条应当修改。"),
    # --- issue 9, finding 5: every Unicode digit and separator is folded before matching
    ("bypass: dots between the groups", "手机138.0013.8000", f"手机{M}"),
    ("bypass: full-width dots", "手机１３８．００１３．８０００", f"手机{M}"),
    ("bypass: middle dots", "电话138·0013·8000", f"电话{M}"),
    ("bypass: ideographic full stops", "138。0013。8000", M),
    ("bypass: zero-width space between the groups", "手机138\u200b0013\u200b8000",
     f"手机{M}"),
    ("bypass: zero-width space after every digit",
     "手机" + "\u200b".join("13800138000"), f"手机{M}"),
    ("bypass: zero-width joiner and non-joiner", "1380\u200d0138\u200c000", M),
    ("bypass: word joiner and BOM", "13800\u2060138\ufeff000", M),
    ("bypass: soft hyphen", "138\u00ad0013\u00ad8000", M),
    ("bypass: full-width spaces between the groups", "138\u30000013\u30008000", M),
    ("bypass: a space after every digit", "手机 1 3 8 0 0 1 3 8 0 0 0 联系", f"手机 {M} 联系"),
    ("bypass: a full-width space after every digit", "\u3000".join("13800138000"), M),
    ("bypass: no-break and thin spaces", "138\u00a00013\u20098000", M),
    ("bypass: Arabic-Indic digits", "هاتف ١٣٨٠٠١٣٨٠٠٠", f"هاتف {M}"),
    ("bypass: extended Arabic-Indic digits", "手机۱۳۸۰۰۱۳۸۰۰۰", f"手机{M}"),
    ("bypass: Devanagari digits", "१३८००१३८०००", M),
    ("bypass: mathematical bold digits", "𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", M),
    ("bypass: circled digits", "①③⑧⓪⓪①③⑧⓪⓪⓪", M),
    ("bypass: hyphen U+2010", "138\u20100013\u20108000", M),
    ("bypass: non-breaking hyphen", "138\u20110013\u20118000", M),
    ("bypass: en dash", "138–0013–8000", M),
    ("bypass: em dash", "138—0013—8000", M),
    ("bypass: minus sign", "138−0013−8000", M),
    ("bypass: small hyphen-minus", "138﹣0013﹣8000", M),
    ("bypass: katakana long vowel mark used as a dash", "138ー0013ー8000", M),
    ("bypass: box-drawing line used as a dash", "138─0013─8000", M),
    ("bypass: landline with dots", "座机0371.6718.8888", f"座机{M}"),
    ("bypass: dotted ID number 6-4-4-4", "身份证410105.1990.0307.123X", f"身份证{M}"),
    ("bypass: dotted ID number 6-8-4", "410105.19900307.123X", M),
    ("bypass: ID number with zero-width spaces", "4101\u200b0519\u200b9003\u200b07123X", M),
    ("bypass: ID number in Arabic-Indic digits", "٤١٠١٠٥١٩٩٠٠٣٠٧١٢٣X", M),
    ("bypass: ID number one digit at a time", " ".join("41010519900307123X"), M),
    ("bypass: card number with dots", "卡号6222.0212.3456.7890.128", f"卡号{M}"),
    ("bypass: the text around a zero-width mark is kept as typed",
     "请\u200b联系１３８\u200b００１３８０００。", f"请\u200b联系{M}。"),
    # --- still not personal data after folding
    ("kept: dotted date", "2026.03.15起施行", "2026.03.15起施行"),
    ("kept: decimal numbers and versions", "增长13.8%，版本3.1.5，坐标113.6253",
     "增长13.8%，版本3.1.5，坐标113.6253"),
    ("kept: document number with its year", "郑政〔2026〕3号、豫政办〔2026〕12号",
     "郑政〔2026〕3号、豫政办〔2026〕12号"),
    ("kept: article numbers", "第六条第二款、第6条第2款", "第六条第二款、第6条第2款"),
    ("kept: amounts with separators", "补贴1,000,000元，合计3.5万元",
     "补贴1,000,000元，合计3.5万元"),
    ("kept: dates in Arabic-Indic digits", "٢٠٢٦-٠٣-١٥", "٢٠٢٦-٠٣-١٥"),
    # --- licence plates
    ("plate: ordinary", "车牌豫A12345被抄", f"车牌{M}被抄"),
    ("plate: new-energy, small", "京AD12345", M),
    ("plate: new-energy, large", "粤B12345D", M),
    ("plate: with a middle dot", "沪B·12345", M),
    ("plate: with a space", "川A 8B8C8", M),
    ("plate: full-width and lower case", "豫ａ１２３４５", M),
    ("plate: trailer", "冀A1234挂", M),
    ("plate: a place and a grade are not plates", "豫A级景区、京津冀协同发展",
     "豫A级景区、京津冀协同发展"),
    ("plate: too few digits", "沪A2026年", "沪A2026年"),
    # --- street addresses: the road stays, the house, building and room numbers go
    ("address: house, building, unit and room", "我住经三路12号院3号楼2单元501室",
     f"我住经三路{M}"),
    ("address: district and road kept", "郑州市金水区文化路97号院5号楼1单元302，常年噪音",
     f"郑州市金水区文化路{M}，常年噪音"),
    ("address: building-unit-room with hyphens", "花园路8号3-2-501", f"花园路{M}"),
    ("address: estate, building and room", "幸福小区3栋2单元501室", f"幸福小区{M}"),
    ("address: one building after an estate's name", "幸福小区3栋的住户", f"幸福小区{M}的住户"),
    ("address: one room after a road's name", "经三路501室", f"经三路{M}"),
    ("address: no road, but building and room", "住3号楼2单元501室", f"住{M}"),
    ("address: full-width digits", "经三路１２号院３号楼", f"经三路{M}"),
    ("address: a house number alone is an office's address too", "市政府位于经三路12号",
     "市政府位于经三路12号"),
    ("address: a room alone", "会议在501室召开", "会议在501室召开"),
    ("address: place names alone", "郑州市金水区经三路", "郑州市金水区经三路"),
    ("address: ordinals and lines are not addresses", "国务院令第711号，地铁5号线2号口",
     "国务院令第711号，地铁5号线2号口"),
    # --- names the writer gives as their own
    ("name: 我叫", "我叫王小明，住在附近。", f"我叫{M}，住在附近。"),
    ("name: 本人 before a verb", "本人王小明建议延长期限。", f"本人{M}建议延长期限。"),
    ("name: 联系人 with a colon", "联系人：王小明", f"联系人：{M}"),
    ("name: 联系人 before a phone number", "联系人王小明电话13800138000",
     f"联系人{M}电话{M}"),
    ("name: compound surname", "姓名：欧阳娜娜。", f"姓名：{M}。"),
    ("name: single given name", "我的名字叫李四。", f"我的名字叫{M}。"),
    ("name: 署名", "署名：张三", f"署名：{M}"),
    ("name: traditional characters", "本人陳大文認為應當修改。", f"本人{M}認為應當修改。"),
    ("name: 本人认为 is no name", "本人认为第六条应当删除。", "本人认为第六条应当删除。"),
    ("name: 本人于 is no name", "本人于今年三月提交过意见。", "本人于今年三月提交过意见。"),
    ("name: 本人是 an occupation", "本人是退休教师。", "本人是退休教师。"),
    ("name: a place after 本人", "本人张家口市民，建议……", "本人张家口市民，建议……"),
    ("name: already anonymous", "联系人王某，电话见附件。", "联系人王某，电话见附件。"),
    ("name: 联系人电话 is no name", "联系人电话：0371-67188888", f"联系人电话：{M}"),
    ("name: the issue's sentence",
     "我叫王小明，住经三路12号院3号楼，车牌豫A12345，手机138.0013.8000。",
     f"我叫{M}，住经三路{M}，车牌{M}，手机{M}。"),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_personal_data_is_masked(text, expected):
    assert mask(text) == expected


def test_the_table_is_big_enough_and_names_are_unique():
    assert len(CASES) >= 150
    assert len({case[0] for case in CASES}) == len(CASES)


def test_nothing_to_mask():
    assert mask("") == "" and mask(None) is None
    assert mask("建议第三条增加听证程序。") == "建议第三条增加听证程序。"


def test_masking_is_idempotent():
    once = mask("手机13800138000，邮箱zhang@example.com")
    assert mask(once) == once


def test_kinds_and_spans_are_reported():
    text = "手机13800138000，邮箱a@b.cn，身份证11010519491231002X，卡号6228480012345671"
    found = find_personal_data(text)
    assert [item.kind for item in found] == ["mobile", "email", "id_number", "bank_card"]
    assert [text[item.start:item.end] for item in found] == [
        "13800138000", "a@b.cn", "11010519491231002X", "6228480012345671"]


def test_id_checksum_and_luhn():
    assert id_check_character("11010519491231002") == "X"
    assert id_check_character("41010519850101123") == "5"
    assert is_resident_id("110105 19491231 002X") and not is_resident_id("1101051949123100")
    assert luhn_ok("6228480012345671") and not luhn_ok("6228480012345672")


def test_a_birth_date_counts_up_to_today(travel):
    from datetime import UTC, datetime

    travel(datetime(2010, 6, 1, tzinfo=UTC))
    born_2012 = "410105201203071234"
    assert mask(born_2012) == born_2012  # not yet born: not a birth date
    travel(datetime(2026, 6, 1, tzinfo=UTC))
    assert mask(born_2012) == M


def test_a_long_comment_keeps_every_other_character():
    text = ("建议第三条增加听证程序，" * 500) + "联系13800138000"
    assert mask(text) == ("建议第三条增加听证程序，" * 500) + f"联系{M}"


def test_the_bench_sentences_are_masked_alike():
    """The benchmark's sentence with personal data (bench/masking_bench.py)."""
    text = "联系人王某，手机138 0013 8000，身份证11010519491231002X，邮箱zhang.san@example.com。"
    assert mask(text) == f"联系人王某，手机{M}，身份证{M}，邮箱{M}。"


@pytest.mark.parametrize("text, names", [
    ("王小明先生反映的问题属实。", ["王小明先生"]),
    ("请李主任尽快回复。", ["李主任"]),
    ("建议采纳。\n此致\n敬礼\n赵大海\n2026年3月1日", ["赵大海"]),
    ("——欧阳修远", ["欧阳修远"]),
    ("本人认为第六条应当删除。", []),
    ("谢谢！\n此致\n敬礼", []),
    ("我叫王小明。", []),  # masked already, so not flagged
])
def test_other_likely_names_are_flagged_not_masked(text, names):
    from consult.comments.masking import likely_names

    assert likely_names(text) == names
    if names:
        assert names[0] in mask(text)


def test_every_unicode_digit_is_folded():
    """The folding table lists the decimal digits of every script Python's Unicode data knows
    (a newer Unicode adding a script fails here until the table grows)."""
    import sys
    import unicodedata

    from consult.comments.masking import find_personal_data as find

    zeros = [c for c in range(0x80, sys.maxunicode + 1) if unicodedata.decimal(chr(c), None) == 0]
    for zero in zeros:
        mobile = "".join(chr(zero + int(d)) for d in "13800138000")
        assert [item.kind for item in find(mobile)] == ["mobile"], hex(zero)
