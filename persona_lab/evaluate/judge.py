"""An automated "real or clone?" judge: an LLM behind any OpenAI-compatible endpoint (``eval.judge``) reads
the end of a conversation and two replies — my real one and a variant's — and names the real one.

Each judged context is asked twice, the real reply once as A and once as B, so a judge that always says "A"
is fooled exactly half the time rather than never or always; its position bias is reported. The fool rate
of a variant is the share of answered questions in which the judge took the variant's reply for mine (50% =
indistinguishable to this judge); its 95% interval comes from a bootstrap over contexts (the two orders of
one context are not independent). Controls are judged too (``judge.controls``): if the judge cannot tell
another person's lines from mine, its verdict on the variants means little. Answers that name neither
reply are counted and left out. The variant's reply shown is its first sample, the one the arena's
"Real or clone?" shows people, so the judge's verdicts can be compared with the humans' item by item.

Answers are cached in ``eval/judge.jsonl`` by (judge model, candidate, item, order, reply text).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

from persona_lab.ratings import fool_rates
from persona_lab.serve.backend import ChatRequest, GenerationParams
from persona_lab.serve.openai_backend import OpenAIBackend

SYSTEM = ("You will read the end of a chat and two candidate replies. One was written by {persona}; the other "
          "was written by someone imitating {persona}. Answer with one letter, A or B: the reply {persona} "
          "really wrote.")
QUESTION = "Chat so far:\n{context}\n\nReply A: {a}\nReply B: {b}\n\nWhich reply did {persona} really write? Answer A or B."
ANSWER = re.compile(r"(?<![A-Za-z])([AB])(?![A-Za-z])")
CONTEXT_TURNS = 6


def judge_messages(persona: str, context: list[dict], a: str, b: str) -> list[dict[str, str]]:
    lines = []
    for message in [m for m in context if m.get("role") != "system"][-CONTEXT_TURNS:]:
        who = persona if message.get("role") == "assistant" else "Them"
        lines.append(f"{who}: {message.get('content', '')}")
    return [{"role": "system", "content": SYSTEM.format(persona=persona)},
            {"role": "user", "content": QUESTION.format(context="\n".join(lines) or "(a new conversation)",
                                                        a=a, b=b, persona=persona)}]


def parse_answer(text: str) -> str | None:
    """'A' or 'B' when the answer names exactly one of them first; None otherwise."""
    match = ANSWER.search(text.strip().upper()[:40])
    return match.group(1) if match else None


def run_judge(settings, persona: str, items: list, replies: dict[str, dict[str, list[str]]],
              candidates: list[str], cache_path: Path, seed: int, backend=None) -> dict[str, Any]:
    """Judge every candidate (variants and the configured controls) on a seeded sample of contexts."""
    if backend is None:
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        backend = OpenAIBackend(settings.base_url, ["judge"], models={"judge": settings.model}, api_key=key,
                                timeout_s=settings.timeout_s, max_retries=settings.max_retries)
    sample = sorted(random.Random(seed).sample(range(len(items)), min(settings.n, len(items))))
    cache = _read_cache(cache_path)
    questions = []  # (candidate, item index, real_is_a, key, messages)
    for candidate in candidates:
        for i in sample:
            item = items[i]
            clone = (replies.get(candidate, {}).get(item.id) or [None])[0]
            if clone is None:
                continue
            for real_is_a in (True, False):
                a, b = (item.reply, clone) if real_is_a else (clone, item.reply)
                key = _key(settings.model, candidate, item.id, real_is_a, clone)
                questions.append((candidate, i, real_is_a, key, judge_messages(persona, item.context, a, b)))
    todo = [q for q in questions if q[3] not in cache]
    if todo:
        params = GenerationParams(settings.max_tokens, 0.0, 1.0, seed)
        answers = backend.chat_batch([ChatRequest("judge", q[4], params) for q in todo])
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        with cache_path.open("a", encoding="utf-8") as handle:
            for question, answer in zip(todo, answers):
                cache[question[3]] = answer.text
                handle.write(json.dumps({"key": question[3], "candidate": question[0], "item": items[question[1]].id,
                                         "real_is_a": question[2], "answer": answer.text}, ensure_ascii=False) + "\n")
    return summarise_verdicts(
        [(c, items[i].id, real_is_a, parse_answer(cache[key])) for c, i, real_is_a, key, _ in questions],
        candidates, settings.model, len(sample), seed)


def summarise_verdicts(verdicts: list[tuple[str, str, bool, str | None]], candidates: list[str], model: str,
                       contexts: int, seed: int = 0) -> dict[str, Any]:
    """verdicts: (candidate, item id, real reply shown as A?, answer 'A'/'B'/None)."""
    out: dict[str, Any] = {"model": model, "contexts": contexts, "candidates": {}}
    answered = [v for v in verdicts if v[3] is not None]
    out["questions"], out["unparseable"] = len(verdicts), len(verdicts) - len(answered)
    out["answer_a_share"] = float(np.mean([v[3] == "A" for v in answered])) if answered else None
    rng = np.random.default_rng(seed)
    for candidate in candidates:
        per_item: dict[str, list[float]] = {}
        for c, item, real_is_a, answer in answered:
            if c == candidate:
                fooled = (answer == "A") != real_is_a  # picked the clone's slot
                per_item.setdefault(item, []).append(float(fooled))
        trials = sum(len(v) for v in per_item.values())
        if not trials:
            out["candidates"][candidate] = {"answered": 0}
            continue
        rates = np.array([np.mean(v) for v in per_item.values()])
        weights = np.array([len(v) for v in per_item.values()], dtype=float)
        boot = []
        for _ in range(1000):
            pick = rng.integers(0, len(rates), len(rates))
            boot.append(float(np.average(rates[pick], weights=weights[pick])))
        out["candidates"][candidate] = {
            "fool_rate": float(np.average(rates, weights=weights)), "ci": np.quantile(boot, [0.025, 0.975]).tolist(),
            "answered": trials, "contexts": len(per_item),
            "per_item": {item: float(np.mean(v)) for item, v in per_item.items()}}
    return out


def agreement_with_humans(judge: dict[str, Any], guesses: list[dict[str, Any]]) -> dict[str, Any]:
    """Judge against the arena's human "Real or clone?" guesses: fool rates side by side per variant, and
    per (context, variant) judged by both, whether judge and people were fooled alike (majority of each)."""
    if not guesses:
        return {"guesses": 0}
    human = fool_rates([{"variant": g["variant"], "fooled": bool(g["fooled"])} for g in guesses])
    by_pair: dict[tuple[str, str], list[float]] = {}
    for g in guesses:
        by_pair.setdefault((g["variant"], g["item_id"]), []).append(float(bool(g["fooled"])))
    same = []
    for (variant, item), fooled in by_pair.items():
        judged = judge["candidates"].get(variant, {}).get("per_item", {}).get(item)
        if judged is not None and judged != 0.5 and np.mean(fooled) != 0.5:
            same.append((judged > 0.5) == (np.mean(fooled) > 0.5))
    rows = {v: {"human": human[v]["fool_rate"], "human_ci": [human[v]["ci_low"], human[v]["ci_high"]],
                "human_n": human[v]["n"], "judge": judge["candidates"].get(v, {}).get("fool_rate")}
            for v in human}
    both = [(r["human"], r["judge"]) for r in rows.values() if r["judge"] is not None]
    tau = None
    if len(both) >= 3:
        from scipy.stats import kendalltau

        value = kendalltau([h for h, _ in both], [j for _, j in both]).statistic
        tau = None if np.isnan(value) else float(value)
    return {"guesses": len(guesses), "variants": rows, "kendall_tau": tau,
            "item_agreement": float(np.mean(same)) if same else None, "items_compared": len(same)}


def _key(model: str, candidate: str, item: str, real_is_a: bool, reply: str) -> str:
    digest = hashlib.sha1(reply.encode("utf-8")).hexdigest()[:12]
    return f"{model}|{candidate}|{item}|{'real-a' if real_is_a else 'real-b'}|{digest}"


def _read_cache(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    # split on "\n" only: str.splitlines also splits on \x85, \u2028 … which a generated reply may hold and
    # json.dumps(ensure_ascii=False) writes as they are (a tiny model's reply with \x85 broke a cache)
    for line in path.read_text("utf-8").split("\n"):
        if line.strip():
            row = json.loads(line)
            out[row["key"]] = row["answer"]
    return out
