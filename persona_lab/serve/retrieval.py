"""The ``retrieval`` variant: the reply I actually gave to the most similar past context in my training data.

It is the "copy me" baseline every trained variant must beat (copying a random training reply of Joey already
scores above every trained Joey variant), and on a CPU demo with a small English-centric base it is the only
variant that writes fluent Chinese. It retrieves from the training split only (``data/chat_train.jsonl``,
the file the registry entry names), never from the evaluation split, and never a planted canary.

Search: BM25 (Lucene's variant) over the words of the last message before each of my replies (jieba
segments for Chinese, lower-cased words otherwise, speaker tags dropped), with ``bm25s``. Measured against
``rank_bm25`` by eval/bench_retrieval.py (results/BENCHMARKS.md): the same top reply on the queries tried,
and sparse scoring that stays fast on years of chats where rank_bm25 scores every document per query.
Ties go to the most recent reply. A query with no word in common with any past context (an opener, or
only emoji) gets one of my own conversation openers, chosen by the request's seed.

``WithRetrieval`` puts it in front of any engine, so the arena, the evaluation and ``persona-lab serve``
answer for it through the same ``Backend`` interface as every other variant.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from persona_lab.serve.backend import (
    Backend,
    BadRequestError,
    ChatRequest,
    ChatResult,
    OnText,
    check_messages,
    gather,
)
from persona_lab.text import words
from persona_lab.workspace.shapes import iter_training_samples, my_reply

MARKERS = ("[new conversation]",)
K1, B = 1.5, 0.75  # the BM25 defaults of Lucene and of both packages


def query_words(text: str) -> list[str]:
    """The searchable words of a message: no speaker tags ("[NAME#1]"), placeholders or conversation markers."""
    for marker in MARKERS:
        text = text.replace(marker, " ")
    return [w for w in words(text) if not w.startswith("[")]


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The latest message that is not mine: what the reply answers."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


@dataclass(frozen=True)
class Memory:
    """One of my past replies and the message it answered."""

    context: str
    reply: str
    order: int  # position in the training file (later is more recent)


def read_memories(path: Path, exclude_ids: frozenset[str] = frozenset()) -> list[Memory]:
    """My replies in a training file with the message each answered; canaries and ``exclude_ids`` left out."""
    memories, seen = [], set()
    for number, row in iter_training_samples(path):
        reply = my_reply(row)
        if reply is None or not reply.strip() or row.get("canary") or str(row.get("id")) in exclude_ids:
            continue
        context = last_user_text(row["messages"][:-1])
        key = (context, reply)
        if key not in seen:  # samples of one conversation overlap; a repeated pair would only add weight
            seen.add(key)
            memories.append(Memory(context, reply, number))
    return memories


class RetrievalIndex:
    """BM25 over the contexts of my past replies."""

    def __init__(self, memories: list[Memory]) -> None:
        if not memories:
            raise BadRequestError("the retrieval variant has no replies of mine to retrieve from")
        import bm25s

        self.memories = memories
        self.openers = [m.reply for m in memories if not query_words(m.context)] or [m.reply for m in memories]
        corpus = [query_words(m.context) or ["\x00"] for m in memories]  # an empty document matches nothing
        self.vocabulary = {w for doc in corpus for w in doc}
        self.bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
        self.bm25.index(corpus, show_progress=False)
        self._lock = threading.Lock()  # bm25s keeps per-call state; the engine's callers are threads

    @classmethod
    def from_file(cls, path: Path, exclude_ids: frozenset[str] = frozenset()) -> RetrievalIndex:
        return cls(read_memories(path, exclude_ids))

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every memory for ``text`` (0 where no word is shared)."""
        tokens = [w for w in query_words(text) if w in self.vocabulary]
        if not tokens:
            return np.zeros(len(self.memories))
        with self._lock:
            return np.asarray(self.bm25.get_scores(tokens), dtype=np.float64)

    def reply_to(self, messages: list[dict[str, Any]], seed: int | None = None) -> str:
        scores = self.scores(last_user_text(messages))
        top = scores.max()
        if top <= 0:
            return random.Random(seed).choice(self.openers)
        # memories are in file order, so the last of the best is the most recent
        return self.memories[int(np.flatnonzero(scores == top)[-1])].reply


class WithRetrieval:
    """Any backend, with the registry's retrieval variants answered here and the rest passed through."""

    def __init__(self, inner: Backend, registry: dict[str, Any]) -> None:
        self.inner = inner
        self.indexes = {v["name"]: RetrievalIndex.from_file(Path(v["path"]))
                        for v in registry["variants"] if v["kind"] == "retrieval"}
        self.order = [v["name"] for v in registry["variants"]]

    def variants(self) -> list[str]:
        """The inner engine's variants and the retrieval ones, in the registry's order."""
        served = {*self.inner.variants(), *self.indexes}
        return [name for name in self.order if name in served] + sorted(served - set(self.order))

    def submit(self, requests: list[ChatRequest], on_text: OnText | None = None) -> Future:
        local = [i for i, r in enumerate(requests) if r.variant in self.indexes]
        if not local:
            return self.inner.submit(requests, on_text)
        for request in (requests[i] for i in local):
            check_messages(request.messages)
            request.params.check()
        passed = [i for i in range(len(requests)) if i not in set(local)]
        inner_future = self.inner.submit([requests[i] for i in passed],
                                         (lambda j, text: on_text(passed[j], text)) if on_text else None) \
            if passed else None
        answers: dict[int, ChatResult] = {}
        for i in local:
            request = requests[i]
            text = self.indexes[request.variant].reply_to(request.messages, request.params.seed)
            answers[i] = ChatResult(text, finish_reason="stop")
            if on_text:
                on_text(i, text)
        return _in_order(answers, passed, inner_future, len(requests))

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return self.submit(requests).result()

    def sequence_logprobs(self, variant: str, messages: list[dict[str, str]],
                          continuations: list[str]) -> list[float] | None:
        if variant in self.indexes:
            return None  # a lookup has no probability of a text
        return self.inner.sequence_logprobs(variant, messages, continuations)


def _in_order(answers: dict[int, ChatResult], passed: list[int], inner: Future | None, total: int) -> Future:
    """One future with the retrieved answers and the inner engine's results back in request order."""
    combined: Future = Future()
    source = inner if inner is not None else gather([])

    def done(future: Future) -> None:
        if future.exception() is not None:
            combined.set_exception(future.exception())
            return
        results = dict(answers)
        results.update(zip(passed, future.result()))
        combined.set_result([results[i] for i in range(total)])

    source.add_done_callback(done)
    return combined


def with_retrieval(backend: Backend, registry: dict[str, Any]) -> Backend:
    """``backend`` wrapped when the registry has a retrieval variant, else unchanged."""
    if not any(v["kind"] == "retrieval" for v in registry["variants"]):
        return backend
    return WithRetrieval(backend, registry)

