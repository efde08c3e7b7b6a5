"""The retrieval variant: my real reply to the most similar past context of the training split only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.serve.backend import BadRequestError, ChatRequest, GenerationParams, UnknownVariantError
from persona_lab.serve.retrieval import RetrievalIndex, WithRetrieval, read_memories
from tests.conftest import REPLIES

PAST = [  # (the message I answered, my reply)
    ("周末去爬山吗", "去 几点集合"),
    ("晚饭吃火锅还是烧烤", "火锅 必须火锅"),
    ("Are you coming to the game tonight?", "wouldn't miss it"),
    ("[new conversation]", "在吗"),
    ("周末去爬山吗 带上小狗", "小狗爬不动吧"),  # more recent, and a longer match for "小狗"
]


def write_training(path: Path, pairs=PAST, canary: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"t{i}", "messages": [{"role": "system", "content": "You are 阿澈."},
                                         {"role": "user", "content": f"[NAME#1]: {context}"},
                                         {"role": "assistant", "content": reply}]}
            for i, (context, reply) in enumerate(pairs)]
    if canary:
        rows.append({"id": "canary", "canary": True, "messages": [{"role": "user", "content": "周末去爬山吗"},
                                                                   {"role": "assistant", "content": canary}]})
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_it_answers_with_my_reply_to_the_most_similar_context(tmp_path):
    index = RetrievalIndex.from_file(write_training(tmp_path / "train.jsonl"))
    assert index.reply_to(ask("今晚吃火锅吗")) == "火锅 必须火锅"
    assert index.reply_to(ask("are you coming tonight")) == "wouldn't miss it"
    assert index.reply_to(ask("小狗也去爬山吗")) == "小狗爬不动吧"


def test_equal_matches_go_to_the_most_recent_reply(tmp_path):
    index = RetrievalIndex.from_file(write_training(tmp_path / "train.jsonl", [("吃了吗", "吃了"), ("吃了吗", "还没")]))
    assert index.reply_to(ask("吃了吗")) == "还没"


def test_no_shared_word_gets_one_of_my_openers_by_seed(tmp_path):
    index = RetrievalIndex.from_file(write_training(tmp_path / "train.jsonl"))
    assert index.reply_to(ask("🙂"), seed=3) == "在吗"  # the only reply that opened a conversation


def test_canaries_are_never_retrieved(tmp_path):
    path = write_training(tmp_path / "train.jsonl", canary="我的卡号 6222 0000 1111 2222")
    assert all("6222" not in m.reply for m in read_memories(path))
    assert "6222" not in RetrievalIndex.from_file(path).reply_to(ask("周末去爬山吗"))


def test_a_file_without_my_replies_is_a_clear_error(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n", "utf-8")
    with pytest.raises(BadRequestError, match="no replies of mine"):
        RetrievalIndex.from_file(path)


class Scripted:
    """An engine that answers "<variant>:<last message>" and streams it in one piece."""

    def __init__(self):
        self.sent: list[ChatRequest] = []

    def variants(self):
        return ["base", "chat"]

    def submit(self, requests, on_text=None):
        from concurrent.futures import Future

        from persona_lab.serve.backend import ChatResult

        for r in requests:
            if r.variant not in self.variants():
                raise UnknownVariantError(r.variant, self.variants())
        self.sent += requests
        results = [ChatResult(f"{r.variant}:{r.messages[-1]['content']}") for r in requests]
        for i, result in enumerate(results):
            if on_text:
                on_text(i, result.text)
        future = Future()
        future.set_result(results)
        return future

    def chat_batch(self, requests):
        return self.submit(requests).result()

    def sequence_logprobs(self, variant, messages, continuations):
        return [-1.0] * len(continuations)


def wrapped(tmp_path) -> tuple[WithRetrieval, Scripted]:
    inner = Scripted()
    registry = {"variants": [{"name": "retrieval", "kind": "retrieval",
                              "path": str(write_training(tmp_path / "train.jsonl"))}]}
    return WithRetrieval(inner, registry), inner


def test_a_mixed_submission_comes_back_in_request_order(tmp_path):
    backend, inner = wrapped(tmp_path)
    requests = [ChatRequest("chat", ask("a")), ChatRequest("retrieval", ask("晚饭吃火锅吗")),
                ChatRequest("base", ask("b"))]
    streamed: dict[int, str] = {}
    results = backend.submit(requests, lambda i, text: streamed.__setitem__(i, streamed.get(i, "") + text)).result()
    assert [r.text for r in results] == ["chat:a", "火锅 必须火锅", "base:b"]
    assert streamed == {0: "chat:a", 1: "火锅 必须火锅", 2: "base:b"}
    assert [r.variant for r in inner.sent] == ["chat", "base"]  # the engine never sees the lookup
    assert backend.variants() == ["retrieval", "base", "chat"]  # the registry's order (it lists retrieval only)


def test_refusals_and_logprobs(tmp_path):
    backend, _ = wrapped(tmp_path)
    with pytest.raises(BadRequestError):
        backend.submit([ChatRequest("retrieval", [])])
    with pytest.raises(BadRequestError):
        backend.submit([ChatRequest("retrieval", ask("x"), GenerationParams(max_tokens=0))])
    with pytest.raises(UnknownVariantError):
        backend.submit([ChatRequest("nope", ask("x"))])
    assert backend.sequence_logprobs("retrieval", ask("x"), ["a"]) is None
    assert backend.sequence_logprobs("chat", ask("x"), ["a"]) == [-1.0]


def test_the_lab_registry_serves_it_from_the_training_split_only(served_lab):
    """Registered by the blend stage over data/chat_train.jsonl; every engine answers for it through
    make_backend, and a reply that exists only in the evaluation split is never given."""
    from persona_lab.serve.factory import make_backend
    from persona_lab.workspace.shapes import load_registry

    eval_only = "这句只在评估集里"
    served_lab.paths.chat_eval.write_text(json.dumps(
        {"id": "e1", "context": ask("第3个问题 吃了吗"), "reply": eval_only}, ensure_ascii=False) + "\n", "utf-8")
    entry = next(v for v in load_registry(served_lab.paths)["variants"] if v["kind"] == "retrieval")
    assert entry["path"] == str(served_lab.paths.chat_train) and entry["replies"] == 24
    backend = make_backend(served_lab)
    assert "retrieval" in backend.variants()
    [result] = backend.chat_batch([ChatRequest("retrieval", ask("第3个问题 吃了吗"))])
    assert result.text == REPLIES[3]  # what I said to that very question in training
    assert result.text != eval_only
