"""Word splitting for mixed Chinese/English chat text and distinctive terms, shared by the data card and
the metrics.

Chinese has no spaces, so runs of CJK characters go through jieba (lazily imported: ~1 s to load its
dictionary); Latin words, numbers and placeholders such as [PHONE] are kept whole. jieba logs at DEBUG
and writes a cache file to the temp dir on first use: both are redirected here.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"\[[A-Z]+(?:#\d+)?\]|[{CJK}]+|[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:\.\d+)?")
_CJK_RUN = re.compile(rf"^[{CJK}]+$")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    cache = os.path.join(tempfile.gettempdir(), f"persona-lab-jieba-{os.getuid()}.cache")
    jieba.dt.cache_file = cache
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Lower-cased words: jieba segments for Chinese runs, whole tokens otherwise."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if _CJK_RUN.match(token):
            out.extend(w for w in _jieba().lcut(token, HMM=True) if w.strip())
        else:
            out.append(token.lower())
    return out


def cjk_share(text: str) -> float:
    letters = [c for c in text if not c.isspace()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if re.match(rf"[{CJK}]", c)) / len(letters)


def jieba_posseg(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech flag) pairs from jieba, e.g. ("白展堂", "nr") for a person's name."""
    import jieba.posseg

    _jieba()
    return [(pair.word, pair.flag) for pair in jieba.posseg.cut(text)]


# Distinctive words use the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
# 2008, "Fightin' Words"): my counts against the other speakers' in the same chats, z-scored.
def log_odds(mine: Counter, others: Counter, min_count: int = 3) -> list[tuple[str, float, int]]:
    """(term, z-score, my count) for terms over-used by me, best first."""
    prior = mine + others
    a0 = sum(prior.values())
    n_me, n_other = sum(mine.values()), sum(others.values())
    scored = []
    for term, my_count in mine.items():
        if my_count < min_count:
            continue
        alpha = prior[term]
        other_count = others.get(term, 0)
        delta = math.log((my_count + alpha) / (n_me + a0 - my_count - alpha)) - math.log(
            (other_count + alpha) / (n_other + a0 - other_count - alpha))
        variance = 1.0 / (my_count + alpha) + 1.0 / (other_count + alpha)
        scored.append((term, delta / math.sqrt(variance), my_count))
    scored.sort(key=lambda item: -item[1])
    return scored


def terms(text: str) -> list[str]:
    tokens = [w for w in words(text) if not w.startswith("[")]
    return tokens + [f"{a} {b}" if a.isascii() else a + b for a, b in itertools.pairwise(tokens)]


# ------------------------------------------------------------------ statistics of a lab's files


def distinctive_terms(messages_path: Path, limit: int, top: int = 25) -> list[tuple[str, float, int]]:
    mine, others = Counter(), Counter()
    n_mine = n_other = 0
    with messages_path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["is_me"] and n_mine < limit:
                mine.update(terms(row["text"]))
                n_mine += 1
            elif not row["is_me"] and n_other < limit:
                others.update(terms(row["text"]))
                n_other += 1
            if n_mine >= limit and n_other >= limit:
                break
    return log_odds(mine, others)[:top]


def reply_lengths(paths: list[Path]) -> list[int]:
    lengths = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("canary"):
                    continue
                reply = row["reply"] if "reply" in row else row["messages"][-1]["content"]
                lengths.append(len(reply))
    return lengths


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return float(sorted_values[index])
