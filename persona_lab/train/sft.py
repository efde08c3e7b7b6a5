"""LoRA SFT of one adapter per source (chat, blog) on the lab's base model.

Features and trade-offs:
  * TRL's SFTTrainer on messages-format files, loss on my replies only (assistant_only_loss; the template
    marks assistant turns with {% generation %}: see base.py)
  * one adapter per source, hyper-parameters per source in the config (``train.chat``, ``train.blog``)
  * checkpoints every ``save_steps`` optimiser steps, all kept, each with its step recorded in the run's
    manifest so a blend can take "chat at step 600"; ``resume=True`` continues from the newest checkpoint
    after a kill, losing at most the steps since it: weights, optimizer, scheduler, RNG and data order carry
    on, so the resumed steps equal an uninterrupted run's, and the log keeps each step once
  * precision: fp32 on CPU (bf16 gives wrong results on this class of CPU, see FINDINGS.md); bf16 on a
    CUDA GPU when ``precision: auto``; ``qlora: true`` loads the base in 4-bit with bitsandbytes (CUDA only;
    on CPU it fails early with that reason)
  * several GPUs: ``accelerate launch -m persona_lab.cli train --config CFG`` (the Trainer handles DDP)
  * a rich progress bar with loss and tokens/s, a JSONL training log and a loss-curve PNG in the run folder
  * a run whose inputs (data, base, hyper-parameters) are unchanged is not redone
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persona_lab.basemodel import resolve_base
from persona_lab.config import LabConfig, TrainSettings
from persona_lab.errors import PersonaLabError
from persona_lab.hashing import file_hash, json_hash
from persona_lab.progress import quiet_library_progress
from persona_lab.workspace import SOURCES
from persona_lab.workspace.shapes import dev_ids, iter_training_samples, my_reply


class TrainError(PersonaLabError):
    """Training cannot start; the message names the file or setting to fix."""

    hint = "run `persona-lab ingest --config CFG` first, and see README's 'Config reference' for train:"


@dataclass
class TrainResult:
    source: str
    run_dir: Path
    adapter_dir: Path
    manifest: dict[str, Any]
    skipped: bool


def load_messages(path: Path, held_out: set[str] = frozenset()) -> list[dict[str, Any]]:
    """The ``messages`` of each sample not ``held_out`` (by id); an error naming file and line for anything
    unusable."""
    if not path.exists():
        raise TrainError(f"{path}: training file not found", hint="run `persona-lab ingest` first")
    rows = []
    for number, sample in iter_training_samples(path):
        if my_reply(sample) is None:
            raise TrainError(f"{path}:{number}: the last message must be an assistant reply")
        if str(sample.get("id")) not in held_out:
            rows.append({"messages": sample["messages"]})
    if not rows:
        raise TrainError(f"{path}: the training set is empty; nothing to train on")
    return rows


def source_settings(config: LabConfig, source: str, quick: bool = False) -> TrainSettings:
    """The source's training settings; ``quick`` caps them at 10 steps (a smoke run)."""
    if source not in SOURCES:
        raise TrainError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    settings: TrainSettings = getattr(config.train, source)
    if quick:
        settings = settings.model_copy(update={"max_steps": min(settings.max_steps or 10**9, 10), "save_steps": 5})
    return settings


def held_out_ids(config: LabConfig, source: str) -> set[str]:
    """The chat samples training leaves out: the dev slice the blend search scores its trials on (only
    when the search is on; otherwise every training sample is trained on)."""
    path = config.paths.train_file(source)
    if source != "chat" or not config.search.enabled or not path.exists():
        return set()
    return dev_ids(path)


def train_inputs(config: LabConfig, source: str, quick: bool = False) -> dict[str, Any]:
    """Everything an adapter depends on: same inputs, same adapter (training is seeded)."""
    data_path = config.paths.train_file(source)
    held_out = sorted(held_out_ids(config, source))
    return {"data": file_hash(data_path) if data_path.exists() else None, "base": config.base_model,
            **({"held_out": hashlib.sha1("\n".join(held_out).encode()).hexdigest()} if held_out else {}),
            "settings": source_settings(config, source, quick).model_dump(),
            "seed": config.train.seed if config.train.seed is not None else config.seed,
            "template": hashlib.sha1((config.chat_template or "").encode()).hexdigest()}


