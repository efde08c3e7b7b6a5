"""The shapes that cross a stage boundary, each read and written here and nowhere else.

  training sample  data/{chat,blog}_train.jsonl   {"id","source","facet","ts","messages":[{role,content}…]}
                                                   my replies are the assistant turns (TRL's messages format)
  evaluation item  data/chat_eval.jsonl           {"id","facet","conversation","context":[messages],"reply"}
  candidate reply  eval/replies/<variant>.jsonl   {"id","sample","reply", generation settings…}
  variant          variants.json                  {"lab","base_model","base_path","chat_template","variants":[…]}
  search log       search/trials.json             every blend the search tried, its dev fidelity and the best
  tune manifest    tuned/<name>/tune_manifest.json the lineage of a preference-tuned adapter (TuneManifest)
  scores           eval/scores.json               what persona-eval measured (evaluate/score.py builds it)
  vote             arena.db                       workspace/votes.py (SQLite or PostgreSQL)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from persona_lab.errors import WorkspaceError
from persona_lab.workspace.files import ShapeError, append_jsonl, iter_jsonl, read_json, write_json_atomic
from persona_lab.workspace.paths import Workspace

# ------------------------------------------------------------------------------------- training sample


def iter_training_samples(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, sample) for every sample whose ``messages`` is a list of {role, content} dicts."""
    for number, row in iter_jsonl(path):
        messages = row.get("messages") if isinstance(row, dict) else None
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise ShapeError(f"{path}:{number}: not a messages-format sample (no 'messages' list)")
        yield number, row


def my_reply(sample: dict[str, Any]) -> str | None:
    """The sample's last turn when it is mine (an assistant turn of text), else None."""
    messages = sample["messages"]
    if not messages or messages[-1].get("role") != "assistant" or not isinstance(messages[-1].get("content"), str):
        return None
    return messages[-1]["content"]


# The dev slice: the latest of my training replies by time. The metrics fit nothing on it (the composite's
# weights are fitted on controls built from it), and the blend search scores its trials on it; when the
# search is on, training leaves it out too, so no trial is scored on contexts its adapters learned.
DEV_FRACTION, DEV_MAX, DEV_MIN_TRAIN = 0.15, 400, 60


def replies_by_time(path: Path, limit: int = 50_000) -> list[tuple[dict[str, Any], int]]:
    """(sample, line number) of the first ``limit`` samples ending in my reply, canaries left out, in time
    order when every sample has a time (ties in file order)."""
    samples = []
    for number, row in iter_training_samples(path):
        messages = row["messages"]
        if row.get("canary") or not messages or messages[-1].get("role") != "assistant":
            continue
        samples.append((row, number))
        if len(samples) >= limit:
            break
    if samples and all(row.get("ts") for row, _ in samples):
        samples.sort(key=lambda pair: (str(pair[0]["ts"]), pair[1]))
    return samples


def dev_size(n: int) -> int:
    return min(DEV_MAX, int(n * DEV_FRACTION)) if n >= DEV_MIN_TRAIN else 0


def dev_ids(path: Path) -> set[str]:
    """The ids of the dev slice of a training file (see ``replies_by_time``)."""
    samples = replies_by_time(path)
    return {str(row.get("id")) for row, _ in samples[len(samples) - dev_size(len(samples)):]}


# ------------------------------------------------------------------------------------- evaluation item


@dataclass
class EvalItem:
    id: str
    context: list[dict]
    reply: str
    facet: str = ""
    conversation: str = ""  # items of one conversation share it (ingest writes it; else inferred)

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, "context": self.context, "reply": self.reply, "facet": self.facet,
                "conversation": self.conversation}


