"""LLM-assisted blog → Q&A: any OpenAI-compatible endpoint writes question/answer pairs in the author's words.

Each section of a post (split at paragraphs into chunks of a few answers' length) is sent with a prompt asking
for a JSON list of ``{"question", "answer"}`` whose answers copy the author's sentences. The reply is
  - parsed leniently (a ```json fence, a ``{"pairs": [...]}`` wrapper and prose around the JSON are accepted)
    and validated with pydantic; a reply that fails is asked again, up to ``max_retries`` times;
  - cached under ``sha256(model, prompt version, prompt)``, one JSON file per chunk, so a re-run of the same
    posts with the same settings makes no request at all (and works with the endpoint down);
  - checked for wording: an answer whose character n-grams are mostly not in the chunk was rewritten by the
    model, not quoted from the author, and is dropped (counted as ``rejected_pairs``).
The chunk is scrubbed before it is sent, so private values never reach the endpoint or the cache.

Errors: an endpoint that cannot be reached (after ``max_retries``) or refuses the request raises
``BlogLLMError`` naming the base URL and the underlying error; the caller may fall back to the offline
converter. A chunk whose replies stay invalid raises ``LLMOutputError``; the caller skips and counts it.

Limits: one request at a time (posts are few; a blog of 300 posts is a few hundred requests, once); the
wording check is lexical, so a faithful translation would be rejected — ask in the post's language.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from persona_lab.blog.offline import QAPair, split_sentences, spread
from persona_lab.blog.readers import Post, detect_language
from persona_lab.config import LLMEndpoint
from persona_lab.errors import PersonaLabError

log = logging.getLogger(__name__)

PROMPT_VERSION = "blog2qa-llm-v1"  # change it when the prompt changes: cached replies are keyed by it
MIN_WORDING_OVERLAP = 0.6  # share of an answer's character n-grams that must occur in the chunk
CHUNK_ANSWERS = 5  # a chunk holds about this many answers' worth of text
MAX_PAIRS_PER_CHUNK = 6
BACKOFF_S = 0.5  # first wait before retrying an unreachable endpoint; doubles, at most 4 s

SYSTEM_PROMPT = (
    "You turn a blog author's writing into chat-style question-and-answer pairs, used to teach a model to "
    "talk like the author. You reply with JSON only."
)
USER_PROMPT = """Post title: {title}
Section: {heading}

Write {n} question-and-answer pair(s) in {language} from the text between <text> and </text>.
- The question is something a friend might ask the author in a chat.
- The answer is the author talking: copy the author's own sentences from the text, verbatim. Do not summarise,
  paraphrase, translate or add anything.
- Each answer is about {answer_chars} characters long.
Reply with a JSON array only: [{{"question": "...", "answer": "..."}}]

