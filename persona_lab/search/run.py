"""The blend search: propose blends, let each answer the dev split, score it, keep the best as ``auto``.

Why Optuna's TPE: the objective is a noisy, expensive black box of four parameters (the chat share in [0, 1],
the overall strength, and a checkpoint per adapter) with a budget of a dozen evaluations; TPE handles mixed
continuous and categorical spaces and is seeded, so a search is reproducible. With so few trials its first
third is random exploration (``n_startup_trials``) and the config's fixed ratios are enqueued before it, so
the search starts from the blends a person would have tried by hand.

The dev split is the training file's latest slice (``workspace.shapes.dev_ids``); the search refuses to run
unless the chat adapter was trained without it (``search.enabled`` before training), because scoring blends on
contexts their adapters learned rewards memorising them — a copy of the training data is a defect here too.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persona_lab.blend.merge import adapter_key, build_blend, load_parents
from persona_lab.blend.registry import write_registry
from persona_lab.config import BlendSpec, LabConfig
from persona_lab.errors import PersonaLabError
from persona_lab.evaluate.metrics.context import Encoder
from persona_lab.evaluate.profile import load_profile
from persona_lab.evaluate.runner import select_items
from persona_lab.evaluate.score import Fitted, fit, score
from persona_lab.serve.backend import ChatRequest, GenerationParams
from persona_lab.serve.local import LocalEngine
from persona_lab.workspace.files import read_json
from persona_lab.workspace.shapes import EvalItem, SearchLog, SearchTrial, load_registry, write_search_log

PARENTS = ("chat", "blog")


class SearchError(PersonaLabError):
    """A blend search that cannot run as configured."""

    hint = "set search.enabled: true in the config and run `persona-lab run --config CFG` (it retrains chat " \
           "without the dev split, then searches)"


@dataclass
class Proposal:
    """One trial's blend: the chat share of the weights, their sum, and a checkpoint step per adapter."""

    chat_share: float
    strength: float
    steps: dict[str, int]
    fixed: str | None = None

    def spec(self, name: str) -> BlendSpec:
        # weights / 10 with normalize off: chat = strength x share, blog = strength x (1 - share), exactly
        weights = {"chat": 10 * self.strength * self.chat_share, "blog": 10 * self.strength * (1 - self.chat_share)}
        return BlendSpec(name=name, weights=weights, method="cat", normalize=False, steps=self.steps)


def adapter_folders(config: LabConfig) -> dict[str, dict[int, Path]]:
    """Per adapter, the folder of each step it can be blended at (its checkpoints and its final step)."""
    out = {}
    for parent in PARENTS:
        path = config.paths.adapter_manifest(parent)
        if not path.exists():
            raise SearchError(f"no {parent} adapter yet ({path} is missing)",
                              hint="train first: `persona-lab run --config CFG --until train`")
        manifest = read_json(path)
        folders = {int(step): Path(folder) for step, folder in manifest["checkpoints"].items()}
        folders[int(manifest["steps"])] = Path(manifest["final"])
        missing = [str(folder) for folder in folders.values() if not (folder / "adapter_config.json").exists()]
        if missing:
            raise SearchError(f"{path} names adapter folders that are not there: {', '.join(missing)}",
                              hint=f"retrain it: `persona-lab train --config CFG --source {parent}`")
        out[parent] = dict(sorted(folders.items()))
    return out


def check_dev_held_out(config: LabConfig) -> int:
    """How many dev samples the chat adapter was trained without; a SearchError when it saw them."""
    manifest = read_json(config.paths.adapter_manifest("chat"))
    held_out = int(manifest.get("held_out", 0))
    if held_out == 0:
        raise SearchError("the chat adapter was trained on the dev split the search would score on (its "
                          "manifest records no held-out samples), so the search would reward memorising it")
    return held_out