def read_eval_items(path: Path) -> list[EvalItem]:
    items = []
    for number, row in iter_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get("reply"), str) or "id" not in row:
            raise ShapeError(f"{path}:{number}: an evaluation item needs 'id' and 'reply'")
        context = row.get("context") or []
        if not isinstance(context, list) or not all(isinstance(m, dict) for m in context):
            raise ShapeError(f"{path}:{number}: 'context' must be a list of {{role, content}} messages")
        items.append(EvalItem(str(row["id"]), context, row["reply"], str(row.get("facet") or ""),
                              str(row.get("conversation") or "")))
    if not items:
        raise ShapeError(f"{path}: no evaluation items")
    return items


# ------------------------------------------------------------------------------------- candidate reply


def read_candidates(path: Path, ids: list[str]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Replies by id from any system's ``{"id","reply"}`` file (several lines with one id are several
    samples); returns (replies, ids missing from the file, ids in the file but not in ``ids``)."""
    replies: dict[str, list[str]] = {}
    for number, row in iter_jsonl(path):
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("reply"), str):
            raise ShapeError(f"{path}:{number}: a candidate line needs 'id' and 'reply'")
        replies.setdefault(str(row["id"]), []).append(row["reply"])
    known = set(ids)
    missing = [i for i in ids if i not in replies]
    extra = [i for i in replies if i not in known]
    return {i: r for i, r in replies.items() if i in known}, missing, extra


def read_reply_cache(path: Path) -> dict[str, list[str]]:
    """A variant's reply cache as id -> replies in sample order; empty when there is none yet. Lines
    without a ``sample`` field (older caches) are sample 0."""
    if not path.exists():
        return {}
    by_id: dict[str, dict[int, str]] = {}
    for number, row in iter_jsonl(path):
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("reply"), str):
            raise ShapeError(f"{path}:{number}: a cached reply needs 'id' and 'reply'",
                             hint="delete the file: the evaluation generates what is missing")
        by_id.setdefault(row["id"], {})[int(row.get("sample", 0))] = row["reply"]
    return {i: [samples[k] for k in sorted(samples)] for i, samples in by_id.items()}


def append_reply_cache(path: Path, rows: list[dict[str, Any]]) -> None:
    append_jsonl(path, rows)


def read_first_replies(path: Path) -> dict[str, str]:
    """id -> the first sampled reply of one cache (what the arena's "Real or clone?" shows)."""
    return {i: samples[0] for i, samples in read_reply_cache(path).items() if samples}


def cached_first_replies(workspace: Workspace) -> dict[str, dict[str, str]]:
    """variant -> id -> its first sampled reply, for every variant with a cache."""
    out: dict[str, dict[str, str]] = {}
    if workspace.replies_dir.exists():
        for path in sorted(workspace.replies_dir.glob("*.jsonl")):
            if not path.name.endswith(".probes.jsonl"):
                out[path.stem] = read_first_replies(path)
    return out


# ------------------------------------------------------------------------------------- variant registry

VariantKind = Literal["base", "prompted", "retrieval", "adapter", "blend"]


class Variant(BaseModel):
    """One servable variant; kind-specific lineage (rank, steps, parents, weights…) rides along."""

    model_config = ConfigDict(extra="allow")
    name: str
    kind: VariantKind
    path: str
    system_prompt: str | None = None


class Registry(BaseModel):
    model_config = ConfigDict(extra="allow")
    lab: str
    base_model: str
    base_path: str
    chat_template: str | None = None
    variants: list[Variant]


class TuneManifest(BaseModel):
    """What ``persona-lab tune`` wrote about one tuned adapter: its lineage, data and held-out margins."""

    model_config = ConfigDict(extra="allow")
    name: str
    tuned_from: str
    parent_kind: str
    parent_path: str
    method: Literal["spin", "dpo", "kto"]
    adapter: str
    rank: int
    iterations: int
    steps: int
    data_hash: str
    train_examples: int
    held_out_examples: int
    votes: int  # arena records (votes, guesses, ratings) the data came from; 0 for spin
    margin_before: float | None
    margin_after: float | None
    created: str


def read_tune_manifest(path: Path) -> TuneManifest:
    try:
        return TuneManifest.model_validate(read_json(path))
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise ShapeError(f"{path}: not a tune manifest ({where})",
                         hint="re-run `persona-lab tune --config CFG`") from None


def tuned_variant_entry(manifest: TuneManifest) -> dict[str, Any]:
    """A tuned adapter's registry entry: kind "adapter" (every engine serves and blends it as one), with its
    lineage in ``tuned_from``/``method`` (the evaluation compares it with ``tuned_from``)."""
    return {"name": manifest.name, "kind": "adapter", "path": manifest.adapter, "rank": manifest.rank,
            "tuned_from": manifest.tuned_from, "method": manifest.method, "iterations": manifest.iterations,
            "steps": manifest.steps, "data_hash": manifest.data_hash, "votes": manifest.votes,
            "train_examples": manifest.train_examples, "held_out_margin_before": manifest.margin_before,
            "held_out_margin_after": manifest.margin_after,
            # held-out items kto learned from (guesses and ratings are about them): the evaluation leaves them out
            "eval_items_trained": sorted(getattr(manifest, "eval_items_used", None) or []),
            "created": manifest.created}


def tuned_variant_entries(workspace: Workspace) -> list[dict[str, Any]]:
    """The registry entries of every tuned adapter on disk, by name."""
    if not workspace.tuned_root.exists():
        return []
    return [tuned_variant_entry(read_tune_manifest(workspace.tune_manifest(folder.name)))
            for folder in sorted(workspace.tuned_root.iterdir())
            if workspace.tune_manifest(folder.name).exists()]


def load_registry(workspace: Workspace) -> dict[str, Any]:
    """variants.json, checked against ``Registry``, as the plain dict every reader uses."""
    path = workspace.variants
    if not path.exists():
        raise WorkspaceError(f"{path}: no variant registry yet",
                             hint="run `persona-lab train` and `persona-lab blend` (or `persona-lab run`)")
    raw = read_json(path)
    try:
        Registry.model_validate(raw)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise ShapeError(f"{path}: not a variant registry ({where})",
                         hint="rebuild it with `persona-lab blend --config CFG`") from None
    return raw


def write_registry_file(workspace: Workspace, registry: dict[str, Any]) -> None:
    Registry.model_validate(registry)  # a writer bug fails here, not in the reader of the next stage
    write_json_atomic(workspace.variants, registry)


# ------------------------------------------------------------------------------------- search log


class SearchTrial(BaseModel):
    number: int
    name: str
    fixed: str | None = None  # the config blend this trial reproduces (5:5, 7:2, 9:1…), else proposed by TPE
    chat_share: float
    strength: float
    steps: dict[str, int]
    applied_weights: dict[str, float]
    fidelity: float | None = None
    fidelity_ci: list[float] | None = None


class SearchLog(BaseModel):
    lab: str
    dev_items: int
    samples_per_context: int
    sampler: str
    trials: list[SearchTrial]
    best: str | None
    dev_recommendation: dict[str, Any] | None = None  # paired comparisons of the best with the fixed ratios
    created: str


def write_search_log(workspace: Workspace, log: SearchLog) -> None:
    write_json_atomic(workspace.search_log, log.model_dump(mode="json"))


def read_search_log(workspace: Workspace) -> SearchLog | None:
    """search/trials.json, or None when the search never ran."""
    path = workspace.search_log
    if not path.exists():
        return None
    try:
        return SearchLog.model_validate(read_json(path))
    except ValidationError as exc:
        raise ShapeError(f"{path}: not a search log ({exc.errors()[0]['msg']})",
                         hint="rerun `persona-lab search --config CFG`") from None


# ------------------------------------------------------------------------------------- scores


def read_scores(workspace: Workspace) -> dict[str, Any] | None:
    """eval/scores.json, or None before the first evaluation."""
    return read_json(workspace.scores) if workspace.scores.exists() else None
