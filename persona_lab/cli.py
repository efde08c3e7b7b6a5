"""Command line: ``persona-lab`` (the lab's stages) and ``persona-eval`` (evaluation).

Thin on purpose: parse, call a stage function, print what it wrote. Errors a user can fix are
``PersonaLabError``s (persona_lab/errors.py): the CLI prints their message and hint and exits 1; it catches
nothing else, so any other exception is a bug and shows its traceback.

The stages are imported inside the commands that run them: ``persona-lab --help`` takes 0.07 s that way and
1.1 s with persona_lab.loop imported here (pydantic models, SQLAlchemy for the arena's votes, scikit-learn
for the metrics; measured with ``python -X importtime`` on the 2-core machine, 2026-11-30).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from persona_lab.workspace.paths import SOURCES, ReportFolder

DEMO_CONFIG = "configs/demo.yaml"
RUN_STAGES = ("ingest", "train", "blend", "search", "tune", "eval")  # persona_lab/loop.py's STAGES (a test keeps them equal)


def _fail(message: str, code: int = 1, hint: str = "") -> int:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return code


def _load(config_path: str):
    from persona_lab.config import load_config

    return load_config(config_path)


def _adhoc_config(paths: list[str], me: list[str], out: str | None, name: str = "adhoc"):
    from persona_lab.config import parse_config

    raw = {"name": name, "me": me, "sources": [{"path": str(Path(p).resolve())} for p in paths]}
    if out:
        raw["workspace"] = str(Path(out).resolve())
    return parse_config(raw, Path.cwd() / "(command line)")


# ------------------------------------------------------------------------------------------- commands


def cmd_ingest(args: argparse.Namespace) -> int:
    from persona_lab.ingest.stage import run_ingest

    if args.config:
        if args.paths:
            return _fail("give either --config or PATH arguments, not both", 2)
        config = _load(args.config)
        if args.me:
            config.me = list(dict.fromkeys(config.me + args.me))
    elif args.paths:
        config = _adhoc_config(args.paths, args.me or [], args.out)
    else:
        return _fail("give --config CFG or one or more export PATHs", 2)
    result = run_ingest(config, canaries=args.canaries, progress=not args.quiet)
    _print_ingest(result)
    return 1 if result.report["errors"] and not result.report["total"]["kept"] else 0


def _print_ingest(result) -> None:
    from rich.console import Console

    console = Console(stderr=False, highlight=False)
    total, pairs = result.report["total"], result.report["pairs"]
    dropped = sum(total["dropped"].values())
    console.print(f"[bold]ingest[/bold]: read {total['read']:,} records = kept {total['kept']:,} "
                  f"+ dropped {dropped:,}; my replies {pairs['replies']:,} -> train {pairs['train']:,}, "
                  f"eval {pairs['eval']:,}")
    for error in result.report["errors"]:
        console.print(f"[yellow]warning[/yellow]: {error}")
    console.print("wrote:")
    for path in result.files.values():
        if path.exists():
            console.print(f"  {path}")


def cmd_scrub(args: argparse.Namespace) -> int:
    import json

    from persona_lab.privacy import Scrubber, scrub_file

    scrubber = Scrubber(extra_names=args.name or [], blocked_words=args.block or [])
    # Counts by type only: keyed hashes need a lab secret, which `persona-lab ingest` keeps.
    report = scrub_file(Path(args.input), Path(args.output), scrubber)
    if args.report:
        Path(args.report).write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    counts = report.get("counts", {})
    print(f"scrub: {report.get('lines_read', '?')} lines -> {args.output}; masked "
          + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"))
    return 0


def cmd_blog2qa(args: argparse.Namespace) -> int:
    from persona_lab.blog import blog2qa_files
    from persona_lab.config import Blog2QASettings

    settings = Blog2QASettings(answer_chars=args.answer_chars)
    report = blog2qa_files([Path(p) for p in args.paths], Path(args.out), settings)
    dropped = sum(report["dropped"].values())
    print(f"blog2qa: {report['read']} posts = kept {report['kept']} + dropped {dropped}; "
          f"{report['pairs']} Q&A pairs -> {args.out}")
    for entry in report["files"]:
        if entry.get("error"):
            print(f"warning: {entry['error']}", file=sys.stderr)
    return 0 if report["pairs"] else 1


def cmd_train(args: argparse.Namespace) -> int:
    config = _load(args.config)
    for source in SOURCES if args.source == "all" else [args.source]:
        _train_one(config, source, resume=args.resume, quick=args.quick, progress=not args.quiet)
    return 0


def _train_one(config, source: str, *, resume: bool, quick: bool, progress: bool) -> None:
    from persona_lab.train.sft import train_source

    if source not in config.paths.sources():
        print(f"train {source}: skipped (no {config.paths.train_file(source).name} in this lab)")
        return
    _print_train(train_source(config, source, resume=resume, quick=quick, progress=progress))


def _print_train(result) -> None:
    m, source = result.manifest, result.source
    state = "unchanged, reused" if result.skipped else f"{m['seconds']:.0f} s, {m['tokens']:,} tokens"
    quick_note = " [--quick: steps capped at 10]" if m.get("quick") else ""
    print(f"train {source}: {m['steps']} steps, loss {m['train_loss']:.3f} ({state}){quick_note} -> {result.adapter_dir}")


def cmd_blend(args: argparse.Namespace) -> int:
    from persona_lab.blend.stage import run_blend

    registry = run_blend(_load(args.config), merge_full=args.merge_full)
    _print_variants(registry)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Blend search on the dev split (persona_lab/search): the best blend becomes the variant ``auto``."""
    from persona_lab.search.run import run_search

    config = _load(args.config)
    if args.trials:
        config.search.trials = args.trials
    _print_search(run_search(config, progress=not args.quiet))
    print(f"registry: {config.paths.variants}; evaluate with `persona-lab run --config {args.config}`")
    return 0


