"""The embedded engine: transformers + peft in process, every variant on one loaded base.

Features and trade-offs:
  * the base is loaded once; every adapter and blend of the registry is attached to one PeftModel, never
    reloaded; ``base`` and ``prompted`` rows run with no adapter, so they never pick one up
  * mixed-adapter batches without a loop over adapters: each LoRA module holds every adapter's A and B
    stacked (multilora.py) and applies them to the whole batch with two matmuls and a per-row mask, so a
    batch of 16 requests over 7 variants costs about what 16 base-model requests cost. An adapter the
    stack cannot represent exactly (DoRA, modules_to_save, ...) runs through PEFT in batches of its own,
    with the reason in ``lora_fallback``; ``lora="peft"`` serves mixed batches with PEFT's per-adapter
    routing (``adapter_names=``), the reference the stacked path is tested against
  * continuous batching: one running batch with a KV cache; between two decode steps, waiting requests
    are prefilled together and join it (their cache rows are left-padded to the batch's length), and
    finished rows leave it at once, so a request that arrives mid-batch starts at the next step and a
    long reply never holds short ones back. Every caller (``submit``, ``chat_batch``, the HTTP API, the
    arena, the evaluation) feeds the same running batch; one call's requests are admitted shortest
    prompt first, which cuts padding
  * a lean decode loop instead of ``generate``: one forward per token, the lm_head only on the last
    position (``logits_to_keep=1``), per-request seeded sampling (temperature, top-p; a row's draws do not
    depend on which rows share its batch), per-request max_tokens, and a callback per step for streaming
  * context longer than the model's window is cut from the oldest turn (the system line stays)
  * fp32 on CPU (bf16 gives wrong outputs on AVX2 CPUs, see FINDINGS.md); bf16 on a CUDA GPU
  * all torch work (loading and every step) runs on one engine thread: when two Python threads run
    torch ops, their OpenMP thread teams compete for the cores and decoding ran at half speed (measured:
    24 vs 13 tokens/s on 2 cores); it also serialises steps on the shared model
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from persona_lab.serve.backend import (
    BadRequestError,
    ChatRequest,
    ChatResult,
    GenerationParams,
    OnText,
    UnknownVariantError,
    check_messages,
    with_system_prompt,
)


@dataclass
class _Call:
    """One ``submit``: its requests' results, filled in as rows finish; ``future`` completes with all."""

    results: list[ChatResult | None]
    on_text: OnText | None
    future: Future
    remaining: int


@dataclass
class _Row:
    """A request in the running batch (or waiting to join it)."""

    call: _Call
    index: int  # the request's position in its call
    prompt: list[int]
    params: GenerationParams
    adapter: str | None  # None: the base model (base and prompted variants)
    generator: Any = None
    tokens: list[int] = field(default_factory=list)
    shown: str = ""  # text already passed to on_text
    reason: str = "length"