<text>
{text}
</text>"""
LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}


class BlogLLMError(PersonaLabError):
    """The endpoint cannot be used (unreachable, refused, no API key); the message names the base URL."""

    hint = "check blog2qa.llm in the config (base_url, model) and that the server answers"


class LLMOutputError(PersonaLabError, ValueError):
    """The endpoint kept answering with something that is not a valid list of Q&A pairs (the caller skips
    that chunk and counts it)."""

    hint = "a stronger blog2qa.llm model follows the JSON format; or use blog2qa.mode: offline"


class QAItem(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    question: str = Field(min_length=1, max_length=1000)
    answer: str = Field(min_length=1)


_ITEMS = TypeAdapter(list[QAItem])


@dataclass
class LLMStats:
    requests: int = 0
    cache_hits: int = 0
    retries: int = 0  # re-asks after an invalid reply or a failed connection
    rejected_pairs: int = 0  # answers not in the author's wording
    failed_chunks: int = 0  # chunks skipped after max_retries invalid replies
    errors: list[str] = field(default_factory=list)


@dataclass
class LLMChunk:
    heading: str | None
    text: str


# --- the converter -------------------------------------------------------------------------------------


class LLMConverter:
    """Asks ``endpoint`` for Q&A pairs, one chunk at a time, through a per-chunk file cache."""

    def __init__(self, endpoint: LLMEndpoint, cache_dir: Path, answer_chars: int, client: Any = None) -> None:
        self.endpoint = endpoint
        self.cache_dir = Path(cache_dir) / "blog2qa-llm"
        self.answer_chars = answer_chars
        self.stats = LLMStats()
        self._client = client

    def post_pairs(
        self,
        post: Post,
        language: str,
        max_pairs: int | None = None,
        scrub: Callable[[str], str] | None = None,
    ) -> list[QAPair]:
        """Pairs of one post. Raises ``BlogLLMError`` when the endpoint is unusable."""
        pairs: list[QAPair] = []
        for chunk in llm_chunks(post, self.answer_chars * CHUNK_ANSWERS):
            text = scrub(chunk.text) if scrub else chunk.text
            heading = (scrub(chunk.heading) if scrub else chunk.heading) if chunk.heading else None
            title = scrub(post.title) if scrub else post.title
            wanted = max(1, min(MAX_PAIRS_PER_CHUNK, round(len(text) / self.answer_chars)))
            try:
                items = self.ask(text, title=title, heading=heading, language=language, n=wanted)
            except LLMOutputError as exc:
                self.stats.failed_chunks += 1
                self.stats.errors.append(f"{post.path}: {exc}")
                log.warning("%s: %s; chunk skipped", post.path, exc)
                continue
            for item in items:
                if wording_overlap(item.answer, text) < MIN_WORDING_OVERLAP:
                    self.stats.rejected_pairs += 1
                    continue
                pairs.append(QAPair(item.question, item.answer, chunk.heading))
        if max_pairs is not None and len(pairs) > max_pairs:
            pairs = [pairs[i] for i in spread(len(pairs), max_pairs)]
        return pairs

    def ask(self, text: str, *, title: str, heading: str | None, language: str, n: int) -> list[QAItem]:
        """Validated pairs for one chunk, from the cache when this exact prompt was answered before."""
        prompt = USER_PROMPT.format(
            title=title, heading=heading or "(none)", n=n, language=LANGUAGE_NAMES.get(language, language),
            answer_chars=self.answer_chars, text=text,
        )
        key = cache_key(self.endpoint.model, prompt)
        cached = self._cache_get(key)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        problem = ""
        for attempt in range(self.endpoint.max_retries + 1):
            if attempt:
                self.stats.retries += 1
            reply = self._complete(prompt)
            try:
                items = parse_reply(reply)
            except ValueError as exc:
                problem = _short(str(exc))
                log.info("invalid reply from %s (try %d): %s", self.endpoint.base_url, attempt + 1, problem)
                continue
            self._cache_put(key, items)
            return items
        raise LLMOutputError(
            f"the model {self.endpoint.model!r} at {self.endpoint.base_url} gave no valid JSON list of "
            f"question/answer pairs in {self.endpoint.max_retries + 1} tries (last problem: {problem})"
        )

    # -- the endpoint ---------------------------------------------------------------------------------

    def _complete(self, prompt: str) -> str | None:
        import openai  # lazy: only LLM mode needs the client

        client = self._get_client()
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
        url = self.endpoint.base_url
        error: Exception | None = None
        for attempt in range(self.endpoint.max_retries + 1):
            if attempt:
                self.stats.retries += 1
                time.sleep(min(4.0, BACKOFF_S * 2 ** (attempt - 1)))
            self.stats.requests += 1
            try:
                response = client.chat.completions.create(
                    model=self.endpoint.model, messages=messages, temperature=0
                )
            except openai.APIConnectionError as exc:  # refused, DNS, timeout
                error = exc
                continue
            except openai.APIStatusError as exc:
                if exc.status_code == 429 or exc.status_code >= 500:
                    error = exc
                    continue
                raise BlogLLMError(
                    f"the LLM endpoint {url} refused the request for model {self.endpoint.model!r}: "
                    f"HTTP {exc.status_code} {_short(str(exc))}"
                ) from None
            if not response.choices:
                return None
            return response.choices[0].message.content
        cause = getattr(error, "__cause__", None) or error
        raise BlogLLMError(
            f"cannot reach the LLM endpoint {url} (model {self.endpoint.model!r}) after "
            f"{self.endpoint.max_retries + 1} tries: {type(error).__name__}: {_short(str(error))}"
            f"{f' ({_short(str(cause))})' if cause is not error else ''}. "
            "Start the server or fix blog2qa.llm.base_url, or use blog2qa.mode: offline."
        ) from None

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                base_url=self.endpoint.base_url, api_key=api_key(self.endpoint),
                timeout=self.endpoint.timeout_s, max_retries=0,  # retries are ours, counted and logged
            )
        return self._client

    # -- the cache ------------------------------------------------------------------------------------

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> list[QAItem] | None:
        path = self._cache_path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return _ITEMS.validate_python(data["pairs"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: unreadable cache entry (%s); asking again", path, exc)
            return None

    def _cache_put(self, key: str, items: list[QAItem]) -> None:
        path = self._cache_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"model": self.endpoint.model, "prompt_version": PROMPT_VERSION,
                 "pairs": [item.model_dump() for item in items]}
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # atomic: an interrupted run never leaves a half-written entry


def api_key(endpoint: LLMEndpoint) -> str:
    """The key from ``api_key_env``; "EMPTY" (what vLLM and llama.cpp accept) when none is configured."""
    if not endpoint.api_key_env:
        return "EMPTY"
    value = os.environ.get(endpoint.api_key_env)
    if not value:
        raise BlogLLMError(
            f"blog2qa.llm.api_key_env names {endpoint.api_key_env!r}, but that environment variable is not "
            f"set (endpoint {endpoint.base_url})"
        )
    return value


def cache_key(model: str, prompt: str) -> str:
    return hashlib.sha256(f"{model}\0{PROMPT_VERSION}\0{prompt}".encode()).hexdigest()


# --- replies -------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_reply(content: str | None) -> list[QAItem]:
    """The pairs in a model's reply; ``ValueError`` (incl. pydantic's) when there is no valid list."""
    if not content or not content.strip():
        raise ValueError("empty reply")
    text = content.strip()
    fence = _FENCE.search(text)
    if fence:
        text = fence.group(1).strip()
    elif text[0] not in "[{":
        # Prose around the JSON ("Here are the pairs: [...]"): take the outermost brackets.
        start, end = text.find("["), text.rfind("]")
        if start < 0 or end < start:
            raise ValueError(f"no JSON list in the reply: {_short(text)}")
        text = text[start:end + 1]
    data = json.loads(text)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ValueError(f"expected a JSON list of pairs, got an object with keys {sorted(data)}")
        data = lists[0]
    return _ITEMS.validate_python(data)


def wording_overlap(answer: str, source: str) -> float:
    """Share of the answer's character n-grams found in ``source`` (2-grams for Chinese, else 4-grams)."""
    n = 2 if detect_language(answer) == "zh" else 4
    a, s = _normalise(answer), _normalise(source)
    grams = [a[i:i + n] for i in range(len(a) - n + 1)] or ([a] if a else [])
    if not grams:
        return 0.0
    known = {s[i:i + n] for i in range(len(s) - n + 1)}
    return sum(g in known for g in grams) / len(grams)


def _normalise(text: str) -> str:
    # Punctuation and spacing are what models change most while quoting; they do not make it a rewrite.
    return re.sub(r"[\W_]+", "", text.lower())


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- chunks --------------------------------------------------------------------------------------------


def llm_chunks(post: Post, max_chars: int) -> list[LLMChunk]:
    """Sections split at paragraph boundaries (sentences, for a paragraph too long) into ≤ ``max_chars``."""
    max_chars = max(200, max_chars)
    chunks = []
    for section in post.sections:
        pieces: list[str] = []
        for paragraph in section.paragraphs:
            pieces.extend(_split_long(paragraph, max_chars))
        current: list[str] = []
        for piece in pieces:
            if current and len("\n".join(current + [piece])) > max_chars:
                chunks.append(LLMChunk(section.heading, "\n".join(current)))
                current = []
            current.append(piece)
        if current:
            chunks.append(LLMChunk(section.heading, "\n".join(current)))
    return chunks


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    out: list[str] = []
    start = end = None
    for s, e in split_sentences(paragraph):
        if start is not None and e - start > max_chars:
            out.append(paragraph[start:end])
            start = None
        start = s if start is None else start
        end = e
    if start is not None:
        out.append(paragraph[start:end])
    return out
