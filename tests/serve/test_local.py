"""The embedded engine on the tiny model with random adapters: batching changes nothing, base never
picks up an adapter, adapters and blends differ from it, and bad requests are refused clearly."""

from __future__ import annotations

import pytest

from persona_lab.serve.backend import (
    BadRequestError,
    ChatRequest,
    GenerationParams,
    UnknownVariantError,
    stream_results,
)

GREEDY = GenerationParams(max_tokens=10, temperature=0)
GREEDY_LONG = GenerationParams(max_tokens=40, temperature=0)
HELLO = [{"role": "user", "content": "今天吃什么 hello"}]
LONGER = [{"role": "system", "content": "You are 阿澈."}, {"role": "user", "content": "周末打球吗"},
          {"role": "assistant", "content": "可以的"}, {"role": "user", "content": "几点"}]


def test_every_registry_variant_is_served(engine):
    assert engine.variants() == ["base", "prompted", "chat", "blog", "chat55", "chat72", "chat91"]


def test_mixed_batches_equal_one_at_a_time(engine):
    single = {(v, i): engine.chat_batch([ChatRequest(v, m, GREEDY)])[0].text
              for v in engine.variants() for i, m in enumerate((HELLO, LONGER))}
    requests = [ChatRequest(v, m, GREEDY) for i, m in enumerate((HELLO, LONGER)) for v in engine.variants()]
    batched = engine.chat_batch(list(reversed(requests)))
    for request, result in zip(reversed(requests), batched):
        key = (request.variant, 0 if request.messages is HELLO else 1)
        assert result.text == single[key], key


