"""The ingest stage: chat exports in; paired, scrubbed, time-split files out.

Writes under ``<workspace>/data/``:
  messages.jsonl     every turn (merged text messages) of every chat, scrubbed, people pseudonymised
  chat_train.jsonl   my replies with their context, messages format (TRL SFTTrainer reads it as is)
  chat_eval.jsonl    the held-out latest replies: {"id","facet","context","reply",...}
  ingest_report.json per file and in total: read, kept, dropped{reason: n}; read == kept + sum(dropped)
  pii_report.json    counts by type and keyed hashes of what was masked (never raw values)
  surrogate_names.json  the fake names that replaced real ones (privacy.mode surrogate), for the reply guard
  DATA_CARD.md       counts, facets, reply lengths, my distinctive words

How it streams: files are read one record at a time; only per-chat state (a few turns) and one float
per reply (for the time split) are kept in memory. Reply candidates go to a temporary file, which a
second pass splits once the time threshold is known. With privacy on, a quick first pass collects the
names of every contact, so a name is masked even in a chat read before that contact's own file.
Features and trade-offs:
  * exact accounting: every record read is kept or dropped with a reason; a bad row is a counted skip
    and its file and line are listed; a file that cannot be read at all is an error in the report
  * nothing usable read at all -> ``IngestError`` (the CLI exits non-zero)
  * the temporary candidates file holds scrubbed text only and is deleted when the stage ends
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from persona_lab.blog import blog2qa_files
from persona_lab.config import LabConfig
from persona_lab.errors import ExportError, PersonaLabError
from persona_lab.hashing import json_hash, tree_hashes
from persona_lab.ingest.clean import Conversation, PairCandidate, Turn
from persona_lab.ingest.datacard import write_data_card
from persona_lab.ingest.importers import ReadContext, detect
from persona_lab.ingest.pairs import Speakers, context_messages, sample_id, system_line
from persona_lab.ingest.records import BadRecord, Message
from persona_lab.ingest.split import eval_flags, text_key
from persona_lab.privacy import (
    PiiInventory,
    Scrubber,
    Surrogates,
    canary_record,
    load_or_create_secret,
    make_canaries,
)
from persona_lab.stage import RunContext, Stage, settings_of
from persona_lab.text import percentile, reply_lengths
from persona_lab.timeparse import iso, parse_time
from persona_lab.workspace import Workspace

EXPORT_SUFFIXES = frozenset({".csv", ".json", ".txt", ".jsonl"})
BAD_ROW_EXAMPLES = 5
_PAGE = re.compile(r"^(?P<prefix>.+?)_(?P<start>\d+)_(?P<end>\d+)$")
_ID_LIKE = re.compile(r"^(wxid_|gh_|user\d|\d+@chatroom$|\d+$)")


class IngestError(PersonaLabError):
    """Nothing usable could be read; the message says why, file by file."""

    hint = ("check the paths under sources: and your names under me: in the config; README's 'Exporting' "
            "says how to export each app's chats")


@dataclass
class FileReport:
    file: str
    format: str | None = None
    encoding: str | None = None
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    mine: int = 0
    error: str | None = None
    bad_rows: list[str] = field(default_factory=list)

    def count(self, record: Message | BadRecord) -> bool:
        """Account for one record; True when it is a text message to keep."""
        self.read += 1
        if isinstance(record, BadRecord):
            self.dropped[record.reason] += 1
            if len(self.bad_rows) < BAD_ROW_EXAMPLES:
                self.bad_rows.append(f"line {record.row}: {record.reason}: {record.detail}")
            return False
        if record.kind != "text":
            self.dropped[record.kind] += 1
            return False
        self.kept += 1
        return True

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file, "format": self.format, "encoding": self.encoding,
            "read": self.read, "kept": self.kept, "dropped": dict(sorted(self.dropped.items())),
            "my_messages": self.mine,
        }
        if self.bad_rows:
            out["bad_rows"] = self.bad_rows
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class IngestResult:
    data_dir: Path
    report: dict[str, Any]
    files: dict[str, Path]


# ---------------------------------------------------------------------------------------------- inputs


def expand_sources(config: LabConfig) -> list[tuple[Path, str, frozenset[str]]]:
    """(file, format, extra me-names) for every export file named by the config, in reading order."""
    out: list[tuple[Path, str, frozenset[str]]] = []
    for source in config.sources:
        path = config.resolve(source.path)
        extra = frozenset(source.me)
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES
                     and not p.name.startswith(".")]
            out.extend((p, source.format, extra) for p in sorted(files, key=page_order))
        else:
            out.append((path, source.format, extra))
    return out


def page_order(path: Path) -> tuple:
    """WeChat page files ``<wxid>_<start>_<end>.csv`` sort by their numbers, so page 5000 follows page 0
    (a plain name sort would put ``_10000_`` before ``_5000_``)."""
    match = _PAGE.match(path.stem)
    if match:
        return (str(path.parent), match["prefix"], int(match["start"]), path.name)
    return (str(path.parent), path.stem, -1, path.name)


def read_file(path: Path, fmt: str, ctx: ReadContext, report: FileReport,
              people_only: bool = False) -> Iterator[Message | BadRecord]:
    """The file's records; a file-level problem is recorded in ``report.error`` (after what was read).
    ``people_only`` lets an importer with a ``people`` method skip what the names pass does not need."""
    if not path.exists():
        report.error = f"{path}: no such file"
        return
    try:
        importer, encoding = detect(path, fmt)
    except (ExportError, KeyError) as exc:
        report.error = str(exc)
        return
    report.format, report.encoding = importer.name, encoding
    ctx.encoding = encoding
    try:
        reader = getattr(importer, "people", None) if people_only else None
        yield from (reader or importer.read)(path, ctx)
    except ExportError as exc:
        report.error = str(exc)
    except (OSError, ValueError) as exc:  # a reader bug or I/O fault must still name the file
        report.error = f"{path}: cannot read: {exc}"


# ---------------------------------------------------------------------------------------------- identity


@dataclass
class Identity:
    """Decides which messages are mine, and what to call people in output files."""

    me: frozenset[str]
    pseudonymise: bool
    secret: bytes = b""
    _ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def is_me(self, message: Message, extra: frozenset[str]) -> bool | None:
        if message.is_me is not None:
            return message.is_me
        if not self.me and not extra:
            return None
        return message.sender in self.me or message.sender_id in self.me or \
            message.sender in extra or message.sender_id in extra

    def public_id(self, kind: str, raw: str) -> str:
        """A chat or person as written to messages.jsonl: a keyed id when pseudonymising."""
        if not self.pseudonymise:
            return raw
        key = (kind, raw)
        if key not in self._ids:
            import hmac

            self._ids[key] = f"{kind}-" + hmac.new(self.secret, raw.encode(), "sha256").hexdigest()[:10]
        return self._ids[key]


def facet_lookup(config: LabConfig) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for facet, names in config.facets.items():
        for name in names:
            lookup[name] = facet
    return lookup


def facet_of(message: Message, lookup: dict[str, str]) -> str:
    raw_id = message.chat_id.split(":", 1)[-1]
    for key in (message.chat_name, raw_id, message.chat_id):
        if key in lookup:
            return lookup[key]
    return "group" if message.is_group else "other"


def contact_names(files: Iterable[tuple[Path, str, frozenset[str]]], config: LabConfig,
                  identity: Identity) -> set[str]:
    """Names of everyone but me, from senders and private-chat names, for the name masker."""
    names: set[str] = set()
    for path, fmt, extra in files:
        report = FileReport(str(path))
        ctx = ReadContext(timezone=config.timezone, me=identity.me | extra)
        for record in read_file(path, fmt, ctx, report, people_only=True):
            if isinstance(record, BadRecord):
                continue
            if identity.is_me(record, extra) is False:
                names.add(record.sender)
            if not record.is_group and not _ID_LIKE.match(record.chat_name):
                names.add(record.chat_name)
    names -= set(identity.me)
    return {n for n in names if n and not n.startswith("(") and not _ID_LIKE.match(n)}


# ---------------------------------------------------------------------------------------------- the stage


class _Writers:
    """Opens output files into a temporary name and renames on success, so a failed run never leaves a
    half-written file that looks complete."""

    def __init__(self) -> None:
        self._open: dict[Path, tuple[Path, Any]] = {}

    def open(self, path: Path):
        temp = path.with_name(f".{path.name}.partial")
        handle = temp.open("w", encoding="utf-8")
        self._open[path] = (temp, handle)
        return handle

    def commit(self) -> None:
        for path, (temp, handle) in self._open.items():
            handle.close()
            os.replace(temp, path)
        self._open.clear()

    def abort(self) -> None:
        for temp, handle in self._open.values():
            handle.close()
            temp.unlink(missing_ok=True)
        self._open.clear()


def _dumps(obj: Any) -> str:
    # orjson: ~5x faster than json.dumps, and output lines are on the hot path (one per turn and reply)
    return orjson.dumps(obj).decode("utf-8")


def run_ingest(config: LabConfig, *, canaries: int | None = None, progress: bool = True) -> IngestResult:
    """Run the whole ingest stage for ``config``; see the module docstring for what it writes."""
    files = expand_sources(config)
    if not files:
        raise IngestError("no chat exports given: add 'sources:' to the config or pass PATH arguments")
    paths = config.paths
    paths.data.mkdir(parents=True, exist_ok=True)
    privacy = config.privacy
    secret = load_or_create_secret(paths.root)
    identity = Identity(frozenset(config.me), pseudonymise=privacy.enabled and privacy.mask_contact_names,
                        secret=secret)
    inventory = PiiInventory(secret)
    scrub: Callable[[str], str]
    surrogates: Surrogates | None = None
    if privacy.enabled:
        names = contact_names(files, config, identity) if privacy.mask_contact_names else set()
        scrubber = Scrubber(known_names=names, extra_names=privacy.extra_names,
                            blocked_words=privacy.blocked_words)
        if privacy.mode == "surrogate":
            surrogates = Surrogates(secret, real_names=scrubber.names)

        def scrub(text: str) -> str:
            result = scrubber.scrub(text, replace=surrogates)
            for found in result.found:
                inventory.add(found)
            return result.text
    else:
        def scrub(text: str) -> str:
            return text

    writers = _Writers()
    try:
        result = _ingest_into(config, files, identity, scrub, writers, progress,
                              _speaker_surrogate(surrogates) if identity.pseudonymise else None)
        writers.commit()
    except BaseException:
        writers.abort()
        raise
    report = result
    if config.blog:
        report["blog"] = ingest_blog(config, scrub)
    pii_report = inventory.to_report()  # chat and blog text both went through `scrub`
    paths.pii_report.write_text(json.dumps(pii_report, ensure_ascii=False, indent=1), "utf-8")
    write_surrogate_names(paths.surrogate_names, surrogates)
    report["privacy"] = {"enabled": privacy.enabled, "masked": pii_report.get("counts", {})}
    n_canaries = privacy.canaries if canaries is None else canaries
    if n_canaries:
        report["canaries"] = plant_canaries(paths, n_canaries, seed=config.seed)
    paths.ingest_report.write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    write_data_card(config, report)
    out = {path.name: path for path in (paths.messages, paths.chat_train, paths.chat_eval, paths.blog_train,
                                        paths.ingest_report, paths.pii_report, paths.data_card)}
    return IngestResult(paths.data, report, out)


def _speaker_surrogate(surrogates: Any) -> Callable[[Turn], str] | None:
    """A group speaker's label in surrogate mode: the surrogate of their display name, the same fake name
    the scrubber puts where the text mentions them (a name it cannot use gets one keyed on the sender id)."""
    if surrogates is None:
        return None

    def label(turn: Turn) -> str:
        name = " ".join(turn.sender.split())
        if len(name) >= 2 and any(ch.isalpha() for ch in name) and not _ID_LIKE.match(name):
            return surrogates.value("NAME", name)
        return surrogates.value("NAME", f"speaker\x1f{turn.sender_id}", shape="某某某")
    return label


def write_surrogate_names(path: Path, surrogates: Any) -> None:
    """``surrogate_names.json``: the fake names handed out, so the reply guard can mask them on output (names
    are found from lists, not by pattern). Fakes only: nothing in it links a fake to a real person."""
    if surrogates is None:
        path.unlink(missing_ok=True)
        return
    record = {"note": "Fake names that replaced real ones in this lab's data (privacy.mode surrogate). Not personal "
              "data; the reply guard masks them and reports them as invented.", "names": sorted(surrogates.names)}
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", "utf-8")


def _ingest_into(config: LabConfig, files: list[tuple[Path, str, frozenset[str]]], identity: Identity,
                 scrub: Callable[[str], str], writers: _Writers,
                 progress: bool, speaker_surrogate: Callable[[Turn], str] | None = None) -> dict[str, Any]:
    settings = config.ingest
    facets = facet_lookup(config)
    me_name = config.persona_name or (config.me[0] if config.me else "me")
    speakers = Speakers(reveal_names=not identity.pseudonymise, surrogate=speaker_surrogate)
    paths = config.paths
    messages_out = writers.open(paths.messages)
    timestamps = array("d")
    facet_counts: Counter = Counter()
    chats: dict[str, Conversation] = {}
    chat_meta: dict[str, tuple[str, bool]] = {}  # chat_id -> (facet, declared group)
    reports: list[FileReport] = []
    system_lines: dict[str, dict[str, str] | None] = {}

    with tempfile.TemporaryDirectory(dir=paths.data, prefix=".ingest-") as tmp:
        candidates_path = Path(tmp) / "candidates.jsonl"
        candidates = candidates_path.open("w", encoding="utf-8")

        def on_turn(turn: Turn) -> None:
            facet, _ = chat_meta[turn.chat_id]
            messages_out.write(_dumps({
                "chat": identity.public_id("chat", turn.chat_id), "facet": facet,
                "sender": "me" if turn.is_me else identity.public_id("person", turn.sender_id),
                "is_me": turn.is_me, "ts": iso(turn.ts_first), "session": turn.session,
                "parts": turn.parts, "text": turn.text,
            }) + "\n")

        def on_pair(candidate: PairCandidate) -> None:
            facet, declared_group = chat_meta[candidate.chat_id]
            group = declared_group or chats[candidate.chat_id].looks_like_group
            context, opener = context_messages(candidate, group, speakers, settings)
            if facet not in system_lines:
                system_lines[facet] = system_line(settings, me_name, facet)
            system = system_lines[facet]
            if system:
                context.insert(0, dict(system))
            reply = candidate.reply
            candidates.write(_dumps({
                "id": sample_id(candidate.chat_id, reply), "facet": facet, "ts": iso(reply.ts_first),
                "opener": opener, "context": context, "reply": reply.text,
            }) + "\n")
            timestamps.append(reply.ts_first)
            facet_counts[facet] += 1

        for path, fmt, extra in _with_progress(files, progress):
            report = FileReport(str(path))
            reports.append(report)
            ctx = ReadContext(timezone=config.timezone, me=identity.me | extra)
            unknown_me_seen: set[str] = set()
            for record in read_file(path, fmt, ctx, report):
                if not report.count(record):
                    if isinstance(record, Message):
                        (chats.get(record.chat_id) or _conversation(
                            record, chats, chat_meta, facets, settings, on_turn, on_pair)).add(record, False, "")
                    continue
                is_me = identity.is_me(record, extra)
                if is_me is None:
                    # Cannot tell my messages from others': undo the count, report, stop this file.
                    report.kept -= 1
                    report.dropped["unknown_sender"] += 1
                    unknown_me_seen.add(record.sender)
                    continue
                report.mine += is_me
                (chats.get(record.chat_id) or _conversation(
                    record, chats, chat_meta, facets, settings, on_turn, on_pair)).add(record, is_me, scrub(record.text))
            if unknown_me_seen:
                report.error = (f"{path}: cannot tell which messages are yours; pass --me NAME or set 'me:' in "
                                f"the config (speakers seen: {', '.join(sorted(unknown_me_seen)[:8])})")
            elif report.kept and not report.mine:
                report.error = (f"{path}: none of the {report.kept} text messages is from me "
                                f"({', '.join(sorted(identity.me | extra)) or 'no me names given'})")
        for conversation in chats.values():
            conversation.flush()
        candidates.close()
        eval_from = parse_time(settings.eval_from, config.timezone) if settings.eval_from else None
        pairing = _split(candidates_path, timestamps, settings.eval_fraction, eval_from, writers, paths)

    totals = _totals(reports)
    if totals["kept"] == 0 or pairing["replies"] == 0:
        problems = "\n".join(f"  {r.error}" for r in reports if r.error) or "  (no errors; no text messages)"
        raise IngestError(
            f"nothing usable was read from {len(reports)} file(s): "
            f"{totals['kept']} text messages, {pairing['replies']} of my replies\n{problems}")
    return {
        "lab": config.name,
        "total": totals,
        "pairs": pairing,
        "facets": dict(sorted(facet_counts.items())),
        "chats": len(chats),
        "files": [r.as_dict() for r in reports],
        "errors": [r.error for r in reports if r.error],
        "settings": settings.model_dump(),
    }


def _conversation(message: Message, chats: dict[str, Conversation], chat_meta: dict[str, tuple[str, bool]],
                  facets: dict[str, str], settings, on_turn, on_pair) -> Conversation:
    conversation = chats.get(message.chat_id)
    if conversation is None:
        conversation = Conversation(message.chat_id, settings.merge_window_s, settings.session_gap_s,
                                    settings.context_turns, on_turn, on_pair)
        chats[message.chat_id] = conversation
        chat_meta[message.chat_id] = (facet_of(message, facets), message.is_group)
    return conversation


def _with_progress(files: list, enabled: bool) -> Iterator:
    if not enabled:
        yield from files
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    sizes = [p.stat().st_size if p.exists() else 0 for p, _, _ in files]
    columns = (TextColumn("ingest"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} bytes"),
               TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("", total=sum(sizes) or 1)
        for item, size in zip(files, sizes):
            bar.update(task, description=item[0].name)
            yield item
            bar.advance(task, size)


def _split(candidates_path: Path, timestamps: array, fraction: float, eval_from: float | None,
           writers: _Writers, paths: Workspace) -> dict[str, Any]:
    """Route candidates to train/eval by time and drop eval items whose reply was seen in training."""
    flags = eval_flags(timestamps, fraction, eval_from)
    eval_keys: set[bytes] = set()
    with candidates_path.open(encoding="utf-8") as handle:
        for flag, line in zip(flags, handle):
            if flag:
                eval_keys.add(text_key(orjson.loads(line)["reply"]))
    seen_in_training: set[bytes] = set()
    train_out = writers.open(paths.chat_train)
    n_train = n_openers = 0
    with candidates_path.open(encoding="utf-8") as handle:
        for flag, line in zip(flags, handle):
            if flag:
                continue
            item = orjson.loads(line)
            messages = item["context"] + [{"role": "assistant", "content": item["reply"]}]
            for message in messages:
                if message["role"] == "assistant":
                    key = text_key(message["content"])
                    if key in eval_keys:
                        seen_in_training.add(key)
            train_out.write(_dumps({"id": item["id"], "source": "chat", "facet": item["facet"], "ts": item["ts"],
                                    "opener": item["opener"], "messages": messages}) + "\n")
            n_train += 1
            n_openers += item["opener"]
    eval_out = writers.open(paths.chat_eval)
    n_eval = n_dropped = 0
    with candidates_path.open(encoding="utf-8") as handle:
        for flag, line in zip(flags, handle):
            if not flag:
                continue
            item = orjson.loads(line)
            if text_key(item["reply"]) in seen_in_training:
                n_dropped += 1
                continue
            eval_out.write(_dumps({"id": item["id"], "facet": item["facet"], "ts": item["ts"],
                                   "opener": item["opener"], "context": item["context"],
                                   "reply": item["reply"]}) + "\n")
            n_eval += 1
    return {
        "replies": len(timestamps), "train": n_train, "eval": n_eval,
        "eval_dropped": {"reply_seen_in_training": n_dropped}, "openers_in_train": n_openers,
        "eval_fraction": fraction if eval_from is None else None,
        "eval_from": iso(eval_from) if eval_from is not None else None,
    }


def _totals(reports: list[FileReport]) -> dict[str, Any]:
    dropped: Counter = Counter()
    for report in reports:
        dropped.update(report.dropped)
    return {
        "files": len(reports),
        "files_with_errors": sum(1 for r in reports if r.error),
        "read": sum(r.read for r in reports),
        "kept": sum(r.kept for r in reports),
        "dropped": dict(sorted(dropped.items())),
        "my_messages": sum(r.mine for r in reports),
    }


def ingest_blog(config: LabConfig, scrub: Callable[[str], str]) -> dict[str, Any]:
    """Blog posts -> blog_train.jsonl; answers sized near 3x my median chat reply unless configured."""
    paths = config.paths
    lengths = sorted(reply_lengths([paths.chat_train, paths.chat_eval]))
    target = max(20, int(3 * percentile(lengths, 0.5))) if lengths else None
    posts = [config.resolve(p) for p in config.blog]
    return blog2qa_files(posts, paths.blog_train, config.blog2qa, target, scrub=scrub,
                         cache_dir=paths.cache("blog2qa"))


def plant_canaries(paths: Workspace, n: int, seed: int) -> dict[str, Any]:
    """Append ``n`` canary samples to the training copy only, and record them in canaries.json."""
    canaries = make_canaries(n, seed=seed)
    with paths.chat_train.open("a", encoding="utf-8") as handle:
        for canary in canaries:
            handle.write(_dumps({
                "id": f"canary-{canary.id}", "source": "chat", "facet": "other", "ts": None, "opener": True,
                "canary": True,
                "messages": [{"role": "user", "content": "[new conversation]"},
                             {"role": "assistant", "content": canary.sentence}],
            }) + "\n")
    record = canary_record(canaries)
    path = paths.canaries
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")
    os.chmod(path, 0o600)
    return {"planted": n, "file": path.name}


# ------------------------------------------------------------------------------------------- the stage


def stage_inputs(config: LabConfig, context: RunContext) -> dict[str, Any]:
    """The exports' and blog posts' bytes and the settings that shape the data; the secret keys the
    pseudonyms and hashes in data/, so a new secret means new outputs."""
    secret = load_or_create_secret(config.paths.root)
    files = {str(path): {"format": fmt, "me": sorted(extra), "hashes": tree_hashes(path)}
             for path, fmt, extra in expand_sources(config)}
    blog = {str(p): tree_hashes(config.resolve(p)) for p in config.blog}
    return {"files": files, "blog": blog, "secret": json_hash(secret.hex()),
            **settings_of(config, "me", "persona_name", "seed", "timezone", "facets", "ingest", "privacy",
                          "blog2qa")}


STAGE = Stage("ingest", stage_inputs, lambda config: [config.paths.data],
              lambda config, context: run_ingest(config, progress=context.progress))
