"""Shared test helpers. Third-party data lives in ../shared/data and is read from there, never copied.

Real components (Chromium + chromedriver, PostgreSQL, vLLM, ../shared/data) are asked for through
``require``: on a developer's machine a missing one skips the test with the reason (``pytest -rs`` prints
it); under ``CI=true`` it fails the test with the same reason, so a CI run can never pass by skipping them.
Every cache a test run writes (the tiny model, jieba's dictionary, Hugging Face, matplotlib) lives in the
run's temp folder, never in ~/.cache. Under CI hypothesis is derandomised (a fixed set of examples).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from persona_lab.config import parse_config

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("PERSONA_LAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# CI: the same examples on every run (seeded from each test's own code), no example database read or written
# (hypothesis forbids one with derandomize), so a run depends on the code alone; regressions found
# elsewhere are pinned as @example cases in the tests.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if IN_CI:
    hypothesis_settings.load_profile("ci")


def require(available: object, reason: str) -> None:
    """A real component the test cannot do without: skip with ``reason`` when it is missing, or, under
    CI=true, fail with it."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} [CI=true: a missing real component fails the run instead of skipping]",
                    pytrace=False)
    pytest.skip(reason)


def shared_file(relative: str) -> Path:
    """A file from ../shared/data; skipped (failed under CI) with the reason when it is absent."""
    path = SHARED_DATA / relative
    require(path.exists(), f"third-party data not present: {path} (set PERSONA_LAB_SHARED_DATA to its folder)")
    return path


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def chromium() -> tuple[str, str]:
    """(chromium binary, chromedriver) from Debian's chromium and chromium-driver packages."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    require(not missing, f"needs Debian's chromium and chromium-driver, not found: {', '.join(missing)} "
                         "(.ci/run installs them: apt-get install chromium chromium-driver)")
    return CHROMIUM, CHROMEDRIVER


PG_REASON = "no PostgreSQL server: set PERSONA_LAB_TEST_PG_URL (.ci/run installs and starts a throwaway one)"


@pytest.fixture
def pg_url() -> str:
    """The URL of a throwaway PostgreSQL database, emptied of the arena's tables."""
    url = os.environ.get("PERSONA_LAB_TEST_PG_URL")
    require(url, PG_REASON)
    from sqlalchemy import create_engine

    from persona_lab.workspace.votes import metadata

    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session", autouse=True)
def caches_in_the_temp_dir(tmp_path_factory):
    """Every cache of the run (and of the subprocesses it starts) under the run's temp folder."""
    root = tmp_path_factory.mktemp("cache")
    names = {"PERSONA_LAB_CACHE": root / "persona-lab", "XDG_CACHE_HOME": root, "HF_HOME": root / "huggingface",
             "MPLCONFIGDIR": root / "matplotlib"}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(path) for name, path in names.items()})
    yield root
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


REPLIES = ["可以的", "卧槽 真的假的", "ok ok", "稳了", "哈哈哈哈 绝了", "明天再说", "行吧", "收到"]


def write_samples(path: Path, n: int, source: str = "chat") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            messages = [{"role": "system", "content": "You are 阿澈, chatting with a friend."},
                        {"role": "user", "content": f"第{i}个问题 吃了吗"},
                        {"role": "assistant", "content": REPLIES[i % len(REPLIES)]}]
            handle.write(json.dumps({"id": f"s{i}", "source": source, "messages": messages}, ensure_ascii=False) + "\n")


@pytest.fixture
def tiny_lab(tmp_path: Path):
    """A lab on tiny-test with small synthetic chat and blog training files."""
    write_samples(tmp_path / "ws" / "data" / "chat_train.jsonl", 24)
    write_samples(tmp_path / "ws" / "data" / "blog_train.jsonl", 12, "blog")
    with (tmp_path / "ws" / "data" / "messages.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(30):
            text = REPLIES[i % len(REPLIES)] if i % 2 else "吃了吗 在干嘛"
            handle.write(json.dumps({"is_me": bool(i % 2), "text": text}, ensure_ascii=False) + "\n")
    raw = {"name": "tiny", "me": ["阿澈"], "base_model": "tiny-test", "workspace": str(tmp_path / "ws"),
           "train": {"chat": {"max_steps": 6, "save_steps": 2, "batch_size": 4, "lr": 0.01},
                     "blog": {"max_steps": 4, "save_steps": 2, "batch_size": 4, "lr": 0.01, "rank": 4}}}
    return parse_config(raw, tmp_path / "tiny.yaml")


def fake_trained_adapter(config, source: str, rank: int, seed: int, steps=(3, 6)) -> None:
    """A saved adapter with random A and B (non-zero deltas), laid out like a training run."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from persona_lab.basemodel import resolve_base

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(resolve_base("tiny-test").path)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj", "down_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    run = config.workspace_dir / "adapters" / source
    for step in steps:
        peft_model.save_pretrained(run / f"checkpoint-{step}")
        with torch.no_grad():  # later checkpoints differ from earlier ones
            for name, param in peft_model.named_parameters():
                if "lora_B" in name:
                    param.mul_(1.5)
    peft_model.save_pretrained(run / "final")
    manifest = {"final": str(run / "final"), "steps": steps[-1], "rank": rank, "alpha": 2 * rank,
                "checkpoints": {str(s): str(run / f"checkpoint-{s}") for s in steps},
                "inputs": {"data": "x"}, "created": "now"}
    (run / "manifest.json").write_text(json.dumps(manifest), "utf-8")


@pytest.fixture
def served_lab(tiny_lab):
    """The tiny lab with random (non-zero) chat and blog adapters, the default blends and a registry."""
    from persona_lab.blend.stage import run_blend

    fake_trained_adapter(tiny_lab, "chat", rank=4, seed=1)
    fake_trained_adapter(tiny_lab, "blog", rank=2, seed=2)
    run_blend(tiny_lab)
    return tiny_lab


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    """An empty arena store on each backend (PostgreSQL: the throwaway database of PERSONA_LAB_TEST_PG_URL)."""
    from persona_lab.workspace.votes import ArenaStore

    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    store = ArenaStore(url) if url else ArenaStore.for_path(tmp_path / "lab" / "arena.db")
    yield store
    store.close()