class LocalEngine:
    def __init__(self, registry: dict[str, Any], *, max_batch: int = 16, max_context: int | None = None,
                 lora: str = "stacked") -> None:
        """``lora``: "stacked" (one batched LoRA for every adapter, the default) or "peft" (PEFT's own
        per-adapter routing: the reference, and the fallback for adapters the stack cannot represent)."""
        from concurrent.futures import ThreadPoolExecutor

        if lora not in ("stacked", "peft"):
            raise ValueError(f"lora must be 'stacked' or 'peft', got {lora!r}")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="persona-lab-engine")
        self._lock = threading.Lock()
        self._waiting: deque[_Row] = deque()
        self._looping = False  # a scheduling loop is queued or running on the engine thread
        self._rows: list[_Row] = []
        self._joining: list[_Row] = []  # rows being prefilled: failed with the batch if a prefill raises
        self.stats = {"steps": 0, "prefills": 0, "prefill_rows": 0, "largest_batch": 0}
        self.on_engine_thread(self._load, registry, max_batch, max_context, lora)

    def on_engine_thread(self, fn: Callable, *args, **kwargs):
        """Run ``fn`` on the engine's torch thread and return its result (it waits for the running batch's
        current scheduling loop to drain)."""
        return self._thread.submit(fn, *args, **kwargs).result()

    def _load(self, registry: dict[str, Any], max_batch: int, max_context: int | None, lora: str) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.registry = registry
        # a lookup variant (retrieval) is not a model: serve/retrieval.py answers for it in front of any engine
        self.variants_by_name = {v["name"]: v for v in registry["variants"] if v["kind"] != "retrieval"}
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(registry["base_path"])
        self.tokenizer.chat_template = registry.get("chat_template") or self.tokenizer.chat_template
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(registry["base_path"], dtype=self.dtype).to(self.device).eval()
        self.model = self._attach_adapters(model)
        self.multi, self.lora_fallback = self._stack_adapters(lora)
        self.lora_path = "stacked" if self.multi is not None else "peft"  # the path of mixed batches
        self.max_batch = max_batch
        window = getattr(model.config, "max_position_embeddings", 2048) or 2048
        self.max_context = min(max_context or window, window)
        self.stop_ids = self._stop_ids()

    # ------------------------------------------------------------------------------------------ set-up

    def _attach_adapters(self, model):
        from peft import PeftModel

        peft_model = None
        for variant in self.registry["variants"]:
            if variant["kind"] not in ("adapter", "blend"):
                continue
            if peft_model is None:
                peft_model = PeftModel.from_pretrained(model, variant["path"], adapter_name=variant["name"])
            else:
                peft_model.load_adapter(variant["path"], adapter_name=variant["name"])
        return (peft_model or model).eval()

    def _stack_adapters(self, lora: str):
        """The stacked multi-LoRA (None for ``lora="peft"`` or no adapters) and the adapters it cannot
        represent, with the reason. Those run through PEFT in batches of their own adapter alone (PEFT's
        mixed batches refuse DoRA, and the stack would be wrong for them)."""
        if not hasattr(self.model, "peft_config"):
            return None, {}
        from persona_lab.serve import multilora

        names = [v["name"] for v in self.registry["variants"] if v["kind"] in ("adapter", "blend")]
        reasons = {n: r for n in names if (r := multilora.unsupported_reason(self.model, n))}
        if reasons:
            import warnings

            warnings.warn("served through PEFT, in batches of their own: "
                          + "; ".join(f"{n}: {r}" for n, r in reasons.items()), stacklevel=2)
        if lora == "peft":
            return None, reasons
        return multilora.install(self.model, [n for n in names if n not in reasons]), reasons

    def _stop_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        for token in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
            token_id = self.tokenizer.convert_tokens_to_ids(token)
            if isinstance(token_id, int) and token_id != self.tokenizer.unk_token_id:
                ids.add(token_id)
        return {i for i in ids if i is not None}

    # ------------------------------------------------------------------------------------------ public

    def variants(self) -> list[str]:
        return list(self.variants_by_name)

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return self.submit(requests).result()

    def submit(self, requests: list[ChatRequest], on_text: OnText | None = None) -> Future:
        """Queue ``requests`` to join the running batch at its next step; the future's result is their
        ChatResults in order. Requests are checked (and their prompts built) here, in the caller's thread,
        so a bad request fails its caller alone."""
        for request in requests:
            self._check(request)
        prompts = [self.prompt_ids(r.variant, r.messages, r.params.max_tokens) for r in requests]
        future: Future = Future()
        call = _Call([None] * len(requests), on_text, future, len(requests))
        if not requests:
            future.set_result([])
            return future
        rows = [_Row(call, i, prompts[i], requests[i].params, self._adapter_of(requests[i].variant))
                # similar lengths pad less; equal prompts of one variant (samples) end up side by side
                for i in sorted(range(len(requests)), key=lambda i: (len(prompts[i]), prompts[i], requests[i].variant))]
        with self._lock:
            self._waiting.extend(rows)
            start = not self._looping
            self._looping = True
        if start:
            self._thread.submit(self._loop)
        return future

    def sequence_logprobs(self, variant: str, messages: list[dict[str, str]], continuations: list[str]) -> list[float]:
        """Log-probability of each continuation as ``variant``'s reply to ``messages`` (for canary exposure)."""
        return self.on_engine_thread(self._sequence_logprobs, variant, messages, continuations)

    def _sequence_logprobs(self, variant: str, messages: list[dict[str, str]], continuations: list[str]) -> list[float]:
        torch = self.torch
        prompt = self.prompt_ids(variant, messages, 64)
        out = []
        with torch.inference_mode(), self.activate(variant):
            for text in continuations:
                reply = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                ids = torch.tensor([prompt + reply], device=self.device)
                logits = self.model(input_ids=ids).logits[0, len(prompt) - 1:-1].float()
                logprobs = torch.log_softmax(logits, dim=-1).gather(1, torch.tensor(reply, device=self.device)[:, None])
                out.append(float(logprobs.sum()))
        return out

    def prompt_ids(self, variant: str, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
        """The chat-template prompt for ``variant``, cut from the oldest turn to fit the window."""
        entry = self.variants_by_name[variant]
        messages = with_system_prompt(messages, entry["system_prompt"]) if entry["kind"] == "prompted" else \
            [dict(m) for m in messages]
        budget = self.max_context - max_tokens
        if budget <= 8:
            raise BadRequestError(f"max_tokens {max_tokens} leaves no room for context (window {self.max_context})")
        while True:
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                     return_dict=False)
            if len(ids) <= budget:
                return list(ids)
            droppable = [i for i, m in enumerate(messages[:-1]) if m["role"] != "system"]
            if not droppable:
                raise BadRequestError(f"the last message alone is {len(ids)} tokens; the window allows {budget}")
            del messages[droppable[0]]

    def activate(self, variant: str):
        """A context manager running the whole model as ``variant`` through PEFT (for callers outside the
        engine's batches: canary exposure, the naive baseline of the serving benchmark). Call it on the
        engine thread."""
        return self._peft_adapter(self._adapter_of(variant))

    # ------------------------------------------------------------------------------------------ internals

    def _check(self, request: ChatRequest) -> None:
        if request.variant not in self.variants_by_name:
            raise UnknownVariantError(request.variant, self.variants())
        check_messages(request.messages)
        request.params.check()

    def _adapter_of(self, variant: str) -> str | None:
        """The adapter a row runs with; base and prompted run with none, so they never pick one up."""
        kind = self.variants_by_name[variant]["kind"]
        return variant if kind in ("adapter", "blend") else None

    def _peft_adapter(self, adapter: str | None):
        """PEFT's own switch: ``set_adapter``, or ``disable_adapter`` for the base model."""
        if not hasattr(self.model, "peft_config"):
            return contextlib.nullcontext()
        if adapter is not None:
            self.model.set_adapter(adapter)
            return contextlib.nullcontext()
        return self.model.disable_adapter()

    # ------------------------------------------------------------------------------------------ the running batch
    # State between steps: self._rows (in batch order), self._mask [rows, T] (0 on left padding),
    # self._positions [rows, 1] (each row's last position) and self._cache (DynamicCache, T columns).

    def _loop(self) -> None:
        """The scheduler, on the engine thread: admit waiting rows, decode one step, until nothing is left."""
        torch = self.torch
        with torch.inference_mode():
            while True:
                try:
                    self._admit()
                    if self._rows:
                        self._step()
                except BaseException as exc:  # noqa: BLE001 - every caller with a row in the batch hears of it
                    self._fail_running(exc)
                if not self._rows:
                    with self._lock:
                        if not self._waiting:
                            self._looping = False
                            return

    def _admit(self) -> None:
        """Prefill the waiting rows that fit and add them to the running batch."""
        with self._lock:
            free = self.max_batch - len(self._rows)
            joining: list[_Row] = []
            # first come, first served: stop at the first row that cannot share the batch (an adapter served
            # alone), so the batch drains and that row runs next instead of starving
            while self._waiting and len(joining) < free and self._compatible(self._waiting[0], joining):
                unit = self._same_prompt_run()
                if unit > free - len(joining) and (joining or self._rows):
                    break  # the samples of one prompt join together, so they share one prefill
                joining += [self._waiting.popleft() for _ in range(min(unit, free - len(joining)))]
        if not joining:
            return
        self._joining = joining
        for group in _length_groups(joining):
            self._prefill(group)
        self._joining = []

    def _prefill(self, rows: list[_Row]) -> None:
        """One forward over the rows' prompts (each distinct (adapter, prompt) once: an evaluation's samples
        of one context share it), their first tokens, then the rows join the running batch."""
        torch = self.torch
        from transformers import DynamicCache

        slots: dict[tuple, int] = {}
        for row in rows:
            slots.setdefault((row.adapter, tuple(row.prompt)), len(slots))
            row.generator = _generator(row.params.seed)
        distinct = list(slots)
        longest = max(len(prompt) for _, prompt in distinct)
        ids = torch.full((len(distinct), longest), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(distinct), longest), dtype=torch.long)
        for i, (_, prompt) in enumerate(distinct):  # left padding: every row's next token is at the end
            ids[i, longest - len(prompt):] = torch.tensor(prompt)
            mask[i, longest - len(prompt):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        logits = self._forward(ids, mask, positions, cache, [adapter for adapter, _ in distinct])
        self.stats["prefills"] += 1
        self.stats["prefill_rows"] += len(distinct)
        slot = torch.tensor([slots[(r.adapter, tuple(r.prompt))] for r in rows], device=self.device)
        keep = self._take_tokens(rows, logits[slot])
        if not keep:
            return
        index = slot[torch.tensor(keep, device=self.device)]
        joined_mask, joined_positions = mask[index], positions[index, -1:]
        _select(cache, index)
        if self._rows:
            joined_mask, cache = _merge(self._mask, self._cache, joined_mask, cache)
            joined_positions = torch.cat([self._positions, joined_positions])
        self._rows = self._rows + [rows[i] for i in keep]
        self._mask, self._positions, self._cache = joined_mask, joined_positions, cache
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(self._rows))

    def _same_prompt_run(self) -> int:
        """How many waiting rows from the head share its adapter and prompt (submit puts them together)."""
        head, count = self._waiting[0], 0
        for row in self._waiting:
            if row.adapter != head.adapter or row.prompt != head.prompt:
                break
            count += 1
        return count

    def _compatible(self, row: _Row, joining: list[_Row]) -> bool:
        """Whether ``row`` may share a forward with the running and joining rows: an adapter PEFT serves
        alone shares only with rows of the same adapter."""
        others = {r.adapter for r in self._rows} | {r.adapter for r in joining}
        if not others:
            return True
        if row.adapter in self.lora_fallback or others & self.lora_fallback.keys():
            return others == {row.adapter}
        return True

    def _step(self) -> None:
        """One token for every running row; finished rows leave the batch."""
        torch = self.torch
        rows = self._rows
        ids = torch.tensor([[r.tokens[-1]] for r in rows], device=self.device)
        self._mask = torch.cat([self._mask, self._mask.new_ones((len(rows), 1))], dim=1)
        self._positions = self._positions + 1
        logits = self._forward(ids, self._mask, self._positions, self._cache, [r.adapter for r in rows])
        self.stats["steps"] += 1
        keep = self._take_tokens(rows, logits)
        if len(keep) < len(rows):
            index = torch.tensor(keep, device=self.device, dtype=torch.long)
            self._rows = [rows[i] for i in keep]
            self._mask, self._positions = self._mask[index], self._positions[index]
            _select(self._cache, index)
            self._trim()

    def _trim(self) -> None:
        """Drop the leading cache columns that are padding for every remaining row (they were the
        prompts of rows that left)."""
        if not self._rows:
            return
        first = int(self._mask.any(dim=0).nonzero()[0])
        if first > 0:
            self._mask = self._mask[:, first:]
            for layer in self._cache.layers:
                layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]

    def _forward(self, ids, mask, positions, cache, adapters: list[str | None]):
        """Logits of the last position, every row with its own adapter."""
        kwargs: dict[str, Any] = {}
        switch = contextlib.nullcontext()
        stacked = self.multi is not None and not (set(adapters) & self.lora_fallback.keys())
        if stacked:
            self.multi.route(adapters, self.device, self.dtype)
        elif len(set(adapters)) > 1:  # PEFT's mixed-adapter batch: each row names its adapter
            kwargs["adapter_names"] = [a or "__base__" for a in adapters]
        else:  # one adapter (or none) for every row: PEFT's plain forward
            switch = self._peft_adapter(adapters[0])
        try:
            with switch:
                return self.model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                                  use_cache=True, logits_to_keep=1, **kwargs).logits[:, -1, :]
        finally:
            if stacked:
                self.multi.use_peft()  # outside the engine's stacked forwards the model is PEFT's again

    def _take_tokens(self, rows: list[_Row], logits) -> list[int]:
        """Sample each row's next token, stream it, finish rows; the indices of the rows still running."""
        # sampled on the CPU: the rows' seeded generators are CPU generators, so a seed gives the same reply
        # on any device (a no-op copy on CPU)
        tokens = sample_batch(logits.float().cpu(), [r.params for r in rows], [r.generator for r in rows])
        keep = []
        for i, (row, token) in enumerate(zip(rows, tokens)):
            if token in self.stop_ids:
                row.reason = "stop"
                self._finish(row)
                continue
            row.tokens.append(token)
            self._emit(row, final=False)
            if len(row.tokens) >= row.params.max_tokens:
                self._finish(row)
            else:
                keep.append(i)
        return keep

    def _emit(self, row: _Row, final: bool) -> None:
        if row.call.on_text is None:
            return
        text = self.tokenizer.decode(row.tokens, skip_special_tokens=True)
        # whole characters only while decoding; a trailing partial character is flushed at the end
        if len(text) > len(row.shown) and (final or not text.endswith("\ufffd")):
            row.call.on_text(row.index, text[len(row.shown):])
            row.shown = text

    def _finish(self, row: _Row) -> None:
        self._emit(row, final=True)
        call = row.call
        call.results[row.index] = ChatResult(self.tokenizer.decode(row.tokens, skip_special_tokens=True),
                                             len(row.prompt), len(row.tokens), row.reason, row.tokens)
        call.remaining -= 1
        if call.remaining == 0 and not call.future.done():
            call.future.set_result(call.results)

    def _fail_running(self, exc: BaseException) -> None:
        """An error inside a step fails the calls with a row in the batch; the batch starts afresh."""
        for row in self._rows + self._joining:
            if not row.call.future.done():
                row.call.future.set_exception(exc)
        failed = {id(r.call) for r in self._rows + self._joining}
        with self._lock:  # the failed calls' other rows must not run on
            self._waiting = deque(r for r in self._waiting if id(r.call) not in failed)
        self._rows, self._joining = [], []


