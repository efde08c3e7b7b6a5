"""Scrubber speed per message: clean text (the common case), a PII-heavy message, and huge contact lists.

    python eval/bench_scrub.py

Scrubbing runs on the ingest hot path, so a clean message must cost a few microseconds. Figures go to
results/BENCHMARKS.md with the date and thread count.
"""

from __future__ import annotations

import os
import random
import time
import timeit
from datetime import date

from persona_lab.privacy import Scrubber, Surrogates

CLEAN = ["哈哈哈今天好累啊，晚上一起吃饭吗？", "Sounds good, see you tonight at the usual place!", "好的，3点见",
         "这个 bug 有点怪", "deadline 要到了 emmm"]
HEAVY = ("张伟的手机138 0013 8000，身份证11010519491231002X，卡号6222 0212 3456 7890 128，"
         "邮箱zhang.san@example.com，住北京市朝阳区建国路88号")
CONTACTS = ["张伟", "李娜", "Jack", "Emily Chen"] + [f"群友{i}" for i in range(2000)]


def per_message_us(scrubber: Scrubber, texts: list[str], number: int) -> float:
    best = min(timeit.repeat(lambda: [scrubber.scrub(t) for t in texts], number=number, repeat=5))
    return best / (number * len(texts)) * 1e6


def main() -> None:
    print(f"# bench_scrub {date.today()} · OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} · one core")
    scrubber = Scrubber(known_names=CONTACTS)
    print(f"2,004 contact names: clean {per_message_us(scrubber, CLEAN, 2000):.2f} µs/message, "
          f"PII-heavy {per_message_us(scrubber, [HEAVY], 200):.1f} µs/message")
    # privacy.mode surrogate: a value seen before costs a keyed hash and a redraw; a new one, a few draws,
    # each checked by scrubbing it (the first figure is the corpus-wide steady state, the second a new value)
    surrogates = Surrogates(b"b" * 32, real_names=scrubber.names)
    best = min(timeit.repeat(lambda: scrubber.scrub(HEAVY, replace=surrogates), number=200, repeat=5))
    fresh = [HEAVY.replace("8000", f"{i:04d}").replace("88号", f"{i % 97}号") for i in range(200)]
    start = time.perf_counter()
    for text in fresh:
        scrubber.scrub(text, replace=Surrogates(b"b" * 32))
    first = (time.perf_counter() - start) / len(fresh) * 1e6
    print(f"surrogates: PII-heavy {best / 200 * 1e6:.1f} µs/message (values seen before), "
          f"{first:.0f} µs/message (every value new)")
    rng = random.Random(1)
    ideographs = [chr(c) for c in range(0x4E00, 0x9FA5)]
    names = ["".join(rng.choice(ideographs) for _ in range(rng.choice([2, 3, 4]))) for _ in range(20000)]
    start = time.perf_counter()
    big = Scrubber(known_names=names + [f"User{i}" for i in range(5000)])
    build = time.perf_counter() - start
    print(f"25,000 contact names: index built in {build * 1000:.0f} ms, clean {per_message_us(big, CLEAN, 500):.2f} "
          "µs/message")


if __name__ == "__main__":
    main()
