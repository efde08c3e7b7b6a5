"""An OpenAI-compatible HTTP API over any backend (the embedded engine above all), with FastAPI.

  GET  /v1/models             every variant of the registry
  POST /v1/chat/completions   streaming (SSE) and not; the official ``openai`` client works as is
  GET  /health                readiness

Concurrent requests are decoded together: every request goes straight to the engine's ``submit``. The local
engine takes it into its running batch at the next decode step (continuous batching: it does not wait for
the batch to end); an OpenAI-compatible backend sends it on at once, and its server batches. Each client
address gets ``rate_limit_per_min`` requests a minute (HTTP 429 beyond); asking for more than
``max_tokens_cap`` tokens, an empty message list or a negative max_tokens is HTTP 400 with the reason; an
unknown model is HTTP 404 listing the known ones. Every reply passes the reply guard.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator

from fastapi import Request  # module level: FastAPI resolves endpoint annotations from module globals
from pydantic import BaseModel, ConfigDict

from persona_lab.serve.backend import (
    Backend,
    BadRequestError,
    ChatRequest,
    GenerationParams,
    ServeError,
    Stream,
)
from persona_lab.serve.guard import ReplyGuard


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


def create_app(engine: Backend, guard: ReplyGuard | None = None, *, max_tokens_cap: int = 512,
               rate_limit_per_min: int = 120):
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title="persona-lab", version="0.1.0")
    limiter = RateLimiter(rate_limit_per_min)

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
            chat = ChatRequest(body.model, [{"role": m.role, "content": m.content} for m in body.messages],
                               GenerationParams(max_tokens, body.temperature, body.top_p, body.seed))
            # submitted now, to join the running batch at the next step; submit refuses an unknown model or an
            # over-long context here, in this thread, before anything is queued
            stream = Stream(engine, [chat])
        except ServeError as exc:
            kind = "not_found_error" if exc.status == 404 else "invalid_request_error"
            return error(exc.status, str(exc), kind)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return StreamingResponse(_sse(stream, body.model, completion_id, guard), media_type="text/event-stream")
        text = "".join(piece for _, piece in stream)
        if guard is not None:
            text, _ = guard.check(text)
        result = stream.results[0]
        return {
            "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": result.finish_reason}],
            "usage": {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                      "total_tokens": result.prompt_tokens + result.completion_tokens},
        }

    return app


def _sse(stream: Stream, model: str, completion_id: str, guard: ReplyGuard | None) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    pieces = (piece for _, piece in stream)
    try:
        for piece in (guard.stream(pieces) if guard is not None else pieces):
            yield chunk({"content": piece})
        yield chunk({}, stream.results[0].finish_reason)
    except Exception as exc:  # noqa: BLE001 - the client sees the failure in-band; the stream still ends cleanly
        yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'server_error'}})}\n\n"
    yield "data: [DONE]\n\n"
