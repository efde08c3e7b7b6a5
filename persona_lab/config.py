"""The lab config: pydantic models of ``configs/<lab>.yaml``. The one place defaults live.

Every model forbids unknown keys, so a mistyped key is an error that names the key and the file rather
than a setting silently ignored. Paths in a config are relative to the config file's folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from persona_lab.errors import PersonaLabError
from persona_lab.registries import COMPOSITE_METRICS, ENGINES, IMPORTERS, MERGE_METHODS, check_name
from persona_lab.timeparse import parse_time, zone
from persona_lab.workspace.paths import SOURCES, Workspace

LAB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(Strict):
    """One chat export: a file or a folder of files."""

    path: Path = Field(description="Export file or folder, relative to the config file.")
    format: str = Field("auto", description="Importer name, or 'auto' to detect it from the file.",
                        json_schema_extra={"one_of": ["auto", *IMPORTERS.names()]})
    me: list[str] = Field(default_factory=list, description="Extra names/ids that are me in this source only.")

    @field_validator("format")
    @classmethod
    def _known_importer(cls, value: str) -> str:
        return value if value == "auto" else check_name(IMPORTERS, value)


class IngestSettings(Strict):
    merge_window_s: float = Field(120, ge=0, description="Merge consecutive messages of one sender within this many seconds.")
    session_gap_s: float = Field(3600, gt=0, description="A silence longer than this starts a new session.")
    context_turns: int = Field(8, ge=0, le=64, description="At most this many preceding turns in a sample's context.")
    eval_fraction: float = Field(0.1, ge=0, lt=1, description="The latest fraction of my replies held out for evaluation.")
    eval_from: str | None = Field(
        None, description="Hold out my replies from this date/time on instead (e.g. '2001-09-01', read in the "
        "lab's timezone); replaces eval_fraction.")
    facet_in_system_prompt: bool = Field(True, description="Put the facet (who I am talking to) in a system line.")
    system_prompt: str = Field(
        "You are {me}, chatting with {facet_phrase}. Reply as {me} would.",
        description="System line of every sample; {me}, {facet} and {facet_phrase} are filled in.",
    )
    opener_marker: str = Field(
        "[new conversation]",
        description="User text of a sample whose reply opens a conversation (nothing before it in the session).",
    )
    group_speaker_prefix: bool = Field(True, description="In group chats, prefix each line with its speaker's name.")
    data_card_sample: int = Field(200_000, gt=0, description="Messages per side used to mine distinctive words.")


class PrivacySettings(Strict):
    enabled: bool = Field(True, description="Mask private values in every message before it is written.")
    mode: Literal["surrogate", "placeholder"] = Field(
        "surrogate", description="surrogate: replace each private value with a consistent realistic fake of its "
        "type and shape (the same value, the same fake); placeholder: with [TYPE] (brackets a clone learns to say).")
    extra_names: list[str] = Field(default_factory=list, description="Names to mask besides the contacts found in the exports.")
    blocked_words: list[str] = Field(default_factory=list, description="Words or phrases to mask wherever they appear.")
    mask_contact_names: bool = Field(True, description="Mask contacts' names found in the export and pseudonymise people in output files.")
    canaries: int = Field(0, ge=0, le=1000, description="Secret-shaped canaries planted in training copies (exposure test).")


class LLMEndpoint(Strict):
    base_url: str = Field(description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.")
    model: str = Field(description="Model name to ask.")
    api_key_env: str | None = Field(None, description="Environment variable holding the API key, if one is needed.")
    timeout_s: float = Field(60, gt=0, description="Per-request timeout.")
    max_retries: int = Field(2, ge=0, description="Retries on unreachable endpoint or invalid JSON.")


class Blog2QASettings(Strict):
    mode: Literal["offline", "llm"] = Field("offline", description="offline: templates + the author's sentences; llm: ask an endpoint.")
    llm: LLMEndpoint | None = Field(None, description="Endpoint for mode 'llm'.")
    answer_chars: int | None = Field(
        None, gt=0, description="Target answer length in characters; default 3x my median chat reply length."
    )
    max_pairs_per_post: int = Field(40, gt=0, description="Cap on Q&A pairs from one post.")
    language: Literal["auto", "zh", "en"] = Field("auto", description="Question language; auto detects per post.")


class TrainSettings(Strict):
    """LoRA SFT hyper-parameters for one source's adapter."""

    rank: int = Field(8, gt=0, le=256, description="LoRA rank r.")
    alpha: int = Field(16, gt=0, description="LoRA alpha (scaling = alpha / r).")
    dropout: float = Field(0.05, ge=0, lt=1, description="LoRA dropout.")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="Modules to adapt: 'all-linear' or names such as [q_proj, v_proj].")
    lr: float = Field(2e-4, gt=0, description="Peak learning rate (cosine schedule with warm-up).")
    epochs: float = Field(2, gt=0, description="Passes over the training file.")
    max_steps: int | None = Field(None, gt=0, description="Stop after this many optimiser steps (caps epochs).")
    max_length: int = Field(512, ge=32, description="Tokens per sample; longer samples lose their oldest context.")
    batch_size: int = Field(8, gt=0, description="Samples per device step.")
    grad_accum: int = Field(1, gt=0, description="Gradient accumulation steps.")
    save_steps: int = Field(50, gt=0, description="Checkpoint every this many optimiser steps.")
    batching: Literal["padded", "grouped", "packed"] = Field(
        "grouped", description="padded: random batches; grouped: batches of similar length (less padding); "
        "packed: several samples per row (fastest, but without flash-attention samples in a row see each other).")
    warmup_ratio: float = Field(0.05, ge=0, lt=1, description="Share of steps spent warming up.")
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="auto: bf16 on a GPU, fp32 on CPU.")
    qlora: bool = Field(False, description="Load the base in 4-bit (bitsandbytes; CUDA only).")
    gradient_checkpointing: bool | None = Field(
        None, description="Recompute activations to save memory; default on with a GPU (7B bases), off on a "
        "CPU: 16-21% less training time here, but activations are kept (SmolLM2, batch 8 x 256 tokens: "
        "10 GB peak RSS); set true on a small-memory machine.")


