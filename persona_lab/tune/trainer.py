"""TRL's DPOTrainer / KTOTrainer on a LoRA adapter, with the parent variant as the reference model.

How the reference is the parent (checked in TRL 1.16's source, dpo_trainer.py / kto_trainer.py ``__init__``):
given a ``PeftModel`` whose adapter is named "default" and no ``ref_model``, both trainers add a second adapter
"ref", copy "default"'s weights into it, keep it frozen, and compute the reference log-probs with it
(``use_adapter(model, "ref")``). So loading base + the parent's adapter as a trainable "default" gives exactly
"reference = parent, policy starts at parent", on one copy of the base weights (a frozen second model would
double the memory; merging the parent and training a fresh LoRA would need a ``cat`` of the two to serve).
The tuned adapter keeps the parent's LoRA config (rank, alpha, targets), so it serves and blends like any
adapter. Passing a ``peft_config`` instead would be refused by TRL for a PeftModel, and passing none with a
plain model would train full weights against the bare base: neither is what we want.

Trade-offs: fp32 on CPU (bf16 is wrong on these CPUs, FINDINGS.md); no gradient checkpointing (it only costs
time on a 135M model); a constant learning rate after a short warm-up (few steps, nothing to anneal).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from persona_lab.config import TuneSettings
from persona_lab.progress import StageProgress, quiet_library_progress


def load_policy(base_path: str, chat_template: str | None, adapter: Path):
    """(PeftModel with the parent's adapter as a trainable "default", tokenizer)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_library_progress()
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if chat_template:
        tokenizer.chat_template = chat_template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    return PeftModel.from_pretrained(model, str(adapter), adapter_name="default", is_trainable=True), tokenizer


def fit_prompt(prompt: list[dict], completions: list[str], tokenizer, max_length: int) -> list[dict]:
    """Drop the oldest turns until prompt + the longest completion fit (TRL would cut the reply's end)."""
    longest = max(len(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in completions) + 2
    messages = [dict(m) for m in prompt]
    while len(messages) > 1:
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
        if len(ids) + longest <= max_length:
            break
        droppable = [i for i, m in enumerate(messages[:-1]) if m["role"] != "system"]
        if not droppable:
            break
        del messages[droppable[0]]
    return messages


def completion_logprobs(model, tokenizer, prompt: list[dict], completions: list[str]) -> list[float]:
    """Sum of token log-probs of each completion as the assistant's reply to ``prompt`` (its closing
    end-of-turn token included), rendered by the chat template the way TRL renders it."""
    import torch

    prefix = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    prefix_ids = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    out = []
    for completion in completions:
        full = tokenizer.apply_chat_template(prompt + [{"role": "assistant", "content": completion}], tokenize=False)
        tail = full[len(prefix):] if full.startswith(prefix) else completion
        reply_ids = tokenizer(tail.rstrip("\n"), add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prefix_ids + reply_ids])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, len(prefix_ids) - 1:-1].float()
        picked = torch.log_softmax(logits, dim=-1).gather(1, torch.tensor(reply_ids)[:, None])
        out.append(float(picked.sum()))
    return out


def held_out_margin(model, tokenizer, rows: list[dict[str, Any]], method: str) -> dict[str, float] | None:
    """The preference margin on held-out rows under ``model``'s active adapter.

    pairs (spin, dpo): mean of log p(chosen) - log p(rejected), and the share of pairs where chosen is the more
    likely. KTO: mean log p of desirable completions minus that of undesirable ones (None without both kinds).
    The DPO implicit-reward margin of the tuned model is beta * (after - before) of the pair margin."""
    if not rows:
        return None
    was_training = model.training
    model.eval()
    try:
        if method in ("spin", "dpo"):
            diffs = []
            for row in rows:
                chosen, rejected = completion_logprobs(model, tokenizer, row["prompt"], [row["chosen"], row["rejected"]])
                diffs.append(chosen - rejected)
            return {"margin": sum(diffs) / len(diffs), "accuracy": sum(d > 0 for d in diffs) / len(diffs),
                    "n": len(diffs)}
        good, bad = [], []
        for row in rows:
            (value,) = completion_logprobs(model, tokenizer, row["prompt"], [row["completion"]])
            (good if row["label"] else bad).append(value)
        if not good or not bad:
            return None
        return {"margin": sum(good) / len(good) - sum(bad) / len(bad), "n": len(good) + len(bad)}
    finally:
        model.train(was_training)


