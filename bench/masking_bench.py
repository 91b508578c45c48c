"""Benchmark: masking personal data in long comments (F10). Run by hand, not in CI:

    python bench/masking_bench.py                 # 10 000-character comments, 200 rounds
    python bench/masking_bench.py --chars 50000 --rounds 50

It times `mask()` on three comments of the given length — plain prose, prose dense with
numbers that are not personal data (dates, amounts, article numbers), and prose with personal
data every few hundred characters — and prints the median time per comment and the throughput.
A comment is masked each time it is shown, so this should stay well under a millisecond per
thousand characters.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult.comments.masking import mask  # noqa: E402

PROSE = "建议第三条增加听证程序，并明确听证笔录的效力和公开方式。"
NUMBERS = ("自2026年11月25日起施行，补贴1000000元，依据郑政〔2026〕12号第15条，"
           "2021-2025年，邮编450000。")
PERSONAL = "联系人王某，手机138 0013 8000，身份证11010519491231002X，邮箱zhang.san@example.com。"


def comment(unit: str, chars: int, extra: str = "", every: int = 0) -> str:
    parts, size, n = [], 0, 0
    while size < chars:
        piece = extra if every and n % every == every - 1 else unit
        parts.append(piece)
        size += len(piece)
        n += 1
    return "".join(parts)[:chars]


def bench(text: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        mask(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    cases = {
        "plain prose": comment(PROSE, args.chars),
        "numbers, no personal data": comment(NUMBERS, args.chars),
        "personal data every ~300 chars": comment(PROSE, args.chars, PERSONAL, every=10),
    }
    print(f"mask() on {args.chars}-character comments, median of {args.rounds} rounds")
    for name, text in cases.items():
        seconds = bench(text, args.rounds)
        print(f"  {name:32s} {seconds * 1000:8.3f} ms  "
              f"{args.chars / seconds / 1e6:6.2f} M chars/s  ({mask(text).count('［')} marks)")


if __name__ == "__main__":
    main()
