"""An OpenAI-compatible HTTP API over any backend (the embedded engine above all), with FastAPI.

  GET  /v1/models             every variant of the registry
  POST /v1/chat/completions   streaming (SSE) and not; the official ``openai`` client works as is
  GET  /health                readiness

Concurrent requests are decoded together. With the local engine a request joins the running batch at the
next decode step (continuous batching: it does not wait for the batch to end); with any other backend a
worker thread takes whatever arrived within ``batch_window_ms`` (up to ``max_batch``) as one batch.
Each client address gets ``rate_limit_per_min`` requests a minute (HTTP 429 beyond); asking for more
than ``max_tokens_cap`` tokens, an empty message list or a negative max_tokens is HTTP 400 with the
reason; an unknown model is HTTP 404 listing the known ones. Every reply passes the reply guard.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request  # module level: FastAPI resolves endpoint annotations from module globals
from pydantic import BaseModel, ConfigDict

from persona_lab.serve.backend import (
    BadRequestError,
    ChatRequest,
    GenerationParams,
    ServeError,
    UnknownVariantError,
    check_messages,
)

_DONE = object()


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str


class Completion(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields we do not use
    model: str
    messages: list[Message]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float = 0.7
    top_p: float = 1.0
    seed: int | None = None
    stream: bool = False


@dataclass
class _Job:
    request: ChatRequest
    pieces: queue.Queue = field(default_factory=queue.Queue)  # text pieces, then _DONE or an exception
    result: Any = None


class Batcher:
    """Hands requests to the engine. A continuous-batching engine (``submit``, the local engine) takes each
    request into its running batch at the next decode step; any other backend gets the requests that
    arrived within the window (up to ``max_batch``) as one ``chat_batch``."""

    def __init__(self, engine, window_ms: float, max_batch: int) -> None:
        self.engine = engine
        self.window = window_ms / 1000.0
        self.max_batch = max_batch
        self.continuous = hasattr(engine, "submit")
        self.jobs: queue.Queue[_Job] = queue.Queue()
        self.batches_run = 0
        self.largest_batch = 0
        if not self.continuous:
            threading.Thread(target=self._loop, daemon=True, name="persona-lab-batcher").start()

    def submit(self, request: ChatRequest) -> _Job:
        job = _Job(request)
        if self.continuous:
            future = self.engine.submit([request], on_text=lambda _index, text: job.pieces.put(text))
            future.add_done_callback(lambda done: self._finish(job, done))
        else:
            self.jobs.put(job)
        return job

    @staticmethod
    def _finish(job: _Job, future) -> None:
        if future.exception() is not None:
            job.pieces.put(future.exception())
        else:
            job.result = future.result()[0]
            job.pieces.put(_DONE)

    def _loop(self) -> None:
        while True:
            batch = [self.jobs.get()]
            deadline = time.monotonic() + self.window
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    batch.append(self.jobs.get(timeout=max(remaining, 0)) if remaining > 0 else self.jobs.get_nowait())
                except queue.Empty:
                    break
            self._run(batch)

    def _run(self, batch: list[_Job]) -> None:
        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            results = self.engine.chat_batch([j.request for j in batch])
            for job, result in zip(batch, results):
                job.result = result
                job.pieces.put(result.text)
                job.pieces.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - every waiting client hears about it
            for job in batch:
                job.pieces.put(exc)


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self.lock:
            window = self.seen[client]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                return False
            window.append(now)
            return True


def create_app(engine, guard=None, *, max_tokens_cap: int = 512, rate_limit_per_min: int = 120,
               batch_window_ms: float = 15, max_batch: int = 16):
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title="persona-lab", version="0.1.0")
    batcher = Batcher(engine, batch_window_ms, max_batch)
    limiter = RateLimiter(rate_limit_per_min)
    app.state.batcher = batcher

    def error(status: int, message: str, kind: str) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return error(400, f"{where}: {first['msg']}", "invalid_request_error")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "variants": len(engine.variants())}

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "persona-lab"}
                                           for name in engine.variants()]}

    @app.post("/v1/chat/completions")
    def complete(body: Completion, request: Request):
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(client):
            return error(429, f"rate limit: {rate_limit_per_min} requests a minute per client", "rate_limit_error")
        max_tokens = body.max_completion_tokens or body.max_tokens or min(256, max_tokens_cap)
        try:
            if max_tokens > max_tokens_cap:
                raise BadRequestError(f"max_tokens {max_tokens} is above this server's cap of {max_tokens_cap}")
            messages = [{"role": m.role, "content": m.content} for m in body.messages]
            check_messages(messages)
            params = GenerationParams(max_tokens, body.temperature, body.top_p, body.seed)
            params.check()
            if body.model not in engine.variants():
                raise UnknownVariantError(body.model, engine.variants())
            if hasattr(engine, "prompt_ids"):  # fail an over-long context here, not inside the batch
                engine.prompt_ids(body.model, messages, max_tokens)
        except ServeError as exc:
            kind = "not_found_error" if exc.status == 404 else "invalid_request_error"
            return error(exc.status, str(exc), kind)
        job = batcher.submit(ChatRequest(body.model, messages, params))
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return StreamingResponse(_sse(job, body.model, completion_id, guard), media_type="text/event-stream")
        text = "".join(_pieces(job))
        if guard is not None:
            text, _ = guard.check(text)
        result = job.result
        return {
            "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": result.finish_reason}],
            "usage": {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                      "total_tokens": result.prompt_tokens + result.completion_tokens},
        }

    return app


def _pieces(job: _Job) -> Iterator[str]:
    while True:
        piece = job.pieces.get()
        if piece is _DONE:
            return
        if isinstance(piece, BaseException):
            raise piece
        yield piece


def _sse(job: _Job, model: str, completion_id: str, guard) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    pieces = _pieces(job)
    try:
        for piece in (guard.stream(pieces) if guard is not None else pieces):
            yield chunk({"content": piece})
        yield chunk({}, job.result.finish_reason if job.result else "stop")
    except Exception as exc:  # noqa: BLE001 - the client sees the failure in-band; the stream still ends cleanly
        yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'server_error'}})}\n\n"
    yield "data: [DONE]\n\n"