def train_source(config: LabConfig, source: str, *, resume: bool = False, quick: bool = False,
                 progress: bool = True, force: bool = False) -> TrainResult:
    """Train (or reuse, when its inputs are unchanged and ``force`` is off) the adapter for ``source``;
    returns where it is and its manifest."""
    settings = source_settings(config, source, quick)
    data_path = config.paths.train_file(source)
    held_out = held_out_ids(config, source)
    rows = load_messages(data_path, held_out)
    if held_out and progress:
        print(f"train {source}: {len(rows)} samples; the {len(held_out)} latest are held out for the blend search")
    run_dir = config.paths.adapter_run(source)
    inputs = train_inputs(config, source, quick)
    inputs_hash = json_hash(inputs)
    manifest_path = config.paths.adapter_manifest(source)
    if manifest_path.exists() and not resume and not force:
        old = json.loads(manifest_path.read_text("utf-8"))
        if old.get("inputs_hash") == inputs_hash and (run_dir / "final" / "adapter_config.json").exists():
            return TrainResult(source, run_dir, run_dir / "final", old, skipped=True)
    _check_device(settings)

    base = resolve_base(config.base_model, config.chat_template)
    started = time.time()
    log_path = run_dir / "train_log.jsonl"
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        _clear_run(run_dir)
    trainer = _make_trainer(base, rows, settings, run_dir, inputs["seed"], log_path, progress)
    if resume:
        _drop_unfinished_checkpoints(run_dir)
    resumed_from = max(checkpoints(run_dir)) if resume and checkpoints(run_dir) else None
    if resumed_from is not None:
        _truncate_log(log_path, resumed_from)
    output = trainer.train(resume_from_checkpoint=True if resumed_from is not None else None)
    final = run_dir / "final"
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))
    plot_loss(log_path, run_dir / "loss.png", title=f"{config.name}: {source} adapter")
    manifest = {
        "source": source, "base_model": config.base_model, "base_path": base.path, "inputs": inputs,
        "inputs_hash": inputs_hash, "samples": len(rows), "held_out": len(held_out), "steps": trainer.state.global_step,
        "checkpoints": checkpoints(run_dir), "final": str(final), "rank": settings.rank, "alpha": settings.alpha,
        "train_loss": output.training_loss, "seconds": round(time.time() - started, 1),
        "tokens": trainer.state.num_input_tokens_seen, "quick": quick, "resumed": resumed_from is not None,
        "resumed_from": resumed_from,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1), "utf-8")
    return TrainResult(source, run_dir, final, manifest, skipped=False)


def _complete(folder: Path) -> bool:
    # The Trainer writes trainer_state.json last: without it, a kill interrupted the save.
    return (folder / "adapter_config.json").exists() and (folder / "trainer_state.json").exists()


def checkpoints(run_dir: Path) -> dict[int, str]:
    """Step -> folder of every complete checkpoint in a run."""
    found = {}
    for folder in run_dir.glob("checkpoint-*"):
        step = folder.name.split("-", 1)[1]
        if step.isdigit() and _complete(folder):
            found[int(step)] = str(folder)
    return dict(sorted(found.items()))


def _drop_unfinished_checkpoints(run_dir: Path) -> None:
    """A kill during a save leaves a half-written checkpoint; resuming from it would fail."""
    import shutil

    for folder in run_dir.glob("checkpoint-*"):
        if not _complete(folder):
            shutil.rmtree(folder)


def _truncate_log(log_path: Path, step: int) -> None:
    """Keep the log of the steps up to the checkpoint a run resumes from: the steps after it were lost with
    the kill and are trained, and logged, again (each step once in the log). A finished run's summary line
    goes too; the resumed run writes its own."""
    if not log_path.exists():
        return
    rows = [json.loads(line) for line in log_path.read_text("utf-8").splitlines() if line.strip()]
    kept = [row for row in rows if row.get("step", 0) <= step and "train_loss" not in row]
    log_path.write_text("".join(json.dumps(row) + "\n" for row in kept), "utf-8")


def _clear_run(run_dir: Path) -> None:
    import shutil

    for child in run_dir.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        elif child.name in ("train_log.jsonl", "loss.png", "manifest.json"):
            child.unlink()


def _check_device(settings: TrainSettings) -> None:
    import torch

    if settings.qlora and not torch.cuda.is_available():
        raise TrainError("qlora: true needs a CUDA GPU (bitsandbytes 4-bit); set qlora: false to train on CPU")
    if settings.precision == "bf16" and not torch.cuda.is_available():
        raise TrainError("precision: bf16 is not supported on CPU here (wrong results on AVX2 CPUs); use fp32")


