"""The comments of the answering benchmark (bench/answering.py): 3 000 by default.

- half are one campaign: a form letter, each copy slightly edited (a signature, a character
  or two changed, punctuation), as near-identical comments are in life;
- 40 % make six points, each in many people's own words: an opening, one of several ways to
  say the point (which share its key terms, as people making a point do), a reason, a close;
- 10 % are distinct: each on its own subject.

`comments(total, seed)` returns (text, kind, point) with kind "campaign", "point" or
"distinct" and point 0–5 for the six points (None otherwise). Deterministic for a seed.
"""

from __future__ import annotations

import random

CAMPAIGN = (
    "我们是本市老旧小区的居民，坚决支持加快老旧小区改造，但征求意见稿第三条规定居民须承担"
    "改造费用的百分之三十，负担过重。请求将居民分担比例降至百分之十以下，"
    "并对低保家庭、特困人员全额免除，切实减轻居民负担。"
)
SIGNERS = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"

OPENINGS = ("", "我认为", "本人建议", "作为一名普通市民，我建议", "希望", "强烈呼吁",
            "我们小区居民一致认为", "个人看法：", "建议有关部门", "恳请")
CLOSINGS = ("", "谢谢！", "望采纳。", "请予以考虑。", "以上意见供参考。", "盼复。",
            "感谢政府的工作！")
REASONS = ("这关系到千家万户的切身利益", "目前实际情况差别很大", "很多居民反映这个问题",
           "否则政策很难落地", "其他城市已有成熟做法", "老年人尤其需要", "以免引发新的矛盾", "")

POINTS = (  # six points, each said in several ways that share its key terms
    ("加装电梯补贴", ("提高老旧小区加装电梯补贴标准", "加装电梯的财政补贴应当提高",
                "加装电梯补贴太低，应增加", "对加装电梯给予更高补贴",
                "既有住宅加装电梯补贴需要提高")),
    ("停车位", ("新建小区停车位配建比例要提高", "停车位配建标准应当提高",
             "小区停车位严重不足，配建比例偏低", "提高住宅停车位配建比例",
             "停车位配建比例至少每户一个")),
    ("物业公示", ("物业费收支情况应当每季度公示", "物业服务收费要定期向业主公示",
              "要求物业公开物业费收支明细", "物业费收支应当按季度公示",
              "物业收费和公共收益要定期公示")),
    ("充电桩", ("小区应当允许业主安装充电桩", "物业不得阻挠业主安装充电桩",
             "安装充电桩应当简化审批", "为新能源车安装充电桩提供便利", "充电桩安装应纳入小区改造")),
    ("维修资金", ("住宅专项维修资金使用程序要简化", "维修资金使用流程太复杂应当简化",
              "简化专项维修资金的申请使用程序", "紧急情况下维修资金应当可以直接使用",
              "维修资金使用审批时限要缩短")),
    ("垃圾分类", ("垃圾分类投放点设置要远离住宅楼", "垃圾分类投放点离窗户太近，应调整",
              "垃圾投放点设置要考虑居民意见", "垃圾分类投放点的选址应当征求业主意见",
              "垃圾分类收集点不应设在楼门口")),
)

# Distinct comments: each a different bag of these words, as varied as real letters.
WORDS = (
    "明确", "业主委员会", "公共收益", "违章建筑", "绿化", "消防通道", "监督", "公示", "期限",
    "听证", "环节", "审批", "知情权", "参与权", "老年人", "残疾人", "无障碍", "租户", "开发商",
    "交付", "质量", "保修", "街道办事处", "居民委员会", "网格化", "信息公开", "投诉", "时限",
    "罚款", "法律责任", "表述", "可操作性", "第三条", "第五条", "第十二条", "第二十条", "定义",
    "适用范围", "例外", "鼓励", "职责分工", "协调机制", "考核", "奖励", "删除", "细化", "规范",
    "高空抛物", "宠物", "快递柜", "人脸识别", "个人信息", "二次供水", "防汛", "楼道照明",
    "老年食堂", "卫生服务站", "幼儿园", "扬尘", "地下室", "屋顶漏水", "外墙", "窨井盖",
    "适老化", "审计", "噪音", "广告", "门禁", "外卖", "电动自行车", "水质", "节能", "试点",
)


def _edit(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, 2)):
        i = rng.randrange(len(chars))
        chars[i] = rng.choice("的了在和与及")
    out = "".join(chars)
    if rng.random() < 0.5:
        out = out.replace("，", ",")
    signer = rng.choice(SIGNERS)
    return out + rng.choice(("", "", f"——{signer}先生", f"（{signer}女士）"))


def _point(index: int, rng: random.Random) -> str:
    _, ways = POINTS[index]
    reason = rng.choice(REASONS)
    parts = [rng.choice(OPENINGS) + rng.choice(ways)]
    if reason:
        parts.append(reason)
    return "，".join(parts) + "。" + rng.choice(CLOSINGS)


def _distinct(i: int, rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(6, 10))
    glue = ("，", "和", "的", "；", "与", "、")
    text = "".join(word + rng.choice(glue) for word in words)
    return f"{text.rstrip('，；的和与、')}。"


def comments(total: int = 3000, seed: int = 13) -> list[tuple[str, str, int | None]]:
    rng = random.Random(seed)
    campaign, points = total // 2, total * 2 // 5
    distinct = total - campaign - points
    out: list[tuple[str, str, int | None]] = []
    out += [(_edit(CAMPAIGN, rng), "campaign", None) for _ in range(campaign)]
    out += [(_point(i % 6, rng), "point", i % 6) for i in range(points)]
    out += [(_distinct(i, rng), "distinct", None) for i in range(distinct)]
    rng.shuffle(out)
    return out
