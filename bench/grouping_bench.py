"""Benchmark: finding groups of near-identical comments among 10 000 and 100 000 comments.

Run by hand, not in CI (see bench/README.md):

    python bench/grouping_bench.py                      # 10k and 100k, all-pairs on 2 000
    python bench/grouping_bench.py --sizes 1000 10000   # other sizes
    python bench/grouping_bench.py --all-pairs 1000 2000 4000

Synthetic Chinese comments: ~70 % distinct texts made of policy phrases, ~30 % copies of a few
dozen form letters, each copy with small random edits (a few characters replaced, deleted or
inserted, punctuation changed, some in traditional characters, a signature added). Each size
runs in a fresh child process, so that its peak memory (ru_maxrss) is its own; the time is the
wall time of `consult.answers.similarity.find_groups` only (text generation excluded), and the
Python peak (tracemalloc) is measured in a second, separate run. The quadratic reference
(`all_pairs_groups`, every pair through rapidfuzz) runs on small sizes to show what LSH avoids.
It checks that the groups found are right: every form letter's copies in one group, no
distinct comment in any group.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult.answers.similarity import all_pairs_groups, find_groups  # noqa: E402

PHRASES = (
    "建议", "进一步", "明确", "物业服务", "收费标准", "业主委员会", "公共收益", "停车位", "电梯",
    "维修资金", "使用程序", "老旧小区", "改造", "加装电梯", "垃圾分类", "噪音", "扰民",
    "违章建筑", "绿化", "消防通道", "充电桩", "安装", "监督", "公示", "期限", "延长", "至",
    "三十日", "增加", "听证", "环节", "简化", "审批", "流程", "保障", "知情权", "参与权",
    "老年人", "残疾人", "无障碍", "设施", "租户", "权益", "开发商", "交付", "质量", "保修",
    "责任", "街道办事处", "居民委员会", "网格化", "管理", "信息公开", "平台", "投诉", "渠道",
    "处理", "时限", "罚款", "数额", "过高", "过低", "法律责任", "条款", "表述", "不够", "清晰",
    "可操作性", "不强", "第三条", "第五条", "第十二条", "第二十条", "定义", "范围", "适用",
    "例外", "应当", "可以", "不得", "鼓励", "支持", "政府", "部门", "职责", "分工", "协调",
    "机制", "考核", "评价", "奖励", "补贴", "标准", "提高", "降低", "取消", "保留", "删除",
    "修改", "补充", "细化", "统一", "规范",
)
PUNCT = "，。；、！？"
NAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"


def distinct_text(rng: random.Random) -> str:
    words = rng.choices(PHRASES, k=rng.randint(12, 60))
    out = []
    for word in words:
        out.append(word)
        if rng.random() < 0.15:
            out.append(rng.choice(PUNCT))
    return "".join(out) + "。"


def edited_copy(rng: random.Random, letter: str) -> str:
    """A form letter as one sender submitted it: a few small edits."""
    chars = list(letter)
    for _ in range(rng.randint(0, 3)):
        pos = rng.randrange(len(chars))
        action = rng.random()
        if action < 0.4:
            chars[pos] = rng.choice(PHRASES)[0]
        elif action < 0.7:
            del chars[pos]
        else:
            chars.insert(pos, rng.choice(PUNCT + "的了"))
    text = "".join(chars)
    if rng.random() < 0.3:
        text += "\n" + rng.choice(NAMES) + rng.choice(NAMES)  # a signature
    if rng.random() < 0.1:
        text = text.replace("，", ", ").replace("。", ". ")
    if rng.random() < 0.05:
        text = text.translate(str.maketrans("业设维资议监务长时责规条", "業設維資議監務長時責規條"))
    return text


def comments(size: int, seed: int = 7, form_share: float = 0.3, letters: int = 40):
    """(key, text, letter number or None) for `size` synthetic comments."""
    rng = random.Random(seed)
    forms = [distinct_text(rng) + distinct_text(rng) for _ in range(letters)]
    out = []
    for key in range(size):
        if rng.random() < form_share:
            n = rng.randrange(letters)
            out.append((key, edited_copy(rng, forms[n]), n))
        else:
            out.append((key, distinct_text(rng), None))
    return out


def check(data, groups) -> dict:
    """How right the groups are: letters split over groups, distinct texts wrongly grouped."""
    letter_of = {key: letter for key, _text, letter in data}
    grouped_distinct = sum(1 for g in groups for key in g if letter_of[key] is None)
    groups_per_letter: dict[int, int] = {}
    for g in groups:
        for letter in {letter_of[key] for key in g if letter_of[key] is not None}:
            groups_per_letter[letter] = groups_per_letter.get(letter, 0) + 1
    return {"groups": len(groups), "grouped": sum(len(g) for g in groups),
            "letters": len(groups_per_letter),
            "letters_split": sum(1 for n in groups_per_letter.values() if n > 1),
            "distinct_in_groups": grouped_distinct}


def run_one(size: int, method: str, trace: bool) -> dict:
    data = comments(size)
    pairs = [(key, text) for key, text, _letter in data]
    finder = find_groups if method == "lsh" else all_pairs_groups
    if trace:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    groups = finder(pairs)
    seconds = time.perf_counter() - started
    result = {"size": size, "method": method, "seconds": round(seconds, 3),
              "cpu_seconds": round(time.process_time() - cpu_started, 3)}
    if trace:
        result["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    else:
        result["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        result.update(check(data, groups))
    return result


def in_child(size: int, method: str, trace: bool) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(size), method] + (["--trace"] if trace else []),
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--all-pairs", type=int, nargs="*", default=[1_000, 2_000])
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "METHOD"))
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(int(args.child[0]), args.child[1], args.trace)))
        return

    results = {}
    print(f"{'method':9} {'size':>8} {'seconds':>9} {'cpu s':>8} {'rss MB':>8} {'py peak MB':>11}"
          "  groups")
    for method, sizes in (("all-pairs", args.all_pairs), ("lsh", sorted(set(
            args.all_pairs + args.sizes)))):
        for size in sizes:
            timing = in_child(size, method, trace=False)
            memory = in_child(size, method, trace=True)
            results[method, size] = {**timing, "python_peak_mb": memory["python_peak_mb"]}
            r = results[method, size]
            print(f"{method:9} {size:>8} {r['seconds']:>9.2f} {r['cpu_seconds']:>8.2f} "
                  f"{r['maxrss_mb']:>8.1f} "
                  f"{r['python_peak_mb']:>11.1f}  {r['groups']} groups, {r['grouped']} "
                  f"comments; letters split {r['letters_split']}/{r['letters']}, distinct "
                  f"comments grouped {r['distinct_in_groups']}", flush=True)

    def growth(method, small, large):
        a, b = results[method, small], results[method, large]
        return (f"{method} {small}→{large} (×{large / small:g}): time ×"
                f"{b['seconds'] / a['seconds']:.1f}, CPU time ×"
                f"{b['cpu_seconds'] / a['cpu_seconds']:.1f}, Python peak ×"
                f"{b['python_peak_mb'] / max(a['python_peak_mb'], 0.1):.1f}")

    if len(args.sizes) >= 2:
        small, large = min(args.sizes), max(args.sizes)
        print(growth("lsh", small, large))
    if len(args.all_pairs) >= 2:
        small, large = min(args.all_pairs), max(args.all_pairs)
        print(growth("all-pairs", small, large))
        print(growth("lsh", small, large))
        pair_rate = results["all-pairs", large]["seconds"] / (large * (large - 1) / 2)
        target = max(args.sizes)
        estimate = pair_rate * target * (target - 1) / 2
        print(f"all-pairs extrapolated to {target}: ~{estimate / 3600:.1f} hours "
              f"(LSH measured: {results['lsh', target]['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