class TrainConfig(Strict):
    chat: TrainSettings = Field(default_factory=TrainSettings)
    blog: TrainSettings = Field(default_factory=lambda: TrainSettings(epochs=2, max_length=256))
    seed: int | None = Field(None, description="Training seed; defaults to the lab seed.")


RESERVED_NAMES = ("base", "prompted", "retrieval", "auto", *SOURCES)  # variants the lab names itself


class BlendSpec(Strict):
    name: str = Field(description="Variant name, e.g. chat72.")
    weights: dict[str, float] = Field(description="Adapter -> weight, e.g. {chat: 7, blog: 2}.")
    method: str = Field("cat", description="PEFT add_weighted_adapter method; only 'cat' (and 'svd' at full "
                        "rank) is exact.", json_schema_extra={"one_of": MERGE_METHODS.names()})
    normalize: bool = Field(True, description="true: 7:2 -> 7/9, 2/9; false: 7:2 -> 0.7, 0.2.")
    steps: dict[str, int] | None = Field(None, description="Use a checkpoint step per adapter, e.g. {chat: 600}.")
    density: float = Field(0.5, gt=0, le=1, description="Kept share of weights for ties/dare_ties.")

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        return check_name(MERGE_METHODS, value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not LAB_NAME.match(value) or value in RESERVED_NAMES:
            raise ValueError(f"use letters, digits, '-', '_' or '.'; {'/'.join(RESERVED_NAMES)} are taken")
        return value


def default_blends() -> list[BlendSpec]:
    return [BlendSpec(name="chat55", weights={"chat": 5, "blog": 5}),
            BlendSpec(name="chat72", weights={"chat": 7, "blog": 2}),
            BlendSpec(name="chat91", weights={"chat": 9, "blog": 1})]


class OpenAIBackendSettings(Strict):
    base_url: str = Field(description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8001/v1.")
    api_key_env: str | None = Field(None, description="Environment variable holding the API key.")
    models: dict[str, str] = Field(default_factory=dict, description="Variant -> model name on that server "
                                   "(unlisted variants use their own name).")
    timeout_s: float = Field(120, gt=0, description="Per-request timeout in seconds.")


class VLLMSettings(Strict):
    python: str = Field(".venv-vllm/bin/python", description="Python of the environment where vLLM is installed.")
    dtype: str = Field("auto", description="float32 on CPU (bf16 is wrong on AVX2 CPUs); auto/bfloat16 on GPU.")
    max_model_len: int = Field(2048, gt=0, description="Context length vLLM reserves KV cache for.")
    tensor_parallel_size: int = Field(1, gt=0, description="GPUs per model (big bases).")
    gpu_memory_utilization: float | None = Field(None, gt=0, le=1, description="Share of GPU memory vLLM may take "
                                                  "(vLLM's default when null).")
    ready_timeout_s: float = Field(300, gt=0, description="Give up (with the log tail) if not ready by then.")
    extra_args: list[str] = Field(default_factory=list, description="Passed to the vLLM server as they are.")


class ServeSettings(Strict):
    engine: str = Field("local", description="Backend the arena and evaluation use.",
                        json_schema_extra={"one_of": ENGINES.names()})
    host: str = Field("127.0.0.1", description="Address `persona-lab serve` listens on.")
    port: int = Field(8000, gt=0, lt=65536, description="Port of the OpenAI-compatible API.")
    max_tokens_cap: int = Field(512, gt=0, description="Requests asking for more tokens get HTTP 400.")
    rate_limit_per_min: int = Field(120, gt=0, description="Requests per minute per client address.")
    max_batch: int = Field(16, gt=0, description="Requests decoded together by the local engine.")
    guard: bool = Field(True, description="Mask private values in replies (off only for raw-leakage evaluation).")
    openai: OpenAIBackendSettings | None = None
    vllm: VLLMSettings = Field(default_factory=VLLMSettings)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        return check_name(ENGINES, value)


# The terms of persona-eval's composite (the metric registry's "score" metrics), defined once here so a
# config naming another is refused when it is loaded, not after training.


class JudgeSettings(LLMEndpoint):
    """An LLM that reads a context and two replies (mine and a variant's) and says which is real."""

    n: int = Field(60, gt=0, description="Contexts judged per variant (a seeded sample); each is asked in both orders.")
    max_tokens: int = Field(8, gt=0, description="Answer length cap (the answer is one letter).")
    controls: list[str] = Field(default_factory=lambda: ["me_elsewhere", "other_person"],
                                description="Controls judged too, to show what the judge can tell apart.")


class EvalSettings(Strict):
    n: int | None = Field(200, gt=0, description="Held-out contexts to evaluate (a seeded sample); null for all.")
    seed: int = Field(0, description="Seed of the sample, the generation and the bootstrap.")
    max_tokens: int = Field(96, gt=0, description="Reply length cap when generating.")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature when generating.")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling: the smallest set of tokens holding this much "
                         "probability (the variants' replies and the privacy probes).")
    samples_per_context: int = Field(2, ge=1, le=16, description="Replies sampled per context and variant; the "
                                     "intervals cover both which contexts and what the model happened to sample.")
    n_bootstrap: int = Field(200, ge=20, description="Bootstrap resamples for the confidence intervals.")
    report_samples: int = Field(6, ge=0, description="Side-by-side examples (context, my real reply, each "
                                "variant's) in the report; 0 keeps real lines out of a report you will publish.")
    embedding_model: str = Field("use", description="'use' (bundled multilingual Universal Sentence Encoder), "
                                 "'minilm' (bundled, English only) or a sentence-transformers folder or hub id.")
    weights: dict[str, float] | None = Field(
        None, description="Composite weights of authorship, typicality, style and context; null (default): fitted on the "
        "training file's latest slice to keep the controls in their known order, then, once the arena has "
        "arena.min_votes decisive votes, chosen among the weightings that keep that order to agree with the votes.")
    judge: JudgeSettings | None = Field(None, description="Automated 'real or clone?' judge; none by default.")

    @field_validator("weights")
    @classmethod
    def _known_metrics(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(COMPOSITE_METRICS))
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; the composite's are "
                             f"{', '.join(COMPOSITE_METRICS)}")
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return value


