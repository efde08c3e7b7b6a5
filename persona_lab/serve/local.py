"""The embedded engine: transformers + peft in process, every variant on one loaded base.

Features and trade-offs:
  * the base is loaded once; every adapter and blend of the registry is attached to one PeftModel and
    switched per batch (``set_adapter``), never reloaded; ``base`` and ``prompted`` run with adapters
    disabled, so they never pick up an adapter
  * requests for any mix of variants are decoded together in left-padded batches with a KV cache: each
    row names its adapter (PEFT mixed-adapter batches, the same idea as vLLM multi-LoRA), so 16 requests
    for 7 variants cost one batch, not 7; requests are sorted by prompt length first to cut padding
  * a lean decode loop instead of ``generate``: one forward per token, the lm_head only on the last
    position (``logits_to_keep=1``), per-request seeded sampling (temperature, top-p), per-request
    max_tokens, and a callback per step, which is what streaming uses
  * context longer than the model's window is cut from the oldest turn (the system line stays)
  * fp32 on CPU (bf16 gives wrong outputs on AVX2 CPUs, see FINDINGS.md); bf16 on a CUDA GPU
  * all torch work (loading and every batch) runs on one engine thread: when two Python threads run
    torch ops, their OpenMP thread teams compete for the cores and decoding ran at half speed (measured:
    24 vs 13 tokens/s on 2 cores); it also serialises batches on the shared model
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from persona_lab.serve.backend import (
    BadRequestError,
    ChatRequest,
    ChatResult,
    GenerationParams,
    UnknownVariantError,
    check_messages,
    with_system_prompt,
)


class LocalEngine:
    def __init__(self, registry: dict[str, Any], *, max_batch: int = 16, max_context: int | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="persona-lab-engine")
        self.on_engine_thread(self._load, registry, max_batch, max_context)

    def on_engine_thread(self, fn: Callable, *args, **kwargs):
        """Run ``fn`` on the engine's torch thread and return its result."""
        return self._thread.submit(fn, *args, **kwargs).result()

    def _load(self, registry: dict[str, Any], max_batch: int, max_context: int | None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.registry = registry
        self.variants_by_name = {v["name"]: v for v in registry["variants"]}
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(registry["base_path"])
        self.tokenizer.chat_template = registry.get("chat_template") or self.tokenizer.chat_template
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(registry["base_path"], dtype=dtype).to(self.device).eval()
        self.model = self._attach_adapters(model)
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

    def chat(self, variant: str, messages: list[dict[str, str]], *, max_tokens: int = 128,
             temperature: float = 0.7, top_p: float = 0.95, seed: int | None = None,
             stream: bool = False) -> Iterator[str]:
        request = ChatRequest(variant, messages, GenerationParams(max_tokens, temperature, top_p, seed))
        if not stream:
            yield self.chat_batch([request])[0].text
            return
        yield from self.stream(request)

    def stream(self, request: ChatRequest) -> Iterator[str]:
        """Text pieces as they are decoded on the engine thread, handed over through a queue."""
        import queue

        self._check(request)
        pieces: queue.Queue = queue.Queue()
        future = self._thread.submit(self._generate, [request], lambda index, text: pieces.put(text))
        future.add_done_callback(lambda _: pieces.put(None))
        while (piece := pieces.get()) is not None:
            yield piece
        future.result()  # re-raises an engine error here

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return self.generate(requests)

    def generate(self, requests: list[ChatRequest],
                 on_text: Callable[[int, str], None] | None = None) -> list[ChatResult]:
        """Answer every request; ``on_text(request index, new text)`` is called as text is decoded."""
        for request in requests:
            self._check(request)
        return self.on_engine_thread(self._generate, requests, on_text)

    def _generate(self, requests: list[ChatRequest],
                  on_text: Callable[[int, str], None] | None) -> list[ChatResult]:
        prompts = [self.prompt_ids(r.variant, r.messages, r.params.max_tokens) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: len(prompts[i]))  # similar lengths pad less
        results: list[ChatResult | None] = [None] * len(requests)
        with self.torch.inference_mode():
            for start in range(0, len(order), self.max_batch):
                chunk = order[start:start + self.max_batch]
                callback = None if on_text is None else (lambda row, text, chunk=chunk: on_text(chunk[row], text))
                tokens, reasons = self._decode([prompts[i] for i in chunk], [requests[i].params for i in chunk],
                                               [self._adapter_of(requests[i].variant) for i in chunk], callback)
                for row, index in enumerate(chunk):
                    results[index] = ChatResult(self.tokenizer.decode(tokens[row], skip_special_tokens=True),
                                                len(prompts[index]), len(tokens[row]), reasons[row], tokens[row])
        return results  # type: ignore[return-value]

    def sequence_logprobs(self, variant: str, messages: list[dict[str, str]], continuations: list[str]) -> list[float]:
        """Log-probability of each continuation as ``variant``'s reply to ``messages`` (for canary exposure)."""
        return self.on_engine_thread(self._sequence_logprobs, variant, messages, continuations)

    def _sequence_logprobs(self, variant: str, messages: list[dict[str, str]], continuations: list[str]) -> list[float]:
        torch = self.torch
        prompt = self.prompt_ids(variant, messages, 64)
        out = []
        with torch.inference_mode(), self.activate_adapter(self._adapter_of(variant)):
            for text in continuations:
                reply = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                ids = torch.tensor([prompt + reply], device=self.device)
                logits = self.model(input_ids=ids).logits[0, len(prompt) - 1:-1].float()
                logprobs = torch.log_softmax(logits, dim=-1).gather(1, torch.tensor(reply, device=self.device)[:, None])
                out.append(float(logprobs.sum()))
        return out

    # ------------------------------------------------------------------------------------------ internals

    def _check(self, request: ChatRequest) -> None:
        if request.variant not in self.variants_by_name:
            raise UnknownVariantError(request.variant, self.variants())
        check_messages(request.messages)
        request.params.check()

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

    def _adapter_of(self, variant: str) -> str:
        """The adapter a row runs with; base and prompted run with none, so they never pick one up."""
        kind = self.variants_by_name[variant]["kind"]
        return variant if kind in ("adapter", "blend") else "__base__"

    def activate(self, variant: str):
        """A context manager running the whole model as ``variant`` (for callers outside the engine's
        batches, such as the naive baseline of the serving benchmark)."""
        return self.activate_adapter(self._adapter_of(variant))

    def activate_adapter(self, adapter: str):
        if adapter != "__base__":
            self.model.set_adapter(adapter)
            return contextlib.nullcontext()
        return self.model.disable_adapter() if hasattr(self.model, "disable_adapter") else contextlib.nullcontext()

    def _decode(self, prompts: list[list[int]], params: list[GenerationParams], adapters: list[str],
                on_text: Callable[[int, str], None] | None) -> tuple[list[list[int]], list[str]]:
        torch = self.torch
        routing: dict[str, Any] = {}
        switch = contextlib.nullcontext()
        if len(set(adapters)) > 1:  # mixed adapters: each row names its own (PEFT mixed-adapter batch)
            routing = {"adapter_names": adapters}
        elif hasattr(self.model, "peft_config"):  # one adapter for all rows: the faster plain LoRA path
            switch = self.activate_adapter(adapters[0])
        from transformers import DynamicCache

        batch, longest = len(prompts), max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((batch, longest), pad, dtype=torch.long)
        mask = torch.zeros((batch, longest), dtype=torch.long)
        for row, prompt in enumerate(prompts):  # left padding: every row's next token is at the end
            input_ids[row, longest - len(prompt):] = torch.tensor(prompt)
            mask[row, longest - len(prompt):] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        generators = [_generator(p.seed) for p in params]
        cache = DynamicCache()
        with switch:
            return self._decode_loop(input_ids, mask, positions, params, generators, routing, cache, on_text)

    def _decode_loop(self, input_ids, mask, positions, params, generators, routing, cache, on_text):
        torch = self.torch
        batch = input_ids.shape[0]
        out: list[list[int]] = [[] for _ in range(batch)]
        texts = [""] * batch
        finished = [False] * batch
        reasons = ["length"] * batch
        limit = max(p.max_tokens for p in params)
        logits = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=cache,
                            use_cache=True, logits_to_keep=1, **routing).logits[:, -1, :]
        for _ in range(limit):
            next_ids = sample_batch(logits.float(), params, generators)
            for row, token in enumerate(next_ids):
                if finished[row]:
                    continue
                if token in self.stop_ids:
                    finished[row], reasons[row] = True, "stop"
                    continue
                out[row].append(token)
                if len(out[row]) >= params[row].max_tokens:
                    finished[row] = True
                if on_text is not None:
                    text = self.tokenizer.decode(out[row], skip_special_tokens=True)
                    if len(text) > len(texts[row]) and not text.endswith("\ufffd"):  # whole characters only
                        on_text(row, text[len(texts[row]):])
                        texts[row] = text
            if all(finished):
                break
            step = torch.tensor([[t] for t in next_ids], device=self.device)
            mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=self.device)], dim=1)
            positions = positions[:, -1:] + 1
            logits = self.model(input_ids=step, attention_mask=mask, position_ids=positions, cache=cache,
                                use_cache=True, logits_to_keep=1, **routing).logits[:, -1, :]
        if on_text is not None:  # flush a trailing partial character, if any
            for row in range(batch):
                text = self.tokenizer.decode(out[row], skip_special_tokens=True)
                if len(text) > len(texts[row]):
                    on_text(row, text[len(texts[row]):])
        return out, reasons


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