def test_base_has_no_adapter_and_adapters_change_the_output(engine):
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(engine.registry["base_path"]).eval()
    ids = engine.tokenizer.apply_chat_template(HELLO, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
    out = plain.generate(**ids, max_new_tokens=10, do_sample=False, eos_token_id=sorted(engine.stop_ids))
    expected = engine.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    outputs = {v: engine.chat_batch([ChatRequest(v, HELLO, GREEDY)])[0].text for v in engine.variants()}
    assert outputs["base"] == expected
    assert outputs["chat"] != outputs["base"] and outputs["chat91"] != outputs["base"]


def test_prompted_puts_the_persona_prompt_first(engine):
    ids = engine.prompt_ids("prompted", HELLO, 10)
    text = engine.tokenizer.decode(ids)
    assert text.startswith("<|im_start|>system\nYou are 阿澈") and "今天吃什么" in text
    assert engine.tokenizer.decode(engine.prompt_ids("base", HELLO, 10)).startswith("<|im_start|>user")


def test_streaming_and_seeds(engine):
    whole = engine.chat_batch([ChatRequest("chat72", HELLO, GREEDY)])[0].text
    pieces = [text for _, text in stream_results(engine, [ChatRequest("chat72", HELLO, GREEDY)])]
    assert "".join(pieces) == whole and pieces  # (random weights emit broken UTF-8, so piece count varies)
    sampled = [engine.chat_batch([ChatRequest("chat", HELLO, GenerationParams(12, 1.0, 0.9, seed))])[0].text
               for seed in (7, 7, 8)]
    assert sampled[0] == sampled[1] != sampled[2]


def test_long_context_is_cut_from_the_oldest_turn(engine):
    engine.max_context = 96
    history = [{"role": "system", "content": "You are 阿澈."}]
    for i in range(30):
        history += [{"role": "user", "content": f"问题{i} 吃了吗"}, {"role": "assistant", "content": f"回答{i} 可以的"}]
    history.append({"role": "user", "content": "最后一句"})
    ids = engine.prompt_ids("chat", history, 16)
    text = engine.tokenizer.decode(ids)
    assert len(ids) <= 96 - 16 and "You are 阿澈." in text and "最后一句" in text and "问题0 " not in text
    assert engine.chat_batch([ChatRequest("chat", history, GenerationParams(16, 0))])[0].completion_tokens <= 16


@pytest.mark.parametrize("first, late", [(HELLO, LONGER), (LONGER, HELLO)])
def test_a_late_request_joins_the_running_batch(engine, first, late):
    """Submitted after the second step of a long reply, a request joins at the next step (its cache rows
    and the running ones left-padded to one length), finishes long before the long reply does, and neither
    reply differs from the same request alone."""
    engine.stop_ids = set()  # replies run to max_tokens: this test is about scheduling, not stopping
    long_request, late_request = ChatRequest("chat", first, GREEDY_LONG), ChatRequest("blog", late, GREEDY)
    alone = [engine.chat_batch([r])[0].token_ids for r in (long_request, late_request)]
    step, steps, marks = engine._step, engine.stats["steps"], {}

    def step_then_submit():
        step()
        if engine.stats["steps"] == steps + 2:
            marks["submitted"] = engine.stats["steps"]
            marks["future"] = engine.submit([late_request])
            marks["future"].add_done_callback(lambda _: marks.setdefault("done", engine.stats["steps"]))

    engine._step = step_then_submit
    long_result = engine.chat_batch([long_request])[0]
    assert long_result.token_ids == alone[0] and marks["future"].result()[0].token_ids == alone[1]
    assert marks["done"] - marks["submitted"] <= GREEDY.max_tokens  # it did not wait for the long reply
    assert steps + GREEDY_LONG.max_tokens - 1 == engine.stats["steps"] and engine.stats["largest_batch"] == 2


def test_samples_of_one_prompt_share_one_prefill(engine):
    """An evaluation asks each (variant, context) several times with other seeds: the prompt is prefilled
    once for all of them, and every sample is what it would be alone."""
    sampled = [ChatRequest("chat", HELLO, GenerationParams(10, 1.0, 0.9, seed)) for seed in (1, 2, 3)]
    requests = sampled + [ChatRequest("blog", HELLO, GenerationParams(10, 1.0, 0.9, 1))]
    alone = [engine.chat_batch([r])[0].token_ids for r in requests]
    before = dict(engine.stats)
    together = [r.token_ids for r in engine.chat_batch(requests)]
    assert together == alone and len({tuple(t) for t in together[:3]}) > 1
    assert engine.stats["prefill_rows"] - before["prefill_rows"] == 2  # chat's prompt once, blog's once
    assert engine.stats["prefills"] - before["prefills"] == 1


def test_samples_wait_for_room_to_join_together(engine):
    """With one free slot, the two samples of a prompt wait for a second rather than being split over two
    prefills."""
    engine.max_batch = 2
    requests = [ChatRequest("chat", HELLO, GenerationParams(2, 0)),
                ChatRequest("blog", LONGER, GenerationParams(6, 1.0, 0.9, 1)),
                ChatRequest("blog", LONGER, GenerationParams(6, 1.0, 0.9, 2))]
    alone = [engine.chat_batch([r])[0].token_ids for r in requests]
    before = engine.stats["prefill_rows"]
    assert [r.token_ids for r in engine.chat_batch(requests)] == alone
    assert engine.stats["prefill_rows"] - before == 2


def test_merged_caches_give_the_logits_of_each_row_alone(engine):
    """Two rows prefilled apart and merged (the shorter cache left-padded) step to the same next-token
    logits as each row stepping alone: the padding is masked, positions stay each row's own."""
    import torch
    from transformers import DynamicCache

    from persona_lab.serve.local import _merge

    def prefill(prompt, adapter):
        ids = torch.tensor([prompt])
        mask, cache = torch.ones_like(ids), DynamicCache()
        engine._forward(ids, mask, (mask.cumsum(-1) - 1), cache, [adapter])
        return mask, cache

    def step(mask, cache, positions, adapters):
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
        return engine._forward(torch.full((mask.shape[0], 1), 42), mask, positions, cache, adapters)

    def run():
        prompts = [engine.prompt_ids("chat", HELLO, 8), engine.prompt_ids("blog", LONGER, 8)]
        with torch.inference_mode():
            alone = [step(*prefill(p, a), torch.tensor([[len(p)]]), [a]) for p, a in zip(prompts, ["chat", "blog"])]
            mask, cache = _merge(*prefill(prompts[0], "chat"), *prefill(prompts[1], "blog"))
            together = step(mask, cache, torch.tensor([[len(prompts[0])], [len(prompts[1])]]), ["chat", "blog"])
        return alone, together, mask

    alone, together, mask = engine.on_engine_thread(run)
    for row in range(2):
        assert torch.allclose(together[row], alone[row][0], atol=1e-4), row
    assert mask[0].tolist().count(0) > 0  # the first row was padded


@pytest.mark.parametrize("request_, error, message", [
    (ChatRequest("nobody", HELLO), UnknownVariantError, "known variants: base, prompted, chat"),
    (ChatRequest("chat", []), BadRequestError, "messages is empty"),
    (ChatRequest("chat", HELLO, GenerationParams(max_tokens=-1)), BadRequestError, "max_tokens must be positive"),
    (ChatRequest("chat", [{"role": "robot", "content": "x"}]), BadRequestError, "role must be"),
])
def test_bad_requests(engine, request_, error, message):
    with pytest.raises(error, match=message):
        engine.chat_batch([request_])