PAD_SHARE = 0.8  # a prompt shorter than 80% of its prefill group's longest starts a group of its own


def _length_groups(rows: list[_Row]) -> list[list[_Row]]:
    """Rows split into prefill groups of similar prompt length. Prefill is compute-bound, so padding is
    paid in full: on the demo's contexts (58-272 tokens, 480 for ``prompted``) one group wasted a third of
    the prefill; one extra forward costs far less than that."""
    ordered = sorted(rows, key=lambda r: len(r.prompt), reverse=True)
    groups: list[list[_Row]] = []
    for row in ordered:
        if groups and len(row.prompt) >= PAD_SHARE * len(groups[-1][0].prompt):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _select(cache, index) -> None:
    """Keep the batch rows ``index`` of every cache layer."""
    for layer in cache.layers:
        layer.keys, layer.values = layer.keys[index], layer.values[index]


def _merge(mask_a, cache_a, mask_b, cache_b):
    """Rows of batch a then rows of batch b, both left-padded to the longer cache (padding is masked, so
    its zero keys and values are never attended to)."""
    import torch

    length = max(mask_a.shape[1], mask_b.shape[1])

    def pad(t, dim):
        missing = length - t.shape[dim]
        if missing == 0:
            return t
        shape = list(t.shape)
        shape[dim] = missing
        return torch.cat([t.new_zeros(shape), t], dim=dim)

    for layer_a, layer_b in zip(cache_a.layers, cache_b.layers):
        if type(layer_a).__name__ != "DynamicLayer":
            raise NotImplementedError(f"continuous batching needs full-attention cache layers, not "
                                      f"{type(layer_a).__name__}")
        layer_a.keys = torch.cat([pad(layer_a.keys, 2), pad(layer_b.keys, 2)])
        layer_a.values = torch.cat([pad(layer_a.values, 2), pad(layer_b.values, 2)])
    return torch.cat([pad(mask_a, 1), pad(mask_b, 1)]), cache_a


