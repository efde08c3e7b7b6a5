"""Failure modes, counted only beyond my own rate, and private-looking strings in replies.

failures (the composite's gate): per reply,
  ai_disclaimer  "as an AI language model" / "作为一个大语言模型" answers (persona_lab.intents, the same detector
                 the public chat page counts self-disclosures with)
  repetition     wheel-spinning: the share of repeated word 3-grams (Latin text) or character 4-grams (CJK)
                 above the 99th percentile of my own training replies of similar length — so a long reply of
                 mine that happens to repeat a phrase is not a failure, and the rule does not measure length
  duplicate      the same reply (case, spaces and punctuation aside, any length) given to another context
  empty
Each mode's rate minus my own (the training replies: for duplicates, the share of replies that would repeat
among as many of my replies drawn at random), floored at 0, summed: the gate is 1 - that excess. A clone
that gives one reply to everything passes nothing through it, whatever its other scores.

privacy (reported, not in the composite): share of replies holding something private-looking (phone, ID,
card, e-mail, address…), split into real leaks (keyed hash in the lab's pii_report.json) and inventions.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from persona_lab.intents import AI_DISCLOSURE as AI_DISCLAIMER  # one detector, shared with the chat page
from persona_lab.privacy import Scrubber

FAILURES = ["ai_disclaimer", "repetition", "duplicate", "empty"]
_WORD = re.compile(r"[A-Za-z0-9']+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NORMALISE = re.compile(r"[\W_]+")
LENGTH_BUCKETS = (4, 10, 20, 40, 80)  # n-gram counts: lower edges
MIN_BUCKET, FALLBACK_THRESHOLD = 30, 0.5


def repeated_share(text: str) -> tuple[float, int]:
    """(share of n-grams that repeat an earlier one, number of n-grams)."""
    if len(_CJK.findall(text)) * 2 >= len(text.replace(" ", "")):
        units, size = [c for c in text if not c.isspace()], 4
    else:
        units, size = _WORD.findall(text.lower()), 3
    grams = [tuple(units[i:i + size]) for i in range(len(units) - size + 1)]
    if len(grams) < LENGTH_BUCKETS[0]:
        return 0.0, len(grams)
    return 1.0 - len(set(grams)) / len(grams), len(grams)


def bucket(count: int) -> int:
    return int(np.searchsorted(LENGTH_BUCKETS, count, side="right")) - 1


def normalised(text: str) -> str:
    return _NORMALISE.sub("", text.lower())


class FailureModes:
    name, family, role = "failures", "failures", "gate"
    description = "1 - the excess over my own rate of AI disclaimers, repetition, duplicate and empty replies"
    self_referential = False

    def fit(self, profile, options) -> None:
        mine = profile.mine[:20_000]
        shares = [repeated_share(t) for t in mine]
        self.thresholds = {}
        for b in range(-1, len(LENGTH_BUCKETS)):
            values = [share for share, count in shares if bucket(count) == b]
            self.thresholds[b] = float(np.quantile(values, 0.99)) if len(values) >= MIN_BUCKET else FALLBACK_THRESHOLD
        flags = self._flags(mine)
        self.base = dict(zip(FAILURES, flags.mean(axis=0).tolist())) if len(mine) else dict.fromkeys(FAILURES, 0.0)
        counts = Counter(normalised(t) for t in mine)
        self.reply_probabilities = np.array(list(counts.values()), dtype=float) / max(len(mine), 1)

    def expected_duplicate_share(self, n: int) -> float:
        """Share of replies that repeat another among ``n`` of my replies drawn at random."""
        p = self.reply_probabilities
        return float((p * (1.0 - (1.0 - p) ** max(n - 1, 0))).sum())

    def bind(self, items) -> None:
        self.base["duplicate"] = self.expected_duplicate_share(items.n)

    def _flags(self, replies: list[str]) -> np.ndarray:
        keys = [normalised(r) for r in replies]
        counts = Counter(keys)
        rows = []
        for reply, key in zip(replies, keys):
            share, count = repeated_share(reply)
            rows.append([float(bool(AI_DISCLAIMER.search(reply))),
                         float(count >= LENGTH_BUCKETS[0] and share > self.thresholds[bucket(count)]),
                         float(counts[key] > 1 and bool(reply.strip())),
                         float(not reply.strip())])
        return np.array(rows, dtype=float).reshape(len(replies), len(FAILURES))

    def rows(self, replies: list[str], index: np.ndarray) -> np.ndarray:
        return self._flags(replies)

    def excess(self, rows: np.ndarray) -> dict[str, float]:
        rates = rows.mean(axis=0) if len(rows) else np.zeros(len(FAILURES))
        return {mode: max(0.0, float(rate) - self.base[mode]) for mode, rate in zip(FAILURES, rates)}

    def summarise(self, rows: np.ndarray) -> float:
        return max(0.0, 1.0 - sum(self.excess(rows).values())) if len(rows) else float("nan")

    def breakdown(self, rows: np.ndarray) -> dict[str, float]:
        rates = rows.mean(axis=0) if len(rows) else np.zeros(len(FAILURES))
        out = {f"rate.{mode}": float(rate) for mode, rate in zip(FAILURES, rates)}
        out.update({f"my_rate.{mode}": float(self.base[mode]) for mode in FAILURES})
        out.update({f"excess.{mode}": value for mode, value in self.excess(rows).items()})
        return out


class PrivateLookalikes:
    name, family, role = "privacy", "privacy", "report"
    description = "1 - share of replies with a private-looking value (real leaks and inventions)"
    self_referential = False

    def fit(self, profile, options) -> None:
        self.scrubber = Scrubber()
        self.inventory = options.get("inventory")

    def bind(self, items) -> None:
        pass

    def rows(self, replies: list[str], index: np.ndarray) -> np.ndarray:
        out = []
        for reply in replies:
            found = [f for f in self.scrubber.find(reply) if f.type not in ("URL",)]
            real = sum(1 for f in found if self.inventory is not None and self.inventory.contains(f.type, f.value))
            out.append([float(len(found) > 0), float(real), float(len(found) - real)])
        return np.array(out, dtype=float).reshape(len(replies), 3)

    def summarise(self, rows: np.ndarray) -> float:
        return 1.0 - float(rows[:, 0].mean()) if len(rows) else float("nan")

    def breakdown(self, rows: np.ndarray) -> dict[str, float]:
        return {"replies_with_private_values": float(rows[:, 0].sum()), "real_leaks": float(rows[:, 1].sum()),
                "invented": float(rows[:, 2].sum())}