class ChatSettings(Strict):
    """The public "chat with me" page (`persona-lab chat`): one chosen variant, not blind, guard always on."""

    enabled: bool = Field(False, description="Also show the chat page as a tab of the arena app (it always runs "
                          "alone with `persona-lab chat`).")
    variant: str | None = Field(None, description="The variant visitors chat with; default `persona-eval "
                                "choose`'s pick (or give `--variant`).")
    avatar: Path | None = Field(None, description="Image shown beside the clone's replies, relative to the config.")
    admin_password_env: str = Field("PERSONA_LAB_CHAT_ADMIN", description="Environment variable holding the "
                                    "dashboard's admin password; the dashboard stays locked while it is unset.")
    messages_per_minute: int = Field(6, gt=0, description="Per-visitor rate limit (a sliding minute).")
    max_turns: int = Field(20, gt=0, description="Turns per conversation; then the visitor must start a new one.")
    max_message_chars: int = Field(2000, gt=0, description="Longest visitor message accepted.")
    max_tokens: int = Field(128, gt=0, description="Reply length cap on the chat page.")


class ArenaSettings(Strict):
    host: str = Field("127.0.0.1", description="Address the arena listens on (0.0.0.0 to let friends in).")
    port: int = Field(7860, gt=0, lt=65536, description="Port of the arena.")
    db_url: str | None = Field(None, description="SQLAlchemy URL (e.g. postgresql+psycopg://...); default SQLite "
                               "results/<lab>/arena.db.")
    password_env: str | None = Field(None, description="Environment variable holding a shared password.")
    variants: list[str] | None = Field(None, description="Variants in battles; default every registry variant.")
    max_tokens: int = Field(96, gt=0, description="Reply length cap in battles.")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature in battles.")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling in battles.")
    person_weight: float = Field(2.0, ge=0, description="persona-eval choose: weight of the arena once it has "
                                 "min_votes votes (the automated composite has weight 1).")
    min_votes: int = Field(30, ge=0, description="Votes needed before the arena counts in `choose`.")
    daily_vote_cap: int | None = Field(100, gt=0, description="Votes one rater may cast in 24 hours (the store "
                                       "refuses more); null for no cap.")
    rater_group: Literal["friends", "strangers"] = Field(
        "friends", description="Board that raters of this deployment count on (the person's own votes always go "
                               "to 'owner'): 'strangers' for a public arena.")
    chat: ChatSettings = Field(default_factory=ChatSettings)


