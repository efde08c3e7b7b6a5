"""generate_missing sends every variant and sample of a context together (mixed-adapter chunks), queues all
chunks at once on a continuous-batching backend (so its running batch never drains between chunks), writes
each chunk to the caches, and generates only what is not cached."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

from persona_lab.evaluate import runner
from persona_lab.evaluate.runner import generate_missing
from persona_lab.serve.backend import ChatResult
from persona_lab.workspace import Workspace
from persona_lab.workspace.shapes import read_reply_cache


class QueueingBackend:
    """Answers at once but records, for each submitted chunk, how many chunks had been submitted before
    any answer was read."""

    def __init__(self) -> None:
        self.chunks: list[list] = []
        self.read_when: list[int] = []

    def submit(self, requests, on_text=None) -> Future:
        self.chunks.append(requests)
        future: Future = Future()
        future.set_result([ChatResult(f"{r.variant}/{r.messages[0]['content']}/{r.params.seed}") for r in requests])
        future.result = lambda timeout=None, f=future: (self.read_when.append(len(self.chunks)),
                                                        Future.result(f, timeout))[1]
        return future


def test_chunks_are_mixed_queued_at_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "BATCH", 8)
    config = SimpleNamespace(paths=Workspace(tmp_path))
    items = [SimpleNamespace(id=f"c{i}", context=[{"role": "user", "content": f"q{i}"}]) for i in range(5)]
    variants = ["base", "chat", "blog"]
    backend = QueueingBackend()
    out = generate_missing(config, backend, variants, items, max_tokens=8, temperature=0.7, top_p=0.9, seed=10, samples=2,
                           progress=False)
    assert len(backend.chunks) == 4 and sum(map(len, backend.chunks)) == 5 * 3 * 2
    assert backend.read_when == [4, 4, 4, 4]  # every chunk was queued before the first answer was read
    assert all(len({r.variant for r in chunk}) == 3 for chunk in backend.chunks)  # mixed adapters
    assert out["chat"]["c3"] == ["chat/q3/10", "chat/q3/11"]
    assert read_reply_cache(config.paths.replies("blog"))["c4"] == ["blog/q4/10", "blog/q4/11"]
    again = QueueingBackend()
    generate_missing(config, again, variants + ["chat72"], items, max_tokens=8, temperature=0.7, top_p=0.9, seed=10,
                     samples=2, progress=False)
    assert {r.variant for chunk in again.chunks for r in chunk} == {"chat72"}  # the rest came from the caches