def _generator(seed: int | None):
    import torch

    generator = torch.Generator()
    generator.manual_seed(seed if seed is not None else int(torch.randint(0, 2**31 - 1, (1,)).item()))
    return generator


CANDIDATES = 256  # top-p is computed over the 256 most likely tokens (exact unless they hold < top_p)


def sample_batch(logits, params: list[GenerationParams], generators) -> list[int]:
    """One next token per row: greedy for temperature 0, else temperature + top-p with the row's own
    seeded generator. One top-k over the whole batch replaces a full-vocabulary sort per row."""
    import torch

    greedy = torch.argmax(logits, dim=-1).tolist()
    if all(p.temperature == 0 for p in params):
        return greedy
    temperatures = torch.tensor([max(p.temperature, 1e-6) for p in params], dtype=logits.dtype).unsqueeze(1)
    probs = torch.softmax(logits / temperatures, dim=-1)
    top_probs, top_ids = torch.topk(probs, min(CANDIDATES, probs.shape[-1]), dim=-1)  # largest first
    out = []
    for row, p in enumerate(params):
        if p.temperature == 0:
            out.append(greedy[row])
        elif p.top_p < 1.0 and float(top_probs[row].sum()) >= p.top_p:  # the nucleus is inside the top-k
            kept = top_probs[row] * (top_probs[row].cumsum(-1) - top_probs[row] < p.top_p)
            choice = torch.multinomial(kept / kept.sum(), 1, generator=generators[row])
            out.append(int(top_ids[row][choice].item()))
        else:  # no nucleus, or a flat distribution: sample the whole vocabulary
            out.append(int(torch.multinomial(probs[row], 1, generator=generators[row]).item()))
    return out