def _make_trainer(base, rows: list[dict], settings: TrainSettings, run_dir: Path, seed: int, log_path: Path,
                  progress: bool):
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    # here, not at the top: callbacks.py imports transformers (~1.5 s), which only training needs
    from persona_lab.train.callbacks import JsonlLogCallback, RichProgressCallback

    quiet_library_progress()
    cuda = torch.cuda.is_available()
    bf16 = cuda and settings.precision in ("auto", "bf16")
    tokenizer = AutoTokenizer.from_pretrained(base.path)
    tokenizer.chat_template = base.chat_template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model_kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if bf16 else torch.float32}
    if settings.qlora:
        from transformers import BitsAndBytesConfig

        model_kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    args = SFTConfig(
        output_dir=str(run_dir), per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum, learning_rate=settings.lr,
        num_train_epochs=settings.epochs, max_steps=settings.max_steps or -1, max_length=settings.max_length,
        lr_scheduler_type="cosine", warmup_steps=_warmup_steps(len(rows), settings), logging_steps=1,
        save_strategy="steps", save_steps=settings.save_steps, save_total_limit=None,
        assistant_only_loss=True, packing=settings.batching == "packed",
        train_sampling_strategy="group_by_length" if settings.batching == "grouped" else "random", seed=seed, data_seed=seed, report_to="none",
        use_cpu=not cuda, bf16=bf16, disable_tqdm=True, include_num_input_tokens_seen="non_padding",
        model_init_kwargs=model_kwargs, dataloader_num_workers=0,
        # TRL turns this on by default; on a CPU it only costs time.
        gradient_checkpointing=cuda if settings.gradient_checkpointing is None else settings.gradient_checkpointing,
    )
    peft_config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                             target_modules=settings.target_modules, task_type="CAUSAL_LM")
    rows = [fit_to_length(row, tokenizer, settings.max_length) for row in rows]
    trainer = _resumable(SFTTrainer)(model=base.path, args=args, train_dataset=Dataset.from_list(rows),
                                     processing_class=tokenizer, peft_config=peft_config)
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # logs go to the JSONL file and the progress bar instead
    trainer.add_callback(JsonlLogCallback(log_path))
    if progress:
        trainer.add_callback(RichProgressCallback())
    return trainer


def _resumable(trainer_class):
    """``trainer_class`` with a length-grouped shuffle that depends on the seed and the epoch only.

    transformers' LengthGroupedSampler (``batching: grouped``) draws each epoch's shuffle from the global torch
    RNG at the moment the epoch starts. A run resumed in a later epoch starts that epoch right after seeding,
    so it replayed epoch 0's order instead of the epoch it was in (measured: a run resumed from step 8 of 6
    steps per epoch trained steps 9-12 on the batches of steps 3-6), and every later epoch differed too. Here
    epoch e shuffles with its own generator seeded ``data_seed + e``, the way accelerate seeds random batches.
    """
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
        def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
            super().__init__(batch_size, lengths=lengths)
            self.seed, self.epoch = seed, 0

        def set_epoch(self, epoch: int) -> None:  # the Trainer calls it before each epoch, resumed or not
            self.epoch = epoch

        def __iter__(self):
            self.generator = torch.Generator().manual_seed(self.seed + self.epoch)
            return super().__iter__()

    class ResumableTrainer(trainer_class):
        def _get_train_sampler(self, train_dataset=None):
            sampler = super()._get_train_sampler(train_dataset)
            if type(sampler) is LengthGroupedSampler:
                seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
                return EpochSeededLengthGroupedSampler(sampler.batch_size, sampler.lengths, seed)
            return sampler

    return ResumableTrainer


def fit_to_length(row: dict[str, Any], tokenizer, max_length: int) -> dict[str, Any]:
    """Drop the oldest context turns until the sample fits, so truncation never cuts my reply (the
    trainer would cut from the end). The system line and the last exchange are always kept."""
    messages = row["messages"]
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    while len(rest) > 2:
        text = tokenizer.apply_chat_template(system + rest, tokenize=False)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= max_length:
            break
        rest = rest[1:]
        if rest and rest[0]["role"] == "assistant":  # a sample starts with what was said to me
            rest = rest[1:]
    return {"messages": system + rest}


def _warmup_steps(n_rows: int, settings: TrainSettings) -> int:
    import math

    per_epoch = math.ceil(n_rows / (settings.batch_size * settings.grad_accum))
    total = settings.max_steps or math.ceil(per_epoch * settings.epochs)
    return int(total * settings.warmup_ratio)


def plot_loss(log_path: Path, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses = [], []
    if log_path.exists():
        for line in log_path.read_text("utf-8").splitlines():
            row = json.loads(line)
            if "loss" in row:
                steps.append(row["step"])
                losses.append(row["loss"])
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.plot(steps, losses, lw=0.8, alpha=0.45, label="per step")
    smooth, value = [], None
    for loss in losses:  # exponential moving average: small batches make the raw curve jumpy
        value = loss if value is None else 0.8 * value + 0.2 * loss
        smooth.append(value)
    ax.plot(steps, smooth, lw=1.8, label="moving average")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("training loss (my replies only)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
