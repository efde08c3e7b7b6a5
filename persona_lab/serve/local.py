"""The embedded engine: transformers + peft in process, every variant on one loaded base.

Features and trade-offs:
  * the base is loaded once; every adapter and blend of the registry is attached to one PeftModel and
    switched per batch (``set_adapter``), never reloaded; ``base`` and ``prompted`` run with adapters
    disabled, so they never pick up an adapter
  * requests are grouped by variant and decoded together in left-padded batches with a KV cache
  * a lean decode loop instead of ``generate``: one forward per token, the lm_head only on the last
    position (``logits_to_keep=1``), per-request seeded sampling (temperature, top-p), per-request
    max_tokens, and a callback per step, which is what streaming uses
  * context longer than the model's window is cut from the oldest turn (the system line stays)
  * fp32 on CPU (bf16 gives wrong outputs on AVX2 CPUs, see FINDINGS.md); bf16 on a CUDA GPU
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from persona_lab.serve.backend import (
    BadRequestError,
    ChatRequest,
    ChatResult,
    GenerationParams,
    UnknownVariantError,
    check_messages,
)


class LocalEngine:
    def __init__(self, registry: dict[str, Any], *, max_batch: int = 16, max_context: int | None = None) -> None:
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
        self.lock = threading.Lock()  # one batch at a time: adapters are switched on the shared model

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
        """Text pieces as they are decoded (generation runs in a thread; pieces arrive through a queue)."""
        import queue

        pieces: queue.Queue = queue.Queue()
        done = object()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                self.generate([request], on_text=lambda index, text: pieces.put(text))
            except BaseException as exc:  # surfaced to the reader below
                errors.append(exc)
            finally:
                pieces.put(done)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        while (piece := pieces.get()) is not done:
            yield piece
        thread.join()
        if errors:
            raise errors[0]

    def chat_batch(self, requests: list[ChatRequest]) -> list[ChatResult]:
        return self.generate(requests)

    def generate(self, requests: list[ChatRequest],
                 on_text: Callable[[int, str], None] | None = None) -> list[ChatResult]:
        """Answer every request; ``on_text(request index, new text)`` is called as text is decoded."""
        for request in requests:
            self._check(request)
        results: list[ChatResult | None] = [None] * len(requests)
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.variant, []).append(index)
        with self.lock:
            for variant, indices in groups.items():
                for start in range(0, len(indices), self.max_batch):
                    chunk = indices[start:start + self.max_batch]
                    outputs = self._run_variant(variant, [requests[i] for i in chunk],
                                                None if on_text is None else
                                                (lambda row, text, chunk=chunk: on_text(chunk[row], text)))
                    for index, output in zip(chunk, outputs):
                        results[index] = output
        return results  # type: ignore[return-value]

    # ------------------------------------------------------------------------------------------ internals

    def _check(self, request: ChatRequest) -> None:
        if request.variant not in self.variants_by_name:
            raise UnknownVariantError(request.variant, self.variants())
        check_messages(request.messages)
        request.params.check()

    def prompt_ids(self, variant: str, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
        """The chat-template prompt for ``variant``, cut from the oldest turn to fit the window."""
        entry = self.variants_by_name[variant]
        messages = [dict(m) for m in messages]
        if entry["kind"] == "prompted":
            persona = entry["system_prompt"]
            if messages[0]["role"] == "system":
                messages[0]["content"] = persona + "\n" + messages[0]["content"]
            else:
                messages.insert(0, {"role": "system", "content": persona})
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

    def _activate(self, variant: str):
        """A context manager that runs the model as ``variant``."""
        import contextlib

        entry = self.variants_by_name[variant]
        if entry["kind"] in ("adapter", "blend"):
            self.model.set_adapter(variant)
            return contextlib.nullcontext()
        if hasattr(self.model, "disable_adapter"):
            return self.model.disable_adapter()  # base and prompted: never an adapter
        return contextlib.nullcontext()

    def _run_variant(self, variant: str, requests: list[ChatRequest],
                     on_text: Callable[[int, str], None] | None) -> list[ChatResult]:
        prompts = [self.prompt_ids(variant, r.messages, r.params.max_tokens) for r in requests]
        with self._activate(variant), self.torch.inference_mode():
            tokens, reasons = self._decode(prompts, [r.params for r in requests], on_text)
        return [ChatResult(self.tokenizer.decode(t, skip_special_tokens=True), len(p), len(t), reason)
                for p, t, reason in zip(prompts, tokens, reasons)]

    def _decode(self, prompts: list[list[int]], params: list[GenerationParams],
                on_text: Callable[[int, str], None] | None) -> tuple[list[list[int]], list[str]]:
        torch = self.torch
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
        out: list[list[int]] = [[] for _ in prompts]
        texts = [""] * batch
        finished = [False] * batch
        reasons = ["length"] * batch
        limit = max(p.max_tokens for p in params)
        cache = DynamicCache()
        logits = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=cache,
                            use_cache=True, logits_to_keep=1).logits[:, -1, :]
        for _ in range(limit):
            next_ids = [_sample(logits[row].float(), params[row], generators[row]) for row in range(batch)]
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
                                use_cache=True, logits_to_keep=1).logits[:, -1, :]
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


def _sample(logits, params: GenerationParams, generator) -> int:
    import torch

    if params.temperature == 0:
        return int(torch.argmax(logits).item())
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = sorted_probs.cumsum(-1) - sorted_probs < params.top_p  # always keeps the top token
        sorted_probs = sorted_probs * keep
        choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
        return int(order[choice].item())
    return int(torch.multinomial(probs, 1, generator=generator).item())