class SearchSettings(Strict):
    enabled: bool = Field(False, description="Run the blend search (`persona-lab search`, and the `search` stage of "
                          "`persona-lab run`). It also holds the training file's latest slice (the dev split it "
                          "scores on) out of the chat adapter's training.")
    trials: int = Field(12, ge=1, description="Blends tried in all, the fixed ratios of blends: (5:5, 7:2, 9:1 "
                        "by default) first, then what Optuna's TPE proposes.")
    batch: int = Field(4, ge=1, description="Trials generated together in one mixed-adapter batch.")
    contexts: int | None = Field(40, gt=0, description="Dev contexts each trial answers (a seeded sample of the "
                                 "dev split); null for all of it.")
    samples_per_context: int = Field(1, ge=1, le=16, description="Replies sampled per dev context and trial.")
    strength: tuple[float, float] = Field((0.25, 1.5), description="Range of the overall strength (the sum of the "
                                          "two weights: 1 is a normalised blend such as 7:2 -> 7/9, 2/9).")
    checkpoints: bool = Field(True, description="Also choose which saved checkpoint of each adapter to blend.")
    n_bootstrap: int = Field(100, ge=20, description="Bootstrap resamples for each trial's interval.")

    @field_validator("strength")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError("strength is [low, high] with 0 < low <= high")
        return value


class TuneSettings(Strict):
    """Preference tuning of one adapter variant into a new one (``persona-lab tune``; persona_lab/tune/)."""

    enabled: bool = Field(False, description="Run the tune stage in `persona-lab run` (off by default).")
    from_variant: str = Field("chat", description="Registry variant to tune (an adapter or a blend).")
    method: Literal["spin", "dpo", "kto"] = Field(
        "spin", description="spin: my real reply over the variant's own; dpo: arena battle votes; "
                            "kto: votes, 'Real or clone?' guesses and 1-5 ratings.")
    name: str | None = Field(None, description="Name of the tuned variant; default '<from>-<method>'.")
    iterations: int = Field(1, ge=1, le=10, description="SPIN rounds; each generates rejected replies with the "
                                                        "previous round's model and uses it as the reference.")
    pairs: int = Field(32, ge=2, description="SPIN: training contexts sampled (seeded) per round, held-out ones "
                                             "included.")
    steps: int = Field(8, gt=0, description="Optimiser steps per round (SmolLM2-135M, 2-core CPU: ~25 s a step).")
    lr: float = Field(1e-4, gt=0, description="Learning rate (constant after a short warm-up).")
    beta: float = Field(0.1, gt=0, description="DPO/KTO beta: how far the tuned model may move from its parent.")
    batch_size: int = Field(4, ge=2, description="Pairs (or KTO examples) per step; KTO needs 2+.")
    max_length: int = Field(128, ge=32, description="Prompt + reply tokens; the oldest context is cut first.")
    max_new_tokens: int = Field(48, gt=0, description="SPIN: length cap of the variant's own replies.")
    temperature: float = Field(0.7, ge=0, description="SPIN: sampling temperature of the variant's own replies.")
    held_out: float = Field(0.25, gt=0, lt=1, description="Share of pairs (whole conversations for votes) kept "
                                                          "out of training to measure the margin.")
    min_examples: int = Field(8, ge=2, description="dpo/kto: fewest usable pairs/examples before training starts.")
    desirable_rating: int = Field(4, ge=1, le=5, description="kto: a rating at or above this is desirable.")
    undesirable_rating: int = Field(2, ge=1, le=5, description="kto: a rating at or below this is undesirable; "
                                                               "between the two it is dropped.")
    seed: int | None = Field(None, description="Seed of sampling, generation and training; defaults to the lab seed.")

    @model_validator(mode="after")
    def _ratings_ordered(self) -> TuneSettings:
        if self.undesirable_rating >= self.desirable_rating:
            raise ValueError("tune.undesirable_rating must be below tune.desirable_rating")
        return self

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str | None) -> str | None:
        if value is not None and not LAB_NAME.match(value):
            raise ValueError("use letters, digits, '-', '_' or '.' (it names a folder and a variant)")
        return value


