"""Every path of a lab's workspace, ``results/<lab>/`` by default. No other module joins a workspace path.

    data/        ingest: messages, chat_train, chat_eval, blog_train, reports, DATA_CARD.md, canaries
    adapters/    train: one folder per source (checkpoint-N/, final/, manifest.json)
    blends/      blend: one folder per blend; variants.json beside them is the registry
    tuned/       tune: one folder per tuned variant (adapter/, tune_manifest.json, pairs.jsonl, tune_log.jsonl)
    eval/        eval: replies/<variant>.jsonl (the reply cache), scores.json, report.md/html, plots
    arena.db     arena: votes (SQLite; PostgreSQL when arena.db_url is set)
    run_manifest.json  the loop's record of what each stage read and wrote
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The two training sources, in the order adapters are trained and blends name them.
SOURCES = ("chat", "blog")


@dataclass(frozen=True)
class ReportFolder:
    """What persona-eval writes into one folder: ``eval/`` of a lab, or any ``--out`` of `persona-eval score`."""

    root: Path

    @property
    def scores(self) -> Path:
        return self.root / "scores.json"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def snapshot(self) -> Path:
        """replies.json: the items and replies the report was built from, and the masked texts it showed."""
        return self.root / "replies.json"

    def plot(self, name: str) -> Path:
        return self.root / f"{name}.png"


@dataclass(frozen=True)
class Workspace:
    root: Path

    # -------------------------------------------------------------------------------- data/ (ingest)
    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def messages(self) -> Path:
        return self.data / "messages.jsonl"

    def train_file(self, source: str) -> Path:
        """``data/chat_train.jsonl`` or ``data/blog_train.jsonl``."""
        return self.data / f"{source}_train.jsonl"

    @property
    def chat_train(self) -> Path:
        return self.train_file("chat")

    @property
    def blog_train(self) -> Path:
        return self.train_file("blog")

    @property
    def chat_eval(self) -> Path:
        return self.data / "chat_eval.jsonl"

    @property
    def pii_report(self) -> Path:
        return self.data / "pii_report.json"

    @property
    def ingest_report(self) -> Path:
        return self.data / "ingest_report.json"

    @property
    def surrogate_names(self) -> Path:
        return self.data / "surrogate_names.json"

    @property
    def canaries(self) -> Path:
        return self.data / "canaries.json"

    @property
    def data_card(self) -> Path:
        return self.data / "DATA_CARD.md"

    def sources(self) -> list[str]:
        """The sources with training data: chat always, blog when the lab has posts."""
        return [s for s in SOURCES if s == "chat" or self.train_file(s).exists()]

    # -------------------------------------------------------------------------------- adapters/ (train)
    def adapter_run(self, source: str) -> Path:
        return self.root / "adapters" / source

    def adapter_manifest(self, source: str) -> Path:
        return self.adapter_run(source) / "manifest.json"

    # -------------------------------------------------------------------------------- blends/ (blend)
    @property
    def blends(self) -> Path:
        return self.root / "blends"

    def blend(self, name: str) -> Path:
        return self.blends / name

    @property
    def search(self) -> Path:
        """The blend search: its trials' adapters, study log and the best blend (``auto``)."""
        return self.root / "search"

    def search_trial(self, number: int) -> Path:
        return self.search / "trials" / f"trial-{number:03d}"

    @property
    def search_auto(self) -> Path:
        return self.search / "auto"

    @property
    def search_log(self) -> Path:
        return self.search / "trials.json"

    @property
    def search_plot(self) -> Path:
        return self.search / "fidelity_by_share.png"

    @property
    def variants(self) -> Path:
        return self.root / "variants.json"

    # -------------------------------------------------------------------------------- tuned/ (tune)
    @property
    def tuned_root(self) -> Path:
        return self.root / "tuned"

    def tuned(self, name: str) -> Path:
        """One tuned variant's folder."""
        return self.tuned_root / name

    def tuned_adapter(self, name: str) -> Path:
        """The tuned adapter (a standard PEFT folder; what serving and blends load)."""
        return self.tuned(name) / "adapter"

    def tune_manifest(self, name: str) -> Path:
        return self.tuned(name) / "tune_manifest.json"

    def tune_pairs(self, name: str) -> Path:
        """The preference data the run used (pairs or KTO examples), each marked train or held-out."""
        return self.tuned(name) / "pairs.jsonl"

    def tune_log(self, name: str) -> Path:
        return self.tuned(name) / "tune_log.jsonl"

    # -------------------------------------------------------------------------------- eval/
    @property
    def eval(self) -> Path:
        return self.root / "eval"

    @property
    def replies_dir(self) -> Path:
        return self.eval / "replies"

    def replies(self, variant: str) -> Path:
        """The reply cache of one variant: one line per (context id, sample)."""
        return self.replies_dir / f"{variant}.jsonl"

    def probe_replies(self, variant: str) -> Path:
        return self.replies_dir / f"{variant}.probes.jsonl"

    @property
    def report_folder(self) -> ReportFolder:
        return ReportFolder(self.eval)

    @property
    def scores(self) -> Path:
        return self.report_folder.scores

    @property
    def report(self) -> Path:
        return self.report_folder.report

    @property
    def report_html(self) -> Path:
        return self.report_folder.report_html

    @property
    def judge_cache(self) -> Path:
        return self.eval / "judge.jsonl"

    # -------------------------------------------------------------------------------- arena, loop, caches
    @property
    def arena_db(self) -> Path:
        return self.root / "arena.db"

    @property
    def arena_votes_export(self) -> Path:
        return self.root / "arena_votes.jsonl"

    @property
    def chat_export(self) -> Path:
        return self.root / "chat_export"

    @property
    def run_manifest(self) -> Path:
        return self.root / "run_manifest.json"

    @property
    def vllm_log(self) -> Path:
        return self.root / "vllm.log"

    def cache(self, name: str) -> Path:
        return self.root / ".cache" / name
