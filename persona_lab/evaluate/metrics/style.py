"""Style distance: how far the distribution of a variant's reply style is from my real replies, feature by
feature, so a user sees *why* a variant is off (too long, too many questions, never says 卧槽).

Features per reply: length, punctuation density, emoji, question, exclamation, laughter, share of Latin
letters, several lines, any of my catchphrases, and each of my top catchphrases (mined from training by
log-odds against the others). Distances: Wasserstein-1 for the continuous ones (divided by the real
replies' mean + standard deviation, capped at 1), the difference of rates for yes/no ones, and the
Jensen-Shannon divergence (base 2) between catchphrase frequency profiles. Similarity = 1 - mean distance.
"""

from __future__ import annotations

import re

import numpy as np

EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]|\\[[\u4e00-\u9fff]{1,4}\\]")
LAUGH = re.compile(r"哈哈|呵呵|嘿嘿|hhh|lol|haha|hehe|233|笑死|😂|🤣", re.IGNORECASE)
PUNCT = re.compile(r"[，。！？、；：,.!?;:…~～]")
LATIN = re.compile(r"[A-Za-z]")
LETTER = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")
BASE_FEATURES = ["length", "punctuation", "emoji", "question", "exclamation", "laughter", "latin_share",
                 "multi_line", "catchphrase"]
CONTINUOUS = {"length", "punctuation", "latin_share"}
TOP_PHRASES = 10


def style_features(texts: list[str], catchphrases: list[str]) -> np.ndarray:
    phrases = catchphrases[:TOP_PHRASES]
    rows = []
    for text in texts:
        length = len(text)
        letters = len(LETTER.findall(text))
        used = [1.0 if p.replace(" ", "") in text.replace(" ", "") else 0.0 for p in phrases]
        rows.append([
            float(length),
            len(PUNCT.findall(text)) / max(length, 1),
            1.0 if EMOJI.search(text) else 0.0,
            1.0 if ("?" in text or "？" in text) else 0.0,
            1.0 if ("!" in text or "！" in text) else 0.0,
            1.0 if LAUGH.search(text) else 0.0,
            len(LATIN.findall(text)) / max(letters, 1),
            1.0 if "\n" in text.strip() else 0.0,
            1.0 if any(used) else 0.0,
            *used,
        ])
    return np.array(rows, dtype=float).reshape(len(texts), len(BASE_FEATURES) + len(phrases))


def _wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(a, b))


def _js(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    p, q = p + 1e-6, q + 1e-6
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2)


class StyleSimilarity:
    name, family = "style", "style"
    description = "1 - mean per-feature distance between my real replies' style and the variant's"

    def prepare(self, ctx) -> None:
        self.phrases = ctx.profile.catchphrases[:TOP_PHRASES]
        self.names = BASE_FEATURES + [f"says {p}" for p in self.phrases]

    def rows(self, replies: list[str], refs: list[str]) -> np.ndarray:
        return style_features(replies, self.phrases)

    def distances(self, rows: np.ndarray, real: np.ndarray) -> dict[str, float]:
        out = {}
        for j, name in enumerate(BASE_FEATURES):
            if name in CONTINUOUS:
                scale = real[:, j].mean() + real[:, j].std() + 1e-6
                out[name] = min(1.0, _wasserstein(rows[:, j], real[:, j]) / scale)
            else:
                out[name] = abs(float(rows[:, j].mean() - real[:, j].mean()))
        if self.phrases:
            k = len(BASE_FEATURES)
            out["catchphrase_profile"] = _js(rows[:, k:].sum(axis=0), real[:, k:].sum(axis=0))
        return out

    def summarise(self, rows: np.ndarray, real_rows: np.ndarray) -> float:
        distances = self.distances(rows, real_rows)
        return 1.0 - float(np.mean(list(distances.values())))

    def breakdown(self, rows: np.ndarray, real_rows: np.ndarray) -> dict[str, float]:
        out = {f"distance.{k}": v for k, v in self.distances(rows, real_rows).items()}
        out["median_length"] = float(np.median(rows[:, 0]))
        out["median_length_real"] = float(np.median(real_rows[:, 0]))
        for j, name in enumerate(self.names[1:], start=1):
            out[f"rate.{name}"] = float(rows[:, j].mean())
            out[f"rate_real.{name}"] = float(real_rows[:, j].mean())
        return out
