"""Ingest benchmark: a synthetic PyWxDump-layout export, then import + clean + pair + scrub + split.

    python eval/bench_ingest.py [--messages 1000000] [--also 100000] [--keep DIR]

Writes the export (page files of 5,000 rows, 200 chats, 10% non-text rows, a few private values) to a
temporary folder, runs the ingest stage in a child process per size (so each peak RSS is its own), and
prints messages/s and peak memory. Peak memory should not grow with the export: compare the two sizes.
The data card is written too but timed apart, since it is not on the streaming path.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]
WORDS_ME = ["可以的", "卧槽", "稳了", "哈哈哈哈", "ok ok", "行吧", "明天再说", "我看看", "deadline 要到了", "绝了",
            "晚上吃啥", "刚下班", "好的收到", "emmm", "这个 bug 有点怪"]
WORDS_OTHER = ["吃了吗", "在干嘛", "周末打球吗", "哈哈", "好", "你看这个", "明天几点", "到了没", "晚安",
               "那个需求改了", "收到", "真的假的", "笑死"]
NON_TEXT = ["图片", "语音", "动画表情", "系统通知", "(分享)卡片式链接", "拍一拍"]
PRIVATE = ["我电话 13912345678", "密码是 482915", "住在西湖区文三路 88 号"]
PAGE = 5000


def generate(folder: Path, n_messages: int, n_chats: int = 200, seed: int = 7) -> None:
    rng = random.Random(seed)
    per_chat = n_messages // n_chats
    for c in range(n_chats):
        wxid = f"wxid_bench{c:04d}"
        chat_dir = folder / wxid
        chat_dir.mkdir(parents=True)
        clock = 1_700_000_000 + c * 17
        for page_start in range(0, per_chat, PAGE):
            rows = min(PAGE, per_chat - page_start)
            with (chat_dir / f"{wxid}_{page_start}_{page_start + PAGE}.csv").open("w", encoding="utf-8", newline="") as h:
                writer = csv.writer(h)
                writer.writerow(HEADER)
                for i in range(rows):
                    clock += rng.choice((5, 20, 60, 300, 5000))
                    mine = rng.random() < 0.5
                    if rng.random() < 0.1:
                        type_name, text = rng.choice(NON_TEXT), ""
                    else:
                        type_name = "文本"
                        text = rng.choice(WORDS_ME if mine else WORDS_OTHER)
                        if rng.random() < 0.01:
                            text += "，" + rng.choice(PRIVATE)
                    moment = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock))
                    writer.writerow([page_start + i, 10**18 + i, type_name, int(mine), "我" if mine else f"友{c}",
                                     wxid, text, "", moment])


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from persona_lab.config import parse_config
from persona_lab.ingest import stage
export, workspace = Path(sys.argv[1]), Path(sys.argv[2])
config = parse_config({"name": "bench", "me": ["我"], "sources": [{"path": str(export)}],
                       "workspace": str(workspace)}, workspace / "bench.yaml")
card_seconds = []
original = stage.write_data_card  # the name run_ingest calls
def timed_card(*a, **k):
    t = time.perf_counter(); out = original(*a, **k); card_seconds.append(time.perf_counter() - t); return out
stage.write_data_card = timed_card
start = time.perf_counter()
result = stage.run_ingest(config, progress=False)
total = time.perf_counter() - start
card = card_seconds[0] if card_seconds else 0.0
print(json.dumps({"seconds": total - card, "data_card_seconds": card, "read": result.report["total"]["read"],
                  "pairs": result.report["pairs"], "masked": result.report["privacy"]["masked"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_size(n: int, keep: Path | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        base = keep or Path(tmp)
        export = base / f"export-{n}"
        if not export.exists():
            t0 = time.perf_counter()
            generate(export, n)
            print(f"generated {n:,} messages in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        out = subprocess.run([sys.executable, "-c", CHILD, str(export), str(base / f"ws-{n}")],
                             capture_output=True, text=True, check=True)
        stats = json.loads(out.stdout.strip().splitlines()[-1])
        stats["messages_per_s"] = stats["read"] / stats["seconds"]
        return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--also", type=int, default=100_000, help="a smaller size to compare peak memory with")
    parser.add_argument("--keep", type=Path, help="keep generated exports here (re-used on the next run)")
    args = parser.parse_args()
    print(f"# bench_ingest {date.today()} · {platform.processor() or platform.machine()} · "
          f"{os.cpu_count()} cores · OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} · one process")
    for n in (args.also, args.messages):
        stats = run_size(n, args.keep)
        print(f"{n:>9,} messages: {stats['seconds']:6.1f} s  {stats['messages_per_s']:>9,.0f} msg/s  "
              f"peak RSS {stats['peak_rss_mb']:.0f} MB  (data card {stats['data_card_seconds']:.1f} s; "
              f"replies {stats['pairs']['replies']:,}; masked {stats['masked']})")


if __name__ == "__main__":
    main()
