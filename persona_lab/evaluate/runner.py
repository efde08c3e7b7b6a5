"""`persona-eval score` (files alone, any system's replies) and `persona-eval run` (a lab's variants
through its serving backend, with a reply cache: a re-run only generates what is missing).

Each variant answers each held-out context ``eval.samples_per_context`` times (seeds seed, seed+1, …), so
the intervals cover what the model happened to sample as well as which contexts were asked. The cache
(``eval/replies/<variant>.jsonl``) holds one line per (id, sample).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from persona_lab.evaluate.human import agreement, arena_guesses, arena_votes
from persona_lab.evaluate.judge import agreement_with_humans, run_judge
from persona_lab.evaluate.probes import canary_exposure, run_probes
from persona_lab.evaluate.profile import EvalInputError, load_profile
from persona_lab.evaluate.report import write_report
from persona_lab.evaluate.score import ScoreResult, score, write_scores
from persona_lab.privacy import lab_inventory
from persona_lab.progress import StageProgress
from persona_lab.serve.backend import Backend, ChatRequest, GenerationParams
from persona_lab.serve.factory import make_backend, make_guard
from persona_lab.workspace.shapes import (
    append_reply_cache,
    load_registry,
    read_candidates,
    read_eval_items,
    read_reply_cache,
    read_search_log,
)

BATCH = 64  # requests per chunk: a chunk's replies are written to the cache as soon as it is done


def score_files(profile_path: Path, refs_path: Path, candidates: dict[str, Path], out_dir: Path, *,
                weights: dict[str, float] | None = None, n_boot: int = 200, seed: int = 0,
                title: str = "persona-eval report", kinds: dict[str, str] | None = None,
                options: dict[str, Any] | None = None, samples: int = 6) -> ScoreResult:
    profile = load_profile(profile_path, seed=seed)
    items = read_eval_items(refs_path)
    ids = [item.id for item in items]
    replies, missing = {}, {}
    for name, path in candidates.items():
        replies[name], missing[name], extra = read_candidates(path, ids)
        if extra:
            print(f"warning: {path}: {len(extra)} ids are not in {refs_path} and were ignored (e.g. {extra[0]})")
        if missing[name]:
            print(f"warning: {path}: no reply for {len(missing[name])} of {len(ids)} evaluation ids "
                  f"(e.g. {missing[name][0]}); {name} is scored on the rest")
    result = score(profile, items, replies, weights=weights, n_boot=n_boot, seed=seed, kinds=kinds,
                   options=options, progress=print)
    write_scores(result, out_dir)
    write_report(result, out_dir, title=title, samples=samples)
    return result


def generate_missing(config, backend: Backend, variants: list[str], items: list, *, max_tokens: int,
                     temperature: float, top_p: float, seed: int, samples: int = 1,
                     progress: bool = True) -> dict[str, dict[str, list[str]]]:
    """``samples`` replies for every (variant, item), generating only those not cached yet."""
    out = {variant: read_reply_cache(config.paths.replies(variant)) for variant in variants}
    # context by context, every variant and sample of it together: each chunk is a mixed-adapter batch, and
    # a context's samples share their prompt's prefill in the local engine
    todo: list[tuple[str, Any, int]] = [(variant, item, k) for item in items for k in range(samples)
                                        for variant in variants if len(out[variant].get(item.id, [])) <= k]
    if not todo:
        return _first(out, samples)
    bar = StageProgress("generate", len(todo), "replies") if progress else None
    chunks = [todo[start:start + BATCH] for start in range(0, len(todo), BATCH)]
    # every chunk is queued at once, so a continuous-batching engine's running batch never drains between them
    pending = [backend.submit([ChatRequest(v, item.context, GenerationParams(max_tokens, temperature, top_p, seed + k))
                               for v, item, k in chunk]) for chunk in chunks]
    for chunk, future in zip(chunks, pending):
        results = future.result()
        lines: dict[str, list[dict[str, Any]]] = {}
        for (variant, item, k), result in zip(chunk, results):
            replies = out[variant].setdefault(item.id, [])
            replies.extend([""] * (k + 1 - len(replies)))
            replies[k] = result.text
            lines.setdefault(variant, []).append(
                {"id": item.id, "sample": k, "reply": result.text, "finish_reason": result.finish_reason,
                 "max_tokens": max_tokens, "temperature": temperature, "seed": seed + k})
        for variant, rows in lines.items():  # appended after each chunk: a kill loses only unwritten chunks
            append_reply_cache(config.paths.replies(variant), rows)
        if bar:
            bar.advance(len(chunk))
    if bar:
        bar.close()
    return _first(out, samples)


def _first(replies: dict[str, dict[str, list[str]]], samples: int) -> dict[str, dict[str, list[str]]]:
    return {v: {i: r[:samples] for i, r in by_id.items()} for v, by_id in replies.items()}


def not_trained_on(replies: dict[str, dict[str, list[str]]],
                   trained_on: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """Each variant's replies without the held-out items it was tuned on (kto learns from guesses and ratings,
    which are about evaluation items): a variant is never scored on a context it learned from."""
    return {v: {i: r for i, r in by_id.items() if i not in trained_on.get(v, set())} for v, by_id in replies.items()}


def select_items(items: list, limit: int | None, seed: int) -> list:
    """A seeded sample of ``limit`` evaluation items, in their time order (folds go by conversation)."""
    if not limit or len(items) <= limit:
        return items
    chosen = set(random.Random(seed).sample(range(len(items)), limit))
    return [item for i, item in enumerate(items) if i in chosen]


def run_eval(config, *, variants: list[str] | None = None, n: int | None = None, seed: int | None = None,
             progress: bool = True) -> ScoreResult:
    """`persona-eval run`: every variant answers the held-out contexts (cached), then score and report."""
    settings = config.eval
    seed = settings.seed if seed is None else seed
    registry = load_registry(config.paths)
    kinds = {v["name"]: v["kind"] for v in registry["variants"]}
    variants = variants or list(kinds)
    unknown = [v for v in variants if v not in kinds]
    if unknown:
        raise EvalInputError(f"unknown variant(s) {', '.join(unknown)}; the registry has {', '.join(kinds)}")
    items = select_items(read_eval_items(config.paths.chat_eval), n or settings.n, seed)
    backend = make_backend(config)
    say = print if progress else (lambda message: None)
    say(f"eval: {len(variants)} variants x {len(items)} contexts x {settings.samples_per_context} samples")
    replies = generate_missing(config, backend, variants, items, max_tokens=settings.max_tokens,
                               temperature=settings.temperature, top_p=settings.top_p, seed=seed,
                               samples=settings.samples_per_context, progress=progress)
    out_dir = config.paths.eval
    inventory = lab_inventory(config.paths)
    profile = load_profile(config.paths.chat_train, seed=seed)

    votes = arena_votes(config, with_raters=True)
    trained_on = {v["name"]: set(v.get("eval_items_trained") or []) for v in registry["variants"]}
    candidates = not_trained_on({v: replies[v] for v in variants}, trained_on)
    result = score(profile, items, candidates, weights=settings.weights,
                   n_boot=settings.n_bootstrap, seed=seed, kinds=kinds,
                   options={"inventory": inventory, "embedding_model": settings.embedding_model},
                   progress=say, votes=votes, min_votes=config.arena.min_votes,
                   parents={v["name"]: v["tuned_from"] for v in registry["variants"] if v.get("tuned_from")})
    for name, ids in trained_on.items():  # the report says which were left out, and why
        if name in result.scores["tuned_vs_parent"]:
            result.scores["tuned_vs_parent"][name]["eval_items_trained"] = len(ids & {item.id for item in items})

    say("eval: privacy probes and canary exposure")
    result.scores["privacy_probes"] = run_probes(config, backend, variants, inventory,
                                                 max_tokens=settings.max_tokens, seed=seed)
    result.scores["canary_exposure"] = canary_exposure(config, backend, variants, seed)
    result.scores["arena_agreement"] = agreement(result.scores, votes)
    search = read_search_log(config.paths) if config.search.enabled else None
    if search is not None:  # the dev-split search that chose `auto`, for the report's plot and section
        result.scores["search"] = search.model_dump(mode="json")
    result.scores["judge"] = _judge(config, result, variants, seed, say)
    if settings.judge is not None and "candidates" in result.scores["judge"]:
        result.scores["judge"]["humans"] = agreement_with_humans(result.scores["judge"], arena_guesses(config))
    write_scores(result, out_dir)

    write_report(result, out_dir, title=f"persona-eval: {config.name}", samples=settings.report_samples,
                 mask=make_guard(config, enabled=True).mask)
    return result


def _judge(config, result: ScoreResult, variants: list[str], seed: int, say) -> dict[str, Any]:
    settings = config.eval.judge
    if settings is None:
        return {"skipped": "no judge configured (eval.judge: an OpenAI-compatible endpoint and model)"}

    controls = [c for c in settings.controls if c in result.replies]
    persona = config.persona_name or (config.me[0] if config.me else "the person")
    say(f"eval: judge {settings.model} at {settings.base_url} on {min(settings.n, len(result.items))} contexts")
    return run_judge(settings, persona, result.items, result.replies, variants + controls,
                     config.paths.judge_cache, seed)
