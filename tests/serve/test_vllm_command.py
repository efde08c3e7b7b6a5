"""The vLLM launcher's command and failure handling (the real server is exercised by `make test-vllm`)."""

from __future__ import annotations

import sys

import pytest

from persona_lab.config import VLLMSettings
from persona_lab.serve.vllm import VLLMError, launch, max_lora_rank, vllm_command
from persona_lab.workspace.shapes import load_registry
from tests.serve.conftest import free_port


def test_command_serves_every_adapter_with_room_for_the_base(served_lab):
    registry = load_registry(served_lab.paths)
    command = vllm_command(registry, VLLMSettings(dtype="float32"), host="127.0.0.1", port=free_port())
    joined = " ".join(command)
    adapters = [v for v in registry["variants"] if v["kind"] in ("adapter", "blend")]
    assert command[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert f"--max-loras {len(adapters) + 1}" in joined  # the mixed-batch bug needs a spare slot
    assert max(v["rank"] for v in adapters) == 6 and f"--max-lora-rank {max_lora_rank(registry)}" in joined
    assert max_lora_rank(registry) == 8
    for v in adapters:
        assert f"{v['name']}={v['path']}" in command
    assert "--dtype float32" in joined and "--enable-lora" in joined and "--served-model-name base" in joined


def test_a_server_that_dies_is_reported_with_its_log_tail(served_lab):
    registry = load_registry(served_lab.paths)
    settings = VLLMSettings(python=sys.executable, ready_timeout_s=60)
    with pytest.raises(VLLMError, match=r"exited with code 1[\s\S]*No module named"):
        launch(registry, settings, served_lab.paths, host="127.0.0.1", port=free_port())


def test_a_server_that_never_gets_ready_times_out(served_lab, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho starting forever\nsleep 30\n")
    fake.chmod(0o755)
    registry = load_registry(served_lab.paths)
    with pytest.raises(VLLMError, match=r"not ready after 2 s[\s\S]*starting forever"):
        launch(registry, VLLMSettings(python=str(fake), ready_timeout_s=2), served_lab.paths,
               host="127.0.0.1", port=free_port())