class LabConfig(Strict):
    name: str = Field(description="Lab name; the workspace is results/<name>/.")
    me: list[str] = Field(default_factory=list, description="My names and ids in the exports (several allowed).")
    persona_name: str | None = Field(None, description="What the system line calls me; defaults to the first 'me' name.")
    seed: int = Field(1234, description="Seed for every random choice of the lab (canaries, sampling, training).")
    timezone: str = Field("UTC", description="Zone of exports that write local times without a zone (IANA name).")
    sources: list[Source] = Field(default_factory=list, description="Chat exports.")
    facets: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Audience -> contact/group names or ids. Unlisted groups are 'group', unlisted people 'other'.",
    )
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    blog: list[Path] = Field(default_factory=list, description="Blog post files or folders (Markdown, HTML, text).")
    blog2qa: Blog2QASettings = Field(default_factory=Blog2QASettings)
    base_model: str = Field("smollm2-135m", description="HF folder or hub id, 'smollm2-135m' (offline) or 'tiny-test'.")
    chat_template: str | None = Field(None, description="Training template override (must mark {% generation %}).")
    train: TrainConfig = Field(default_factory=TrainConfig)
    blends: list[BlendSpec] = Field(default_factory=default_blends, description="Blends of the trained adapters.")
    search: SearchSettings = Field(default_factory=SearchSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    arena: ArenaSettings = Field(default_factory=ArenaSettings)
    tune: TuneSettings = Field(default_factory=TuneSettings)
    workspace: Path | None = Field(None, description="Defaults to results/<name> under the current directory.")

    # Set by load_config, not by the YAML: where relative paths are anchored.
    config_dir: Path = Field(default=Path("."), exclude=True, description="(internal)")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not LAB_NAME.match(value):
            raise ValueError("use letters, digits, '-', '_' or '.' (it names a folder)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from exc
        return value

    @field_validator("ingest")
    @classmethod
    def _eval_from_is_a_time(cls, value: IngestSettings) -> IngestSettings:
        if value.eval_from is not None:
            try:
                parse_time(value.eval_from)
            except ValueError as exc:
                raise ValueError(f"eval_from: {value.eval_from!r} is not a date/time ({exc})") from None
        return value

    @property
    def workspace_dir(self) -> Path:
        return self.workspace if self.workspace is not None else Path("results") / self.name

    @property
    def data_dir(self) -> Path:
        return self.paths.data

    @property
    def paths(self) -> Workspace:
        """Every path of this lab's workspace (persona_lab/workspace/paths.py)."""
        return Workspace(self.workspace_dir)

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.config_dir / path


class ConfigError(PersonaLabError):
    """A config that cannot be used; the message names the file and each bad key."""

    hint = "every option is listed in README's 'Config reference'; configs/demo.yaml is a working example"


def load_config(path: str | Path) -> LabConfig:
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return parse_config(raw, path)


_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def expand_env(value: Any, where: str = "") -> Any:
    """``${VAR}`` and ``${VAR:-default}`` in every string of the config, so one config can point at data
    that lives in a different place on each machine (``PERSONA_LAB_FRIENDS=/data/friends.jsonl``)."""
    if isinstance(value, dict):
        return {k: expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match) -> str:
        name, default = match["name"], match["default"]
        found = os.environ.get(name)
        if found:
            return found
        if default is None:
            raise ConfigError(f"{where}: environment variable {name} is not set (and no ${{{name}:-default}})")
        return default

    return _ENV_REF.sub(substitute, value)


def parse_config(raw: dict[str, Any], path: Path) -> LabConfig:
    try:
        raw = expand_env(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        config = LabConfig.model_validate({**raw, "config_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid config\n" + _describe(exc)) from None
    return config


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            lines.append(f"  unknown key '{key}'")
        else:
            lines.append(f"  {key}: {error['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def facet_phrase(facet: str) -> str:
    """Natural words for a facet in the system line ('family' -> 'a family member')."""
    return {
        "family": "a family member",
        "partner": "their partner",
        "friends": "a friend",
        "colleagues": "a colleague",
        "group": "a group chat",
        "other": "someone",
    }.get(facet, facet)

