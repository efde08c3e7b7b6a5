"""`persona-lab serve --engine local --config CFG` as a user runs it: a subprocess on 127.0.0.1 that the
official openai client can chat with, every variant by name."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import yaml

from tests.serve.conftest import free_port


def test_serve_command_answers_the_openai_client_for_every_variant(served_lab, engine, tmp_path):
    from openai import OpenAI

    from persona_lab.serve.backend import ChatRequest, GenerationParams
    from persona_lab.serve.retrieval import with_retrieval
    from persona_lab.workspace.shapes import load_registry

    backend = with_retrieval(engine, load_registry(served_lab.paths))  # what the server runs: every variant

    config_path = tmp_path / "lab.yaml"
    config_path.write_text(yaml.safe_dump(served_lab.model_dump(mode="json", exclude={"config_dir"})), "utf-8")
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "persona_lab.cli", "serve", "--config", str(config_path),
                               "--engine", "local", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while True:  # no clock: a server that never comes up ends in pytest's timeout
            assert server.poll() is None, server.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused")
        names = [m.id for m in client.models.list()]
        assert names == ["base", "prompted", "retrieval", "chat", "blog", "chat55", "chat72", "chat91"]
        message = [{"role": "user", "content": "在吗"}]
        served = {}
        for name in names:
            reply = client.chat.completions.create(model=name, max_tokens=6, temperature=0, messages=message)
            # the same greedy reply and token count as the engine in this process (nothing private to mask)
            local = backend.chat_batch([ChatRequest(name, message, GenerationParams(6, 0))])[0]
            assert reply.model == name and reply.choices[0].message.content == local.text, name
            assert reply.usage.completion_tokens == local.completion_tokens
            assert reply.choices[0].finish_reason == ("length" if local.completion_tokens == 6 else "stop")
            served[name] = local.token_ids
        assert len(set(map(tuple, served.values()))) > 1  # the adapters answer differently from the base
        assert served["retrieval"] == []  # a lookup: my own words, no generated tokens
    finally:
        server.terminate()
        server.wait(timeout=20)
