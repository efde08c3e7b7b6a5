"""Scoring speed: 5 candidate sets x 1,000 contexts plus the 7 controls, no generation, stage by stage.

    python eval/bench_score.py [--friends ../shared/data/friends/friends_s01-s08.jsonl] [--n 1000]

Uses the Friends transcripts (Joey Tribbiani as "me"): the profile is Joey's training split minus his
latest ``n`` replies, which are the references. The five candidate sets stand in for variants (real lines
of Joey moved to other contexts, of Chandler, Ross and Monica, and generic text). Timed: reading the
profile, fitting the metrics (the authorship classifier, base rates), fitting the composite's weights on
the dev slice, and scoring (rows for 12 reply sets, 200 paired bootstrap replicates, jackknife, facets,
recommendation). The embedding model's first load is timed apart. Target: scoring under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
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
    from persona_lab.evaluate.controls import generic_replies
    from persona_lab.evaluate.metrics.context import Encoder
    from persona_lab.evaluate.profile import load_profile
    from persona_lab.evaluate.score import score
    from persona_lab.workspace.shapes import EvalItem

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lab(["ingest", str(args.friends), "--me", "Joey Tribbiani", "--out", tmp, "--quiet"])
        train = [json.loads(line) for line in Path(tmp, "data", "chat_train.jsonl").read_text().splitlines()]
        held = train[-args.n:]
        Path(tmp, "profile.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train[:-args.n]))
        start = time.perf_counter()
        profile = load_profile(Path(tmp, "profile.jsonl"))
        timings["read the profile (names, catchphrases)"] = time.perf_counter() - start
    items = [EvalItem(r["id"], r["messages"][:-1], r["messages"][-1]["content"], r.get("facet", "")) for r in held]
    rng = random.Random(0)
    mine = [i.reply for i in items]
    sets = {"joey_moved": mine[len(mine) // 2:] + mine[:len(mine) // 2]}
    lines = [json.loads(line) for line in args.friends.read_text("utf-8").splitlines()]
    for person in ("Chandler Bing", "Ross Geller", "Monica Geller"):
        said = [row["text"] for row in lines if row.get("speaker") == person and row.get("text", "").strip()]
        sets[person.split()[0].lower()] = rng.sample(said, len(items))
    sets["generic_text"] = generic_replies("en", len(items), rng)
    candidates = {name: {item.id: reply for item, reply in zip(items, replies)} for name, replies in sets.items()}
    encoder = Encoder("use")
    start = time.perf_counter()
    encoder.encode(["warm up the embedding model"])
    timings["embedding model load (apart)"] = time.perf_counter() - start
    stages: dict[str, float] = {}
    last = [time.perf_counter()]

    def progress(message: str) -> None:  # score() names each stage as it starts
        now = time.perf_counter()
        stages[message] = now
        last[0] = now

    start = time.perf_counter()
    result = score(profile, items, candidates, n_boot=200, options={"encoder": encoder}, progress=progress)
    total = time.perf_counter() - start
    marks = list(stages.items()) + [("end", start + total)]
    for (name, at), (_, following) in itertools.pairwise(marks):
        timings[name] = following - at
    print(f"# bench_score {date.today()} · {os.cpu_count()} cores · OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')} · {len(candidates)} candidate sets + "
          f"{len(result.scores['controls'])} controls x {len(items)} contexts · 200 bootstrap replicates")
    for name, seconds in timings.items():
        print(f"  {seconds:7.1f} s  {name}")
    print(f"  {total:7.1f} s  scoring in all (score(), embedding model loaded)")
    print("  fidelity: " + ", ".join(f"{v} {result.scores['variants'][v]['fidelity']:+.2f}"
                                     for v in result.scores["ranking"] + result.scores["controls"]))


if __name__ == "__main__":
    main()