def _print_search(log) -> None:
    print(f"search: {len(log.trials)} trials on {log.dev_items} dev contexts ({log.sampler})")
    for t in sorted(log.trials, key=lambda t: -(t.fidelity if t.fidelity is not None else float("-inf"))):
        ci = f"[{t.fidelity_ci[0]:.2f}, {t.fidelity_ci[1]:.2f}]" if t.fidelity_ci else ""
        fidelity = "n/a" if t.fidelity is None else f"{t.fidelity:.3f}"
        steps = ", ".join(f"{p}@{s}" for p, s in t.steps.items())
        print(f"  {t.name:<10} {t.fixed or '':<7} chat share {t.chat_share:.2f} strength {t.strength:.2f} {steps:<22} "
              f"dev fidelity {fidelity} {ci}{'  <- auto' if t.name == log.best else ''}")
    rec = log.dev_recommendation or {}
    if log.best and rec:
        separated = [n for n, c in rec.get("comparisons", {}).items() if c.get("separated")]
        print(f"  on the dev split the best is {'separated from ' + ', '.join(separated) if separated else 'not separable from the fixed ratios'}")


def cmd_variants(args: argparse.Namespace) -> int:
    from persona_lab.workspace.shapes import load_registry

    _print_variants(load_registry(_load(args.config).paths))
    return 0


def _print_variants(registry: dict) -> None:
    print(f"variants of lab {registry['lab']} (base {registry['base_model']}):")
    for v in registry["variants"]:
        detail = ""
        if v["kind"] == "adapter":
            detail = f"rank {v['rank']}, {v['steps']} steps"
            if v.get("tuned_from"):
                detail += f", {v['method']} from {v['tuned_from']}"
        elif v["kind"] == "blend":
            ratio = ":".join(f"{w:g}" for w in v["weights"].values())
            applied = ", ".join(f"{p} x{w:.3g} @step {v['steps'][p]}" for p, w in v["applied_weights"].items())
            detail = f"{'+'.join(v['parents'])} {ratio} ({v['method']}: {applied}), rank {v['rank']}"
        print(f"  {v['name']:<10} {v['kind']:<9} {detail}")


