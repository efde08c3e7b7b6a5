"""vLLM for real: the tiny model with two adapters and a cat blend served by vLLM (CPU build) gives the
same greedy tokens as the local engine, including a base request batched together with adapter
requests (the mixed-batch bug that `--max-loras` = adapters + 1 avoids).

Runs under `make test-vllm`, which builds .venv-vllm and sets PERSONA_LAB_VLLM_PYTHON (marked ``vllm``: `make test`
deselects it). Without that interpreter it skips with the reason, and under CI=true it fails.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from persona_lab.config import BlendSpec, VLLMSettings
from persona_lab.workspace.shapes import load_registry
from tests.conftest import fake_trained_adapter

VLLM_PYTHON = os.environ.get("PERSONA_LAB_VLLM_PYTHON")
pytestmark = pytest.mark.vllm

PROMPTS = [[{"role": "user", "content": "今天吃什么 hello"}],
           [{"role": "system", "content": "You are 阿澈."}, {"role": "user", "content": "周末打球吗 ok ok"}]]


@pytest.fixture(scope="module")
def lab_and_server(tmp_path_factory):
    from persona_lab.blend.stage import run_blend
    from persona_lab.config import parse_config
    from persona_lab.serve.vllm import launch
    from tests.conftest import require, write_samples
    from tests.serve.conftest import free_port

    require(VLLM_PYTHON and Path(VLLM_PYTHON).exists(),
            f"vLLM is tested by `make test-vllm`: it builds .venv-vllm and sets PERSONA_LAB_VLLM_PYTHON "
            f"(now {VLLM_PYTHON or 'unset'})")

    root = tmp_path_factory.mktemp("vllm")
    write_samples(root / "ws" / "data" / "chat_train.jsonl", 8)
    config = parse_config({"name": "v", "me": ["阿澈"], "base_model": "tiny-test", "workspace": str(root / "ws"),
                           "blends": [BlendSpec(name="chat72", weights={"chat": 7, "blog": 2}).model_dump()]},
                          root / "v.yaml")
    fake_trained_adapter(config, "chat", rank=4, seed=1)
    fake_trained_adapter(config, "blog", rank=2, seed=2)
    run_blend(config)
    registry = load_registry(config.paths)
    settings = VLLMSettings(python=VLLM_PYTHON, dtype="float32", max_model_len=512, ready_timeout_s=400)
    server = launch(registry, settings, config.paths, host="127.0.0.1", port=free_port())
    yield config, registry, server
    server.stop()


def vllm_tokens(url: str, variant: str, messages: list[dict]) -> list[int]:
    from openai import OpenAI

    client = OpenAI(base_url=url, api_key="EMPTY", max_retries=0, timeout=120)
    reply = client.chat.completions.create(model=variant, messages=messages, max_tokens=12, temperature=0,
                                           logprobs=True, extra_body={"return_tokens_as_token_ids": True,
                                                                      "skip_special_tokens": False})
    return [int(item.token.split(":")[1]) for item in reply.choices[0].logprobs.content]


def test_greedy_tokens_match_the_local_engine_in_a_mixed_batch(lab_and_server):
    from persona_lab.serve.backend import ChatRequest, GenerationParams
    from persona_lab.serve.local import LocalEngine

    _config, registry, server = lab_and_server
    engine = LocalEngine(registry)
    variants = ["base", "chat", "blog", "chat72"]
    jobs = [(v, p) for p in PROMPTS for v in variants] * 2  # sent at once: base shares batches with adapters
    with ThreadPoolExecutor(len(jobs)) as pool:
        served = list(pool.map(lambda job: vllm_tokens(server.url, *job), jobs))
    for (variant, prompt), tokens in zip(jobs, served):
        local = engine.chat_batch([ChatRequest(variant, prompt, GenerationParams(12, 0))])[0]
        assert [t for t in tokens if t not in engine.stop_ids] == local.token_ids, (variant, prompt[-1]["content"])
    assert len({tuple(t) for t in served[:4]}) > 1  # the adapters really change the output


def test_a_blend_added_at_run_time(lab_and_server):
    from persona_lab.serve.vllm import load_adapter

    _config, registry, server = lab_and_server
    blend = next(v for v in registry["variants"] if v["name"] == "chat72")
    load_adapter(server.url, "chat72-live", blend["path"])
    assert vllm_tokens(server.url, "chat72-live", PROMPTS[0]) == vllm_tokens(server.url, "chat72", PROMPTS[0])
