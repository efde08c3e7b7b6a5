"""The LLM-assisted converter against a fake OpenAI-compatible server on 127.0.0.1: retries on bad JSON,
validation, the author's-wording check, the cache (a re-run makes no request), and clear endpoint errors."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from persona_lab.blog import blog_to_qa
from persona_lab.blog.llm import BlogLLMError, parse_reply, wording_overlap
from persona_lab.blog.offline import split_sentences
from persona_lab.blog.readers import read_post
from persona_lab.config import Blog2QASettings, LLMEndpoint

from .conftest import BLOG, assert_author_sentences

POST = BLOG / "en-slow-reading.md"
INVENTED = "Honestly the whole thing was about discipline and productivity hacks for busy people."


class FakeLLM:
    """Answers /v1/chat/completions from a script of behaviours, then with valid pairs.

    A valid reply quotes the first sentence of the chunk (kept) and adds one invented answer (to be rejected).
    """

    def __init__(self, script: list[str] | None = None, default: str = "good") -> None:
        self.script = list(script or [])
        self.default = default
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.headers.append({"authorization": self.headers.get("Authorization")})  # any case
                behaviour = fake.script.pop(0) if fake.script else fake.default
                if behaviour == "404":
                    return self._send(404, {"error": {"message": "model 'nope' not found", "type": "invalid_request"}})
                self._send(200, fake.completion(body, behaviour))

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def completion(self, body: dict, behaviour: str) -> dict:
        prompt = body["messages"][-1]["content"]
        text = prompt.split("<text>\n", 1)[1].rsplit("\n</text>", 1)[0]
        first = text[slice(*split_sentences(text)[0])]
        content = {
            "bad": 'Sure! Here are the pairs: [{"question": "What happened?", "answer": "I used to',
            "invalid": json.dumps([{"question": "Only a question, no answer"}]),
            "good": "```json\n" + json.dumps([
                {"question": "How did it start?", "answer": first},
                {"question": "What was it really about?", "answer": INVENTED},
            ]) + "\n```",
        }[behaviour]
        return {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def llm_settings(base_url: str, **endpoint: object) -> Blog2QASettings:
    return Blog2QASettings(
        mode="llm", answer_chars=120,
        llm=LLMEndpoint(base_url=base_url, model="fake-model", timeout_s=5, **{"max_retries": 2, **endpoint}),
    )


def test_retries_bad_json_validates_and_keeps_only_the_authors_wording(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.script = ["bad", "invalid"]  # the first chunk: bad JSON, then a pair without an answer, then valid
    result = blog_to_qa([POST], llm_settings(fake_llm.base_url), cache_dir=tmp_path)
    llm = result.report["llm"]
    chunks = len(fake_llm.requests) - 2
    assert chunks >= 2 and llm["retries"] == 2 and llm["requests"] == len(fake_llm.requests)
    assert llm["rejected_pairs"] == chunks  # every invented answer
    answers = [s["messages"][1]["content"] for s in result.samples]
    assert len(answers) == chunks and INVENTED not in answers
    post = read_post(POST)
    for answer in answers:
        assert_author_sentences(answer, post.paragraphs)
    assert result.report["kept"] == 1 and result.report["read"] == 1
    assert all(s["source"] == "blog" for s in result.samples)
    # The prompt asks for JSON pairs in the author's words, in the post's language.
    prompt = fake_llm.requests[0]["messages"][-1]["content"]
    assert "JSON" in prompt and "verbatim" in prompt and "English" in prompt and "Reading slowly" in prompt


def test_a_rerun_is_served_from_the_cache(fake_llm: FakeLLM, tmp_path: Path):
    first = blog_to_qa([POST], llm_settings(fake_llm.base_url), cache_dir=tmp_path)
    asked = len(fake_llm.requests)
    assert asked >= 2
    second = blog_to_qa([POST], llm_settings(fake_llm.base_url), cache_dir=tmp_path)
    assert len(fake_llm.requests) == asked  # no new request
    assert second.samples == first.samples
    assert second.report["llm"]["requests"] == 0 and second.report["llm"]["cache_hits"] == asked
    # Another model is another cache key.
    other = llm_settings(fake_llm.base_url)
    other.llm.model = "other-model"
    blog_to_qa([POST], other, cache_dir=tmp_path)
    assert len(fake_llm.requests) == 2 * asked


def test_a_chunk_that_stays_invalid_is_skipped_and_counted_not_cached(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.default = "bad"
    result = blog_to_qa([POST], llm_settings(fake_llm.base_url, max_retries=1), cache_dir=tmp_path)
    report = result.report
    assert result.samples == []
    assert report["dropped"] == {"llm_bad_output": 1} and report["read"] == 1 and report["kept"] == 0
    assert report["llm"]["failed_chunks"] >= 1
    assert len(fake_llm.requests) == 2 * report["llm"]["failed_chunks"]  # one try and one retry per chunk
    error = report["files"][0]["error"]
    assert POST.name in error and "no valid question/answer pairs" in error
    asked = len(fake_llm.requests)
    blog_to_qa([POST], llm_settings(fake_llm.base_url, max_retries=1), cache_dir=tmp_path)
    assert len(fake_llm.requests) == 2 * asked  # bad replies were not cached


def test_text_is_scrubbed_before_it_is_sent(fake_llm: FakeLLM, tmp_path: Path):
    def scrub(text: str) -> str:
        return text.replace("January", "<MONTH>")

    result = blog_to_qa([POST], llm_settings(fake_llm.base_url), scrub=scrub, cache_dir=tmp_path)
    sent = json.dumps(fake_llm.requests, ensure_ascii=False)
    assert "January" not in sent and "<MONTH>" in sent
    assert not any("January" in m["content"] for s in result.samples for m in s["messages"])
    assert "January" not in "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.json"))


def test_unreachable_endpoint_is_a_clear_error_and_offline_still_works(tmp_path: Path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(BlogLLMError) as info:
        blog_to_qa([POST], llm_settings(base_url, max_retries=1), cache_dir=tmp_path)
    message = str(info.value)
    assert base_url in message and "cannot reach" in message and "2 tries" in message
    offline = blog_to_qa([POST], Blog2QASettings(), cache_dir=tmp_path)
    assert offline.report["pairs"] > 0


def test_refused_request_is_not_retried(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.default = "404"
    with pytest.raises(BlogLLMError, match="HTTP 404") as info:
        blog_to_qa([POST], llm_settings(fake_llm.base_url), cache_dir=tmp_path)
    assert fake_llm.base_url in str(info.value) and len(fake_llm.requests) == 1


def test_api_key_from_the_named_environment_variable(fake_llm: FakeLLM, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("BLOG_TEST_KEY", raising=False)
    settings = llm_settings(fake_llm.base_url, api_key_env="BLOG_TEST_KEY")
    with pytest.raises(BlogLLMError, match="BLOG_TEST_KEY"):
        blog_to_qa([POST], settings, cache_dir=tmp_path)
    monkeypatch.setenv("BLOG_TEST_KEY", "sk-test-123")
    blog_to_qa([POST], settings, cache_dir=tmp_path)
    assert fake_llm.headers[0]["authorization"] == "Bearer sk-test-123"
    without = blog_to_qa([POST], llm_settings(fake_llm.base_url), cache_dir=tmp_path / "other")
    assert without.report["pairs"] > 0 and fake_llm.headers[-1]["authorization"] == "Bearer EMPTY"


def test_llm_mode_without_an_endpoint_is_an_error(tmp_path: Path):
    with pytest.raises(BlogLLMError, match="blog2qa.llm"):
        blog_to_qa([POST], Blog2QASettings(mode="llm"), cache_dir=tmp_path)


@pytest.mark.parametrize(
    "reply",
    [
        '[{"question": "Q?", "answer": "A."}]',
        '```json\n[{"question": "Q?", "answer": "A."}]\n```',
        '{"pairs": [{"question": "Q?", "answer": "A.", "extra": 1}]}',
        'Here you go:\n[{"question": " Q? ", "answer": "A."}]\nHope it helps.',
    ],
)
def test_parse_reply_accepts_common_shapes(reply: str):
    items = parse_reply(reply)
    assert [(i.question, i.answer) for i in items] == [("Q?", "A.")]


@pytest.mark.parametrize(
    "reply",
    ["", "no json here", '[{"question": "Q?"}]', '[{"question": "", "answer": "A."}]', '{"a": [], "b": []}',
     '[{"question": "Q?", "answer": "A."}'],
)
def test_parse_reply_rejects_bad_replies(reply: str):
    with pytest.raises(ValueError):
        parse_reply(reply)


def test_wording_overlap_tells_quotes_from_rewrites():
    source = "我用一个很土的办法记录里程：每天下班在表格里写一行。I kept a reading log for six years."
    assert wording_overlap("我用一个很土的办法记录里程，每天下班在表格里写一行", source) == 1.0
    assert wording_overlap("作者通过电子表格的方式追踪自己的骑行距离", source) < 0.6
    assert wording_overlap("I kept a reading log for six years", source) == 1.0
    assert wording_overlap("For six years the author maintained a record of books", source) < 0.6
