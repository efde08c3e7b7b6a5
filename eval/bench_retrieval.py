"""The retrieval variant's search: bm25s (what persona_lab/serve/retrieval.py uses) against rank_bm25.

    OMP_NUM_THREADS=1 python eval/bench_retrieval.py [--lab results/joey] [--scale 10]

Memories are my replies in the lab's training split with the message each answered; queries are the last
message of every evaluation context. Both packages get the same tokens and BM25 parameters (k1 1.5, b 0.75;
bm25s in its Lucene variant, rank_bm25's BM25Okapi), so what differs is the IDF floor and speed. Reported:
index time, milliseconds per query, and how often the two pick the same top reply; then the same with the
memory list repeated ``--scale`` times (years of chats instead of one exported season).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from persona_lab.serve.retrieval import K1, B, last_user_text, query_words, read_memories
from persona_lab.workspace.shapes import read_eval_items


def best(scores) -> int:
    return max(range(len(scores)), key=lambda i: (scores[i], i))


def run(corpus: list[list[str]], queries: list[list[str]]) -> dict[str, object]:
    import bm25s
    from rank_bm25 import BM25Okapi

    vocabulary = {w for doc in corpus for w in doc}
    queries = [[w for w in q if w in vocabulary] for q in queries]
    started = time.perf_counter()
    fast = bm25s.BM25(k1=K1, b=B, method="lucene")
    fast.index(corpus, show_progress=False)
    fast_index = time.perf_counter() - started
    started = time.perf_counter()
    fast_top = [best(fast.get_scores(q)) if q else -1 for q in queries]
    fast_query = time.perf_counter() - started
    started = time.perf_counter()
    slow = BM25Okapi(corpus, k1=K1, b=B)
    slow_index = time.perf_counter() - started
    started = time.perf_counter()
    slow_top = [best(list(slow.get_scores(q))) if q else -1 for q in queries]
    slow_query = time.perf_counter() - started
    asked = [i for i, q in enumerate(queries) if q]
    same = sum(fast_top[i] == slow_top[i] for i in asked)
    return {"docs": len(corpus), "queries": len(asked), "bm25s_index_s": fast_index,
            "bm25s_ms_per_query": 1000 * fast_query / max(len(asked), 1), "rank_bm25_index_s": slow_index,
            "rank_bm25_ms_per_query": 1000 * slow_query / max(len(asked), 1), "same_top": same / max(len(asked), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lab", type=Path, default=ROOT / "results" / "joey")
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    memories = read_memories(args.lab / "data" / "chat_train.jsonl")
    corpus = [query_words(m.context) or ["\x00"] for m in memories]
    queries = [query_words(last_user_text(item.context)) for item in read_eval_items(args.lab / "data" / "chat_eval.jsonl")]
    print(f"# bench_retrieval {date.today()} lab={args.lab} OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    for scale in (1, args.scale):
        result = run(corpus * scale, queries)
        print(f"x{scale}: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