def fixed_proposals(config: LabConfig, steps: dict[str, list[int]]) -> list[Proposal]:
    """The config's chat+blog blends as trials (5:5, 7:2, 9:1 by default), so the plot marks them."""
    out = []
    for spec in config.blends:
        if set(spec.weights) != set(PARENTS) or spec.method not in ("cat", "svd"):
            continue
        total = sum(spec.weights.values())
        if total <= 0:
            continue
        strength = 1.0 if spec.normalize else total / 10
        chosen = {p: (spec.steps or {}).get(p, steps[p][-1]) for p in PARENTS}
        out.append(Proposal(spec.weights["chat"] / total, strength, chosen, fixed=spec.name))
    return out


def propose(trial, config: LabConfig, steps: dict[str, list[int]]) -> Proposal:
    low, high = config.search.strength
    share = trial.suggest_float("chat_share", 0.0, 1.0)
    strength = trial.suggest_float("strength", low, high, log=high > low)
    chosen = {p: (trial.suggest_categorical(f"{p}_step", steps[p]) if config.search.checkpoints else steps[p][-1])
              for p in PARENTS}
    return Proposal(share, strength, chosen, fixed=trial.user_attrs.get("fixed"))


def _params(proposal: Proposal, config: LabConfig) -> dict[str, Any]:
    params: dict[str, Any] = {"chat_share": proposal.chat_share, "strength": proposal.strength}
    if config.search.checkpoints:
        params.update({f"{p}_step": proposal.steps[p] for p in PARENTS})
    return params


def generate(config: LabConfig, entries: list[dict[str, Any]], items: list[EvalItem]) -> dict[str, dict[str, list[str]]]:
    """Every trial's replies to every dev context, in one mixed-adapter batch on the local engine (a trial's
    adapter exists only for this search, so no server has it loaded)."""
    registry = {**load_registry(config.paths), "variants": entries}
    engine = LocalEngine(registry, max_batch=config.serve.max_batch)
    settings, samples = config.eval, config.search.samples_per_context
    jobs = [(entry["name"], item, k) for item in items for k in range(samples) for entry in entries]
    requests = [ChatRequest(name, item.context, GenerationParams(settings.max_tokens, settings.temperature,
                                                                 settings.top_p, settings.seed + k))
                for name, item, k in jobs]
    results = engine.submit(requests).result()
    out: dict[str, dict[str, list[str]]] = {entry["name"]: {} for entry in entries}
    for (name, item, _), result in zip(jobs, results):
        out[name].setdefault(item.id, []).append(result.text)
    return out


