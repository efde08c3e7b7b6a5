"""`persona-eval score` (files alone, any system's replies) and `persona-eval run` (a lab's variants
through its serving backend, with a reply cache: a re-run only generates what is missing).

Each variant answers each held-out context ``eval.samples_per_context`` times (seeds seed, seed+1, …), so
the intervals cover what the model happened to sample as well as which contexts were asked. The cache
(``eval/replies/<variant>.jsonl``) holds one line per (id, sample).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from persona_lab.evaluate.profile import EvalInputError, load_candidates, load_profile, load_refs
from persona_lab.evaluate.report import save_replies, write_report
from persona_lab.evaluate.score import ScoreResult, score, write_scores

BATCH = 64  # requests per chunk: a chunk's replies are written to the cache as soon as it is done


def score_files(profile_path: Path, refs_path: Path, candidates: dict[str, Path], out_dir: Path, *,
                weights: dict[str, float] | None = None, n_boot: int = 200, seed: int = 0,
                title: str = "persona-eval report", kinds: dict[str, str] | None = None,
                options: dict[str, Any] | None = None, samples: int = 6) -> ScoreResult:
    profile = load_profile(profile_path, seed=seed)
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
                   options=options, progress=print)
    write_scores(result, out_dir)
    save_replies(result, out_dir, title, samples=samples)
    write_report(result, out_dir, title=title, samples=samples)
    return result


def read_samples(path: Path) -> dict[str, list[str]]:
    """A reply cache as id -> replies in sample order; empty when the file is not there yet. Lines without
    a ``sample`` field (older caches) are sample 0."""
    if not path.exists():
        return {}
    by_id: dict[str, dict[int, str]] = {}
    # split on "\n" only: str.splitlines also splits on \x85, \u2028 … which a generated reply may hold and
    # json.dumps(ensure_ascii=False) writes as they are (a tiny model's reply with \x85 broke a cache)
    for line in path.read_text("utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            by_id.setdefault(row["id"], {})[int(row.get("sample", 0))] = row["reply"]
    return {i: [samples[k] for k in sorted(samples)] for i, samples in by_id.items()}


def read_replies(path: Path) -> dict[str, str]:
    """id -> the first sampled reply (what the arena's "Real or clone?" shows)."""
    return {i: samples[0] for i, samples in read_samples(path).items() if samples}


def replies_path(config, variant: str) -> Path:
    return config.workspace_dir / "eval" / "replies" / f"{variant}.jsonl"


def generate_missing(config, backend, variants: list[str], items: list, *, max_tokens: int, temperature: float,
                     seed: int, samples: int = 1, progress: bool = True) -> dict[str, dict[str, list[str]]]:
    """``samples`` replies for every (variant, item), generating only those not cached yet."""
    from persona_lab.progress import StageProgress
    from persona_lab.serve.backend import ChatRequest, GenerationParams

    out = {variant: read_samples(replies_path(config, variant)) for variant in variants}
    # context by context, every variant and sample of it together: each chunk is a mixed-adapter batch, and
    # a context's samples share their prompt's prefill in the local engine
    todo: list[tuple[str, Any, int]] = [(variant, item, k) for item in items for k in range(samples)
                                        for variant in variants if len(out[variant].get(item.id, [])) <= k]
    if not todo:
        return _first(out, samples)
    bar = StageProgress("generate", len(todo), "replies") if progress else None
    chunks = [todo[start:start + BATCH] for start in range(0, len(todo), BATCH)]
    requests = [[ChatRequest(v, item.context, GenerationParams(max_tokens, temperature, 0.9, seed + k))
                 for v, item, k in chunk] for chunk in chunks]
    if hasattr(backend, "submit"):  # a continuous-batching engine: every chunk queued now, so the running batch
        pending = [backend.submit(chunk) for chunk in requests]  # never drains between chunks
        answers = (future.result() for future in pending)
    else:
        answers = (backend.chat_batch(chunk) for chunk in requests)
    for chunk, results in zip(chunks, answers):
        lines: dict[str, list[str]] = {}
        for (variant, item, k), result in zip(chunk, results):
            replies = out[variant].setdefault(item.id, [])
            replies.extend([""] * (k + 1 - len(replies)))
            replies[k] = result.text
            lines.setdefault(variant, []).append(json.dumps(
                {"id": item.id, "sample": k, "reply": result.text, "finish_reason": result.finish_reason,
                 "max_tokens": max_tokens, "temperature": temperature, "seed": seed + k}, ensure_ascii=False) + "\n")
        for variant, rows in lines.items():  # appended after each chunk: a kill loses only unwritten chunks
            path = replies_path(config, variant)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.writelines(rows)
        if bar:
            bar.advance(len(chunk))
    if bar:
        bar.close()
    return _first(out, samples)


def _first(replies: dict[str, dict[str, list[str]]], samples: int) -> dict[str, dict[str, list[str]]]:
    return {v: {i: r[:samples] for i, r in by_id.items()} for v, by_id in replies.items()}


def select_items(items: list, limit: int | None, seed: int) -> list:
    """A seeded sample of ``limit`` evaluation items, in their time order (folds go by conversation)."""
    if not limit or len(items) <= limit:
        return items
    chosen = set(random.Random(seed).sample(range(len(items)), limit))
    return [item for i, item in enumerate(items) if i in chosen]


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
    items = select_items(load_refs(config.data_dir / "chat_eval.jsonl"), n or settings.n, seed)
    backend = make_backend(config)
    say = print if progress else (lambda message: None)
    say(f"eval: {len(variants)} variants x {len(items)} contexts x {settings.samples_per_context} samples")
    replies = generate_missing(config, backend, variants, items, max_tokens=settings.max_tokens,
                               temperature=settings.temperature, seed=seed, samples=settings.samples_per_context,
                               progress=progress)
    out_dir = config.workspace_dir / "eval"
    inventory = _inventory(config)
    profile = load_profile(config.data_dir / "chat_train.jsonl", seed=seed)
    from persona_lab.evaluate.human import agreement, arena_guesses, arena_votes

    votes = arena_votes(config, with_raters=True)
    result = score(profile, items, {v: replies[v] for v in variants}, weights=settings.weights,
                   n_boot=settings.n_bootstrap, seed=seed, kinds=kinds,
                   options={"inventory": inventory, "embedding_model": settings.embedding_model},
                   progress=say, votes=votes, min_votes=config.arena.min_votes)
    from persona_lab.evaluate.probes import canary_exposure, run_probes

    say("eval: privacy probes and canary exposure")
    result.scores["privacy_probes"] = run_probes(config, backend, variants, inventory,
                                                 max_tokens=settings.max_tokens, seed=seed)
    result.scores["canary_exposure"] = canary_exposure(config, backend, variants, seed)
    result.scores["arena_agreement"] = agreement(result.scores, votes)
    result.scores["judge"] = _judge(config, result, variants, seed, say)
    if settings.judge is not None and "candidates" in result.scores["judge"]:
        from persona_lab.evaluate.judge import agreement_with_humans

        result.scores["judge"]["humans"] = agreement_with_humans(result.scores["judge"], arena_guesses(config))
    write_scores(result, out_dir)
    save_replies(result, out_dir, f"persona-eval: {config.name}", samples=settings.report_samples)
    from persona_lab.serve.factory import make_guard

    write_report(result, out_dir, title=f"persona-eval: {config.name}", samples=settings.report_samples,
                 mask=make_guard(config, enabled=True).mask)
    return result


def _judge(config, result: ScoreResult, variants: list[str], seed: int, say) -> dict[str, Any]:
    settings = config.eval.judge
    if settings is None:
        return {"skipped": "no judge configured (eval.judge: an OpenAI-compatible endpoint and model)"}
    from persona_lab.evaluate.judge import run_judge

    controls = [c for c in settings.controls if c in result.replies]
    persona = config.persona_name or (config.me[0] if config.me else "the person")
    say(f"eval: judge {settings.model} at {settings.base_url} on {min(settings.n, len(result.items))} contexts")
    return run_judge(settings, persona, result.items, result.replies, variants + controls,
                     config.workspace_dir / "eval" / "judge.jsonl", seed)


def _inventory(config):
    from persona_lab.privacy import PiiInventory, load_or_create_secret

    report = config.data_dir / "pii_report.json"
    if not report.exists():
        return None
    return PiiInventory.from_report(json.loads(report.read_text("utf-8")), load_or_create_secret(config.workspace_dir))