def _trainer_rows(rows: list[dict[str, Any]], method: str, tokenizer, max_length: int) -> list[dict[str, Any]]:
    """TRL's conversational preference / unpaired format, prompts cut to fit."""
    out = []
    for row in rows:
        if method == "kto":
            prompt = fit_prompt(row["prompt"], [row["completion"]], tokenizer, max_length)
            out.append({"prompt": prompt, "completion": [{"role": "assistant", "content": row["completion"]}],
                        "label": bool(row["label"])})
        else:
            prompt = fit_prompt(row["prompt"], [row["chosen"], row["rejected"]], tokenizer, max_length)
            out.append({"prompt": prompt, "chosen": [{"role": "assistant", "content": row["chosen"]}],
                        "rejected": [{"role": "assistant", "content": row["rejected"]}]})
    return out


def train_preferences(model, tokenizer, rows: list[dict[str, Any]], method: str, settings: TuneSettings,
                      out_dir: Path, seed: int, log_path: Path, progress: bool, label: str = "tune") -> dict[str, Any]:
    """Train ``model``'s "default" adapter on ``rows`` for ``settings.steps`` steps against the frozen copy of
    itself at the start (TRL's "ref" adapter). Returns step count and final loss; the adapter stays in
    ``model`` (and TRL's "ref" adapter is deleted again, so the next round starts clean)."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback

    cuda = torch.cuda.is_available()
    common: dict[str, Any] = {
        "output_dir": str(out_dir), "per_device_train_batch_size": settings.batch_size,
        "learning_rate": settings.lr, "max_steps": settings.steps, "lr_scheduler_type": "constant_with_warmup",
        "warmup_steps": max(1, settings.steps // 10), "logging_steps": 1, "save_strategy": "no", "seed": seed,
        "data_seed": seed, "report_to": "none", "use_cpu": not cuda, "bf16": False, "disable_tqdm": True,
        "max_length": settings.max_length, "beta": settings.beta, "gradient_checkpointing": False,
        "dataloader_num_workers": 0,
        # The reference (the parent, or the previous round) is fixed within a round: its log-probs are
        # computed once per example before training instead of at every step (a forward pass saved per step).
        "precompute_ref_log_probs": True}
    data = Dataset.from_list(_trainer_rows(rows, method, tokenizer, settings.max_length))
    started = time.time()
    # TRL computes the reference log-probs in the trainer's constructor under a tqdm bar that only the
    # TQDM_DISABLE variable turns off (carriage returns in a log file); our own line replaces it.
    with _env("TQDM_DISABLE", "1"):
        if method == "kto":
            from trl import KTOConfig, KTOTrainer

            # KTO's KL term pairs each prompt with another example's completion in the batch (batch_size >= 2)
            trainer = KTOTrainer(model=model, args=KTOConfig(**common), train_dataset=data,
                                 processing_class=tokenizer)
        else:
            from trl import DPOConfig, DPOTrainer

            trainer = DPOTrainer(model=model, args=DPOConfig(**common), train_dataset=data,
                                 processing_class=tokenizer)
    if progress:
        print(f"{label}: reference log-probs of {len(rows)} examples in {time.time() - started:.0f} s", flush=True)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(_log_callback(log_path, label, settings.steps, progress))
    output = trainer.train()
    if "ref" in model.peft_config:
        model.delete_adapter("ref")
    model.set_adapter("default")
    return {"steps": trainer.state.global_step, "train_loss": output.training_loss}


@contextlib.contextmanager
def _env(name: str, value: str):
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _log_callback(path: Path, label: str, total: int, progress: bool):
    from transformers import TrainerCallback

    class TuneLog(TrainerCallback):
        """Each logged step (loss, reward margin and accuracy as TRL computes them) to a JSONL file, and a
        progress line per tenth of the steps (StageProgress: plain lines when output goes to a file)."""

        def __init__(self) -> None:
            self.started = time.time()
            self.lines = StageProgress(label, total, "steps") if progress else None

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs:
                return
            row = {"round": label, "step": state.global_step, "wall_s": round(time.time() - self.started, 2), **logs}
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
            # logging_steps=1: a step's log arrives after its on_step_end, so the line is printed here, with
            # this step's loss rather than the previous one's
            if "loss" in logs and self.lines is not None:
                margin = logs.get("rewards/margins")
                note = f"loss {logs['loss']:.3f}" + (f", reward margin {margin:.3f}" if margin is not None else "")
                self.lines.advance(state.global_step - self.lines.done, note)

        def on_train_end(self, args, state, control, **kwargs):
            if self.lines is not None:
                self.lines.close()

    return TuneLog()


def save_adapter(model, out: Path) -> None:
    """Only the trained "default" adapter, as a standard PEFT folder at ``out`` (atomically replaced)."""
    import shutil

    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging), selected_adapters=["default"])
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)