def run_search(config: LabConfig, *, progress: bool = True) -> SearchLog:
    import optuna

    say = print if progress else (lambda message: None)
    settings = config.search
    folders = adapter_folders(config)
    steps = {parent: list(by_step) for parent, by_step in folders.items()}
    held_out = check_dev_held_out(config)
    seed = config.eval.seed
    profile = load_profile(config.paths.chat_train, seed=seed)
    items = select_items(profile.dev, settings.contexts, seed)
    say(f"search: {settings.trials} trials on {len(items)} of {len(profile.dev)} dev contexts (the latest "
        f"{held_out} training samples, held out of the chat adapter) x {settings.samples_per_context} samples")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fixed = fixed_proposals(config, steps)[:settings.trials]
    startup = max(1, (settings.trials - len(fixed)) // 3)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for proposal in fixed:
        study.enqueue_trial(_params(proposal, config), user_attrs={"fixed": proposal.fixed})

    shutil.rmtree(config.paths.search / "trials", ignore_errors=True)
    # one base with every step of both adapters attached: each trial's blend is built on it, nothing reloads
    model = load_parents(config, {adapter_key(p, step): folder for p, by_step in folders.items()
                                  for step, folder in by_step.items()})
    # the metrics and weights are fitted once, and one encoder embeds the dev contexts and controls once,
    # for every round and the final comparison
    options = {"embedding_model": config.eval.embedding_model, "encoder": Encoder(config.eval.embedding_model)}
    fitted = fit(profile, weights=config.eval.weights, options=options, n_boot=settings.n_bootstrap, seed=seed)
    trials: list[SearchTrial] = []
    replies: dict[str, dict[str, list[str]]] = {}
    started = time.time()
    while len(trials) < settings.trials:
        batch = [study.ask() for _ in range(min(settings.batch, settings.trials - len(trials)))]
        proposals = [propose(trial, config, steps) for trial in batch]
        entries = []
        for trial, proposal in zip(batch, proposals):
            name = f"trial-{trial.number:03d}"
            entry = build_blend(config, proposal.spec(name), model=model,
                                out_dir=config.paths.search_trial(trial.number))
            entries.append(entry)
        round_replies = generate(config, entries, items)
        replies.update(round_replies)
        result = score(profile, items, round_replies, n_boot=settings.n_bootstrap, seed=seed, fitted=fitted)
        for trial, proposal, entry in zip(batch, proposals, entries):
            row = result.scores["variants"][entry["name"]]
            fidelity = row.get("fidelity")
            if fidelity is None or math.isnan(fidelity):  # the anchors could not be separated
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, fidelity)
            trials.append(SearchTrial(number=trial.number, name=entry["name"], fixed=proposal.fixed,
                                      chat_share=proposal.chat_share, strength=proposal.strength,
                                      steps=proposal.steps, applied_weights=entry["applied_weights"],
                                      fidelity=fidelity, fidelity_ci=row.get("fidelity_ci")))
            say(f"search: {entry['name']} {_describe(trials[-1])}")
        say(f"search: {len(trials)}/{settings.trials} trials, {time.time() - started:.0f} s")

    best = max((t for t in trials if t.fidelity is not None), key=lambda t: t.fidelity, default=None)
    log = SearchLog(lab=config.name, dev_items=len(items), samples_per_context=settings.samples_per_context,
                    sampler=f"optuna {optuna.__version__} TPE (seed {seed}, {startup} random start)",
                    trials=trials, best=best.name if best else None,
                    dev_recommendation=_compare_on_dev(config, profile, items, replies, best, trials, fitted),
                    created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    write_search_log(config.paths, log)
    if best is not None:
        register_auto(config, best, log)
    return log


def _compare_on_dev(config: LabConfig, profile, items, replies, best: SearchTrial | None, trials,
                    fitted: Fitted):
    """The best trial against the fixed ratios on the dev split, paired: is it separable from them?"""
    if best is None:
        return None
    fixed = [t.name for t in trials if t.fixed and t.name != best.name]
    chosen = {name: replies[name] for name in [best.name, *fixed]}
    result = score(profile, items, chosen, n_boot=config.search.n_bootstrap, seed=config.eval.seed, fitted=fitted)
    return result.scores["recommendation"]


def register_auto(config: LabConfig, best: SearchTrial, log: SearchLog) -> dict[str, Any]:
    """Copy the best trial's blend to search/auto as the variant ``auto``, with its lineage, and register it."""
    source = config.paths.search_trial(best.number)
    target = config.paths.search_auto
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    entry = read_json(source / "blend_manifest.json")
    entry.update({"name": "auto", "path": str(target), "search": {
        "trial": best.name, "dev_fidelity": best.fidelity, "dev_fidelity_ci": best.fidelity_ci,
        "chat_share": best.chat_share, "strength": best.strength, "trials": len(log.trials),
        "dev_items": log.dev_items, "sampler": log.sampler, "log": str(config.paths.search_log)}})
    (target / "blend_manifest.json").write_text(json.dumps(entry, indent=1), "utf-8")
    write_registry(config)
    return entry


def _describe(trial: SearchTrial) -> str:
    steps = ", ".join(f"{p}@{s}" for p, s in trial.steps.items())
    label = f" ({trial.fixed})" if trial.fixed else ""
    fidelity = "n/a" if trial.fidelity is None else f"{trial.fidelity:.3f}"
    ci = f" [{trial.fidelity_ci[0]:.2f}, {trial.fidelity_ci[1]:.2f}]" if trial.fidelity_ci else ""
    return (f"chat share {trial.chat_share:.2f}, strength {trial.strength:.2f}, {steps}{label}: "
            f"dev fidelity {fidelity}{ci}")
