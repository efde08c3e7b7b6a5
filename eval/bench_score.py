"""Scoring speed: 5 variants x 1,000 replies, no generation, with the per-metric split.

    python eval/bench_score.py [--friends ../shared/data/friends/friends_s01-s08.jsonl]

Uses the Friends transcripts (Joey Tribbiani as "me"): the profile is Joey's training split, the 1,000
references are his latest replies, and the five candidate sets are real lines of Joey (shuffled), Chandler,
Ross, Monica and generic chatbot text. Each metric is timed alone (prepare + per-reply rows + 200
bootstrap replicates), then all together as `persona-eval score` runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=Path, default=ROOT.parent / "shared" / "data" / "friends" /
                        "friends_s01-s08.jsonl")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    if not args.friends.exists():
        sys.exit(f"Friends transcripts not found at {args.friends}; pass --friends PATH")
    from persona_lab.cli import main as lab
    from persona_lab.evaluate.metrics import DEFAULT_WEIGHTS
    from persona_lab.evaluate.profile import EvalItem, load_profile
    from persona_lab.evaluate.score import score
    from tests.evaluate.validity import GENERIC_EN, lines_of

    with tempfile.TemporaryDirectory() as tmp:
        lab(["ingest", str(args.friends), "--me", "Joey Tribbiani", "--out", tmp, "--quiet"])
        train = [json.loads(line) for line in Path(tmp, "data", "chat_train.jsonl").read_text().splitlines()]
        held = train[-args.n:]
        Path(tmp, "profile.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train[:-args.n]))
        profile = load_profile(Path(tmp, "profile.jsonl"))
    items = [EvalItem(r["id"], r["messages"][:-1], r["messages"][-1]["content"]) for r in held]
    rng = random.Random(0)
    mine = [i.reply for i in items]
    sets = {"joey-shuffled": mine[1:] + mine[:1]}
    for person in ("Chandler Bing", "Ross Geller", "Monica Geller"):
        lines = lines_of(args.friends, person)
        sets[person.split()[0].lower()] = [rng.choice(lines) for _ in items]
    sets["generic"] = [rng.choice(GENERIC_EN) for _ in items]
    candidates = {name: {item.id: reply for item, reply in zip(items, replies)} for name, replies in sets.items()}
    print(f"# bench_score {date.today()} · {os.cpu_count()} cores · OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')} · {len(candidates)} variants x {len(items)} replies · "
          "200 bootstrap replicates")
    for metric in DEFAULT_WEIGHTS:
        start = time.perf_counter()
        score(profile, items, candidates, weights={metric: 1.0}, n_boot=200)
        print(f"  {metric:<14} {time.perf_counter() - start:6.1f} s")
    start = time.perf_counter()
    result = score(profile, items, candidates, n_boot=200)
    print(f"  {'all (composite)':<14} {time.perf_counter() - start:6.1f} s · ranking {result.scores['ranking']}")


if __name__ == "__main__":
    main()
