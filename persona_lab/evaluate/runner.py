"""`persona-eval score` (files alone, any system's replies) and `persona-eval run` (a lab's variants
through its serving backend, with a reply cache: a re-run only generates what is missing)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from persona_lab.evaluate.profile import EvalInputError, load_candidates, load_profile, load_refs
from persona_lab.evaluate.report import save_replies, write_report
from persona_lab.evaluate.score import ScoreResult, score, write_scores


def score_files(profile_path: Path, refs_path: Path, candidates: dict[str, Path], out_dir: Path, *,
                weights: dict[str, float] | None = None, n_boot: int = 200, seed: int = 0,
                title: str = "persona-eval report", kinds: dict[str, str] | None = None,
                options: dict[str, Any] | None = None) -> ScoreResult:
    profile = load_profile(profile_path)
    items = load_refs(refs_path)
    ids = [item.id for item in items]
    replies, missing = {}, {}
    for name, path in candidates.items():
        replies[name], missing[name], extra = load_candidates(path, ids)
        if extra:
            print(f"warning: {path}: {len(extra)} ids are not in {refs_path} and were ignored (e.g. {extra[0]})")
        if missing[name]:
            print(f"warning: {path}: no reply for {len(missing[name])} of {len(ids)} evaluation ids "
                  f"(e.g. {missing[name][0]}); {name} is scored on the rest")
    result = score(profile, items, replies, weights=weights, n_boot=n_boot, seed=seed, kinds=kinds,
                   options=options)
    write_scores(result, out_dir)
    save_replies(result, out_dir, title)
    write_report(result, out_dir, title=title)
    return result


def read_replies(path: Path) -> dict[str, str]:
    """A reply cache (``{"id","reply",...}`` lines) as id -> reply; empty when the file is not there yet."""
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip())
    return {row["id"]: row["reply"] for row in rows}


def replies_path(config, variant: str) -> Path:
    return config.workspace_dir / "eval" / "replies" / f"{variant}.jsonl"


def generate_missing(config, backend, variants: list[str], items: list, *, max_tokens: int, temperature: float,
                     seed: int, progress: bool = True) -> dict[str, dict[str, str]]:
    """Replies for every (variant, item), generating only those not cached yet."""
    from persona_lab.serve.backend import ChatRequest, GenerationParams

    out: dict[str, dict[str, str]] = {}
    todo: list[tuple[str, Any]] = []
    for variant in variants:
        cached = read_replies(replies_path(config, variant))
        out[variant] = cached
        todo += [(variant, item) for item in items if item.id not in cached]
    if not todo:
        return out
    batch_size = 32
    bar = _progress(len(todo)) if progress else None
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        requests = [ChatRequest(v, item.context, GenerationParams(max_tokens, temperature, 0.9, seed))
                    for v, item in chunk]
        results = backend.chat_batch(requests)
        lines: dict[str, list[str]] = {}
        for (variant, item), result in zip(chunk, results):
            out[variant][item.id] = result.text
            lines.setdefault(variant, []).append(json.dumps(
                {"id": item.id, "reply": result.text, "finish_reason": result.finish_reason,
                 "max_tokens": max_tokens, "temperature": temperature, "seed": seed}, ensure_ascii=False) + "\n")
        for variant, rows in lines.items():  # appended after each batch: a kill loses at most one batch
            path = replies_path(config, variant)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.writelines(rows)
        if bar:
            bar[0].advance(bar[1], len(chunk))
    if bar:
        bar[0].stop()
    return out


def _progress(total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    progress.start()
    return progress, progress.add_task("", total=total)


def run_eval(config, *, variants: list[str] | None = None, n: int | None = None, seed: int | None = None,
             progress: bool = True) -> ScoreResult:
    """`persona-eval run`: every variant answers the held-out contexts (cached), then score and report."""
    from persona_lab.blend.registry import load_registry
    from persona_lab.serve.factory import make_backend

    settings = config.eval
    seed = settings.seed if seed is None else seed
    registry = load_registry(config)
    kinds = {v["name"]: v["kind"] for v in registry["variants"]}
    variants = variants or list(kinds)
    unknown = [v for v in variants if v not in kinds]
    if unknown:
        raise EvalInputError(f"unknown variant(s) {', '.join(unknown)}; the registry has {', '.join(kinds)}")
    items = load_refs(config.data_dir / "chat_eval.jsonl")
    limit = n or settings.n
    if limit and len(items) > limit:
        items = sorted(random.Random(seed).sample(items, limit), key=lambda item: item.id)
    backend = make_backend(config)
    replies = generate_missing(config, backend, variants, items, max_tokens=settings.max_tokens,
                               temperature=settings.temperature, seed=seed, progress=progress)
    out_dir = config.workspace_dir / "eval"
    inventory = _inventory(config)
    profile = load_profile(config.data_dir / "chat_train.jsonl")
    result = score(profile, items, {v: replies[v] for v in variants}, weights=settings.weights,
                   n_boot=settings.n_bootstrap, seed=seed, kinds=kinds,
                   options={"inventory": inventory, "embedding_model": settings.embedding_model})
    from persona_lab.evaluate.probes import canary_exposure, privacy_section, run_probes

    probes = run_probes(config, backend, variants, inventory, max_tokens=settings.max_tokens, seed=seed)
    exposure = canary_exposure(config, backend, variants, seed)
    result.scores["privacy_probes"] = probes
    result.scores["canary_exposure"] = exposure
    from persona_lab.evaluate.human import agreement, agreement_section, arena_votes

    result.scores["arena_agreement"] = agreement(result.scores, arena_votes(config))
    write_scores(result, out_dir)
    save_replies(result, out_dir, f"persona-eval: {config.name}", samples=settings.report_samples)
    from persona_lab.serve.factory import make_guard

    guard = make_guard(config, enabled=True)
    write_report(result, out_dir, title=f"persona-eval: {config.name}", samples=settings.report_samples,
                 extra_sections=privacy_section(probes, exposure) + agreement_section(result.scores["arena_agreement"]),
                 mask=guard.mask)
    return result


def _inventory(config):
    from persona_lab.privacy import PiiInventory, load_or_create_secret

    report = config.data_dir / "pii_report.json"
    if not report.exists():
        return None
    return PiiInventory.from_report(json.loads(report.read_text("utf-8")), load_or_create_secret(config.workspace_dir))