def cmd_tune(args: argparse.Namespace) -> int:
    from persona_lab.tune.stage import run_tune

    _print_tune(run_tune(_load(args.config), args.from_variant, args.method, progress=not args.quiet))
    return 0


def _print_tune(result) -> None:
    m = result.manifest
    print(f"tune {result.name}: {m['method']} from {m['tuned_from']}, {m['steps']} steps on {m['train_examples']} "
          f"examples ({m['votes']} arena records), held-out margin {m['margin_before']} -> {m['margin_after']} "
          f"-> {m['adapter']}")


def cmd_serve(args: argparse.Namespace) -> int:
    from persona_lab.serve.vllm import launch, printable, vllm_command
    from persona_lab.workspace.shapes import load_registry

    config = _load(args.config)
    registry = load_registry(config.paths)
    host, port = args.host or config.serve.host, args.port or config.serve.port
    engine = args.engine or config.serve.engine
    if engine == "vllm":
        if args.print_command:
            print(printable(vllm_command(registry, config.serve.vllm, host=host, port=port)))
            return 0
        server = launch(registry, config.serve.vllm, config.paths, host=host, port=port)
        print(f"vLLM serving {len(registry['variants'])} variants at {server.url} (log: {server.log_path})")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            server.stop()
        return 0
    if engine != "local":
        return _fail(f"serve --engine {engine}: only local and vllm start a server; 'openai' uses one you run")
    import uvicorn

    from persona_lab.serve.api import create_app
    from persona_lab.serve.factory import make_backend, make_guard

    backend = make_backend(config, engine="local")
    guard = make_guard(config, enabled=not args.no_guard)
    s = config.serve
    app = create_app(backend, guard, max_tokens_cap=s.max_tokens_cap, rate_limit_per_min=s.rate_limit_per_min)
    print(f"serving {', '.join(backend.variants())} at http://{host}:{port}/v1 (OpenAI-compatible; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def cmd_arena(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if args.action == "export":
        from persona_lab.workspace.votes import ArenaStore

        store = ArenaStore.for_lab(config)
        out = Path(args.out or config.paths.arena_votes_export)
        print(f"exported {store.export_votes_jsonl(out)} votes to {out}")
        return 0
    from persona_lab.arena.app import launch

    host, port = args.host or config.arena.host, args.port or config.arena.port
    chat_variant = _chat_variant(config, None) if config.arena.chat.enabled else None
    print(f"arena: http://{host}:{port} (Ctrl-C stops)")
    launch(config, host=host, port=port, block=True, chat_variant=chat_variant)
    return 0


def _chat_variant(config, given: str | None) -> str:
    """The variant strangers chat with: --variant, else arena.chat.variant, else `persona-eval choose`'s pick."""
    from persona_lab.config import ConfigError

    if given or config.arena.chat.variant:
        return given or config.arena.chat.variant
    from persona_lab.evaluate.choose import choose

    choice = choose(config)
    if not choice["winner"]:
        raise ConfigError(f"no variant chosen for the chat page: {choice['reason']}",
                          hint="pass --variant NAME (or set arena.chat.variant, or `persona-eval choose --variant`)")
    return choice["winner"]


def cmd_chat(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if args.action == "export":
        from persona_lab.arena.chat import export_chat
        from persona_lab.workspace.votes import ArenaStore

        out = Path(args.out or config.paths.chat_export)
        with ArenaStore.for_lab(config) as store:
            report = export_chat(store, out)
        total = report["intents_total"]
        asked = ", ".join(f"{kind} {n}" for kind, n in total.items() if kind not in ("none", "messages") and n)
        print(f"exported {report['turns']} messages in {report['conversations']} conversations of "
              f"{report['visitors']} visitors to {out} (turns.jsonl, summary.json, dashboard.md)")
        print(f"asked for: {asked or 'nothing private'}; real values masked in replies: {report['masked_real']}")
        return 0
    from persona_lab.arena.chat import launch_chat

    variant = _chat_variant(config, args.variant)
    host, port = args.host or config.arena.host, args.port or config.arena.port
    print(f"chat with {variant}: http://{host}:{port} (Ctrl-C stops); dashboard password from "
          f"${config.arena.chat.admin_password_env}")
    launch_chat(config, variant, host=host, port=port, block=True)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The whole loop (see persona_lab/loop.py): ingest (scrub, blog Q&A), train, blend, evaluate; a stage
    whose inputs and outputs are unchanged since the last run is skipped."""
    from persona_lab.loop import STAGES, RunOptions, run_loop

    force = set(STAGES) if "all" in (args.force or []) else set(args.force or [])
    config = _load(args.config)
    options = RunOptions(until=args.until, force=force, quick=args.quick, progress=not args.quiet,
                         on_stage=lambda outcome: _print_stage(config, outcome))
    run_loop(config, options)
    return 0


def _print_stage(config, outcome) -> None:
    head = f"[{outcome.stage}] "
    if outcome.skipped and outcome.reason.startswith("off"):
        print(f"{head}skipped: {outcome.reason}")
        return
    if outcome.skipped:
        print(f"{head}skipped: inputs and outputs {outcome.reason} ({outcome.seconds:.1f} s to check)")
    else:
        print(f"{head}ran ({outcome.reason}) in {outcome.seconds:.0f} s")
    if outcome.stage == "ingest":
        if not outcome.skipped:
            _print_ingest(outcome.detail)
        print(f"data card: {config.paths.data_card}")
    elif outcome.stage == "train" and not outcome.skipped:
        for result in outcome.detail:
            _print_train(result)
    elif outcome.stage == "blend":
        from persona_lab.workspace.shapes import load_registry

        _print_variants(outcome.detail or load_registry(config.paths))
        print(f"registry: {config.paths.variants}")
    elif outcome.stage == "search" and not outcome.skipped:
        _print_search(outcome.detail)
    elif outcome.stage == "tune" and not outcome.skipped:
        _print_tune(outcome.detail)
    elif outcome.stage == "eval":
        if not outcome.skipped:
            _print_scores(outcome.detail.scores)
        print(f"report: {config.paths.report} (and report.html)")


# ------------------------------------------------------------------------------------------- parsers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="persona-lab",
        description="Turn chat exports and blog posts into persona training data, train and blend persona "
                    "adapters, serve them side by side, and rank them against held-out real replies.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="chat exports -> scrubbed, paired, time-split training/eval files",
                       description="Import chat exports (WeChat PyWxDump/MemoTrace CSV, Telegram JSON, WhatsApp "
                                   "and QQ txt, dialogue/lines JSONL), keep text, merge bursts, pair my replies "
                                   "with their context, scrub private data and split by time.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="export files or folders (ad-hoc form, without --config)")
    p.add_argument("--config", help="lab config (configs/<lab>.yaml)")
    p.add_argument("--me", action="append", metavar="NAME", help="a name or id that is me (repeatable)")
    p.add_argument("--out", metavar="DIR", help="workspace for the ad-hoc form; files land in DIR/data/")
    p.add_argument("--canaries", type=int, default=None, metavar="N",
                   help="plant N secret-shaped canaries into the training copy (memorisation test)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("scrub", help="mask private data in a text or JSONL file",
                       description="Mask phones, ID numbers, bank cards, emails, URLs, IPs, QQ/WeChat ids, "
                                   "passwords, addresses, plates and given names with typed placeholders.")
    p.add_argument("input", metavar="IN", help="plain text (one message a line) or JSONL")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--report", metavar="FILE", help="write counts by type as JSON")
    p.add_argument("--name", action="append", metavar="NAME", help="a name to mask (repeatable)")
    p.add_argument("--block", action="append", metavar="WORD", help="a word to mask (repeatable)")
    p.set_defaults(func=cmd_scrub)

    p = sub.add_parser("blog2qa", help="blog posts -> chat-style Q&A samples (JSONL)",
                       description="Read Markdown/HTML/text posts and turn them into question/answer samples "
                                   "whose answers are the author's own sentences.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="post files or folders")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--answer-chars", type=int, default=None, help="target answer length in characters")
    p.set_defaults(func=cmd_blog2qa)

    p = sub.add_parser("train", help="LoRA SFT of the chat and/or blog adapter",
                       description="Train one LoRA adapter per source on the lab's base model, with checkpoints, "
                                   "a training log and a loss curve in results/<lab>/adapters/<source>/.")
    p.add_argument("--config", required=True, help="lab config")
    p.add_argument("--source", choices=[*SOURCES, "all"], default="all")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint after a kill")
    p.add_argument("--quick", action="store_true", help="cap training at 10 steps (smoke runs; says so)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("blend", help="weighted blends of the adapters, and the variant registry",
                       description="Build every blend declared in the config (default chat:blog 5:5, 7:2, 9:1, "
                                   "method cat = exact weighted sum of deltas) and write variants.json.")
    p.add_argument("--config", required=True, help="lab config")
    p.add_argument("--merge-full", action="store_true", help="also write each blend merged into a full model")
    p.set_defaults(func=cmd_blend)

    p = sub.add_parser("search", help="search blend weights on the dev split; the best becomes variant auto",
                       description="Try search.trials exact cat blends of the chat and blog adapters (chat share, "
                                   "overall strength, checkpoints), the config's fixed ratios first, then Optuna "
                                   "TPE proposals; each answers the dev split (the training file's latest slice, "
                                   "held out of training when search.enabled) and is scored with the evaluation's "
                                   "fidelity. The best is registered as `auto`; the eval split is not touched.")
    p.add_argument("--config", required=True, help="lab config")
    p.add_argument("--trials", type=int, default=None, help="default: search.trials in the config")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("variants", help="list the variants in the registry")
    p.add_argument("--config", required=True, help="lab config")
    p.set_defaults(func=cmd_variants)

    p = sub.add_parser("tune", help="preference-tune a variant (spin, dpo or kto) into a new variant",
                       description="TRL DPO/KTO on a variant's LoRA adapter, the variant itself as reference: "
                                   "spin (my real replies over its own), dpo (arena battle votes) or kto (votes, "
                                   "guesses, ratings). Writes results/<lab>/tuned/<name>/ and registers "
                                   "<from>-<method> in variants.json.")
    p.add_argument("--config", required=True, help="lab config")
    p.add_argument("--from", dest="from_variant", default=None, help="variant to tune (default tune.from_variant)")
    p.add_argument("--method", choices=("spin", "dpo", "kto"), default=None, help="default tune.method")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("serve", help="serve every variant (OpenAI-compatible API)",
                       description="local: the embedded engine (transformers + peft, every variant on one base) "
                                   "behind an OpenAI-compatible API; vllm: a vLLM server with every variant as "
                                   "a LoRA adapter.")
    p.add_argument("--config", required=True, help="lab config")
    p.add_argument("--engine", choices=["local", "vllm"], default=None, help="default: serve.engine in the config")
    p.add_argument("--host", default=None, help="default 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default 8000")
    p.add_argument("--print-command", action="store_true", help="vllm: print the server command and exit")
    p.add_argument("--no-guard", action="store_true", help="do not mask private values in replies "
                                                             "(raw-leakage evaluation only)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("arena", help="the blind arena (Gradio), or `arena export` of its votes",
                       description="Battle (blind A/B), Real or clone?, Rate and Leaderboard tabs over the "
                                   "serving backend; votes in SQLite (results/<lab>/arena.db) or arena.db_url.")
    p.add_argument("action", nargs="?", choices=["serve", "export"], default="serve")
    p.add_argument("--config", default=DEMO_CONFIG, help=f"lab config (default {DEMO_CONFIG})")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--out", help="export: JSONL file (default results/<lab>/arena_votes.jsonl)")
    p.set_defaults(func=cmd_arena)

    p = sub.add_parser("chat", help="the public chat page with the chosen clone, or `chat export` of what "
                                    "visitors tried",
                       description="A non-blind chat with one variant (persona-eval choose's pick, or --variant), "
                                   "the reply guard always on, consent before anything is stored, rate and turn "
                                   "limits, and an admin dashboard (password from arena.chat.admin_password_env). "
                                   "`export` writes turns.jsonl, summary.json and dashboard.md.")
    p.add_argument("action", nargs="?", choices=["serve", "export"], default="serve")
    p.add_argument("--config", default=DEMO_CONFIG, help=f"lab config (default {DEMO_CONFIG})")
    p.add_argument("--variant", help="the variant visitors chat with (default: arena.chat.variant, else the choice)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--out", help="export: folder (default results/<lab>/chat_export/)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="the whole loop for a lab: ingest, train, blend, evaluate",
                       description="Run every stage of a lab in order (ingest, train, blend, search and tune "
                                   "when enabled, eval). Each "
                                   "stage's input and output hashes go to results/<lab>/run_manifest.json; a "
                                   "stage whose inputs and outputs are unchanged is skipped.")
    p.add_argument("--config", default=DEMO_CONFIG, help=f"lab config (default {DEMO_CONFIG})")
    p.add_argument("--quick", action="store_true", help="cap training at 10 steps per adapter (says so)")
    p.add_argument("--until", choices=RUN_STAGES, default="eval",
                   help="stop after this stage (default: eval, the whole loop)")
    p.add_argument("--force", action="append", choices=(*RUN_STAGES, "all"),
                   metavar="STAGE", help="redo STAGE even if nothing changed (repeatable; 'all' for every stage)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_run)
    return parser


def _dispatch(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from persona_lab.errors import PersonaLabError

    try:
        return args.func(args)
    except PersonaLabError as exc:
        return _fail(str(exc), hint=exc.hint)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def main(argv: list[str] | None = None) -> int:
    return _dispatch(build_parser(), argv)


def _weight(item: str) -> tuple[str, float]:
    """One --weight METRIC=W; argparse turns the error into a usage message (exit 2)."""
    from persona_lab.config import COMPOSITE_METRICS

    name, _, value = item.partition("=")
    if name not in COMPOSITE_METRICS:
        raise argparse.ArgumentTypeError(f"unknown metric {name!r}; the composite's are {', '.join(COMPOSITE_METRICS)}")
    try:
        weight = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number (write METRIC=W, e.g. style=0.5)") from None
    if not weight >= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: a weight is a number >= 0")
    return name, weight


def cmd_eval_score(args: argparse.Namespace) -> int:
    from persona_lab.evaluate.runner import score_files

    candidates = {}
    for spec in args.candidates:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            return _fail(f"--candidates takes NAME=FILE, got {spec!r}", 2)
        candidates[name] = Path(path)
    result = score_files(Path(args.profile), Path(args.refs), candidates, Path(args.out),
                         weights=dict(args.weight) if args.weight else None, n_boot=args.n_bootstrap,
                         seed=args.seed, options={"embedding_model": args.embedding_model})
    _print_scores(result.scores)
    folder = ReportFolder(Path(args.out))
    print(f"wrote {folder.scores}, {folder.report.name}, {folder.report_html.name}")
    return 0


def _print_scores(scores: dict) -> None:
    from persona_lab.evaluate.report import recommendation

    def ci(entry: dict, key: str) -> str:
        low, high = entry.get(f"{key}_ci") or (None, None)
        return "" if low is None or high is None else f" [{low:.2f}, {high:.2f}]"

    rows = list(scores["ranking"]) + [c for c in scores.get("controls", []) if "fidelity" in scores["variants"][c]]
    for rank, name in enumerate(rows, 1):
        entry = scores["variants"][name]
        label = f"({name})" if entry.get("kind") == "control" else name
        fidelity = entry.get("fidelity")
        value = "   –" if fidelity is None else f"{fidelity:+.2f}"
        print(f"{rank:>2}. {label:<14} fidelity {value}{ci(entry, 'fidelity')}  composite "
              f"{entry['composite']:.3f}  n={entry['n']}x{entry['samples_per_context']}")
    print("(names in brackets are controls: fidelity 0 = another person, 1 = my real replies)")
    if scores.get("authorship_auc") is not None:
        print(f"authorship AUC (held-out, me vs the others): {scores['authorship_auc']:.3f}")
    best, reason = recommendation(scores)
    print(f"recommended: {best} - {reason}" if best else f"no recommendation: {reason}")


def cmd_eval_run(args: argparse.Namespace) -> int:
    from persona_lab.evaluate.runner import run_eval

    config = _load(args.config)
    variants = args.variants.split(",") if args.variants else None
    result = run_eval(config, variants=variants, n=args.n, seed=args.seed, progress=not args.quiet)
    _print_scores(result.scores)
    print(f"report: {config.paths.report} (and report.html)")
    return 0


def cmd_eval_report(args: argparse.Namespace) -> int:
    from persona_lab.evaluate.report import rerender

    mask = None
    if args.config:
        from persona_lab.serve.factory import make_guard

        mask = make_guard(_load(args.config), enabled=True).mask  # only for texts the run did not show
    paths = rerender(Path(args.dir), mask=mask)
    print(f"wrote {paths['report']} and {paths['report_html']}")
    return 0


def cmd_eval_choose(args: argparse.Namespace) -> int:
    from persona_lab.evaluate.choose import choose, export

    config = _load(args.config)
    choice = choose(config, args.variant)
    if choice["winner"] is None:
        print(f"no final blend: {choice['reason']}")
        print(f"  leader: {choice['leader']}; pick one yourself with --variant NAME, or gather more evidence "
              "(more contexts, more samples per context, arena votes)")
        return 1 if args.export else 0
    print(f"final blend: {choice['winner']} ({choice['basis']})")
    print(f"  {choice['reason']}")
    if choice["runner_up"] and choice["margin"] is not None:
        print(f"  margin over {choice['runner_up']}: {choice['margin']:+.3f} (fidelity, or combined with votes)")
    if args.export:
        out = export(config, choice, Path(args.export))
        print(f"exported to {out} (adapter/, merged/, MODEL_CARD.md)")
    return 0


def build_eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="persona-eval",
        description="Score persona variants against held-out real replies and controls (my replies elsewhere, "
                    "a copy of my training data, another person, generic text, a constant, a caricature): "
                    "authorship, style, context fit, failures, overlap and privacy, with paired bootstrap CIs and "
                    "an anchored fidelity (0 = another person, 1 = my real replies).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="every variant answers the held-out contexts (cached), then score and report")
    p.add_argument("--config", required=True)
    p.add_argument("--variants", help="comma-separated; default: every variant in the registry")
    p.add_argument("--n", type=int, default=None, help="held-out contexts (default eval.n in the config)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_eval_run)

    p = sub.add_parser("score", help="score replies that already exist, from any system (files only)")
    p.add_argument("--profile", required=True, metavar="TRAIN.jsonl", help="messages-format training file")
    p.add_argument("--refs", required=True, metavar="EVAL.jsonl", help='{"id","context","reply"} items')
    p.add_argument("--candidates", required=True, nargs="+", metavar="NAME=FILE", help='{"id","reply"} lines')
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--weight", action="append", type=_weight, metavar="METRIC=W",
                   help="composite weight of authorship, style or context (default: fitted on the training file)")
    p.add_argument("--embedding-model", default="use", help="use (default), minilm, or a sentence-transformers model")
    p.add_argument("--n-bootstrap", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_eval_score)

    p = sub.add_parser("report", help="re-render report.md/html from a scored folder")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--config", help="the lab's config, for a folder written before persona-lab kept the masked texts "
                   "its report showed (replies.json without \"shown\")")
    p.set_defaults(func=cmd_eval_report)

    p = sub.add_parser("choose", help="name the final blend and optionally export it")
    p.add_argument("--config", required=True)
    p.add_argument("--export", metavar="DIR", help="write the adapter, a merged model and a model card here")
    p.add_argument("--variant", help="choose this variant yourself (when none is separable)")
    p.set_defaults(func=cmd_eval_choose)
    return parser


def eval_main(argv: list[str] | None = None) -> int:
    return _dispatch(build_eval_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
