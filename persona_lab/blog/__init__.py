"""Blog posts → chat-style Q&A samples (``persona-lab blog2qa PATH... --out FILE``, and ``blog:`` sources).

A post (Markdown, HTML or plain text; see ``readers``) becomes question/answer pairs whose answers are the
author's own sentences, as messages-format samples with source ``blog``:
``{"id": "blog-<post slug>-<n>", "source": "blog", "facet": "blog", "ts": <post date or null>,
"post": <file name>, "messages": [{"role": "user", ...}, {"role": "assistant", ...}]}``.

Two converters, chosen by ``blog2qa.mode``:
  offline (default)  template questions from the title, headings and key phrases; answers are runs of the
                     author's sentences, with lengths drawn around ``answer_chars`` (``offline``).
  llm                an OpenAI-compatible endpoint writes the pairs, validated, retried and cached (``llm``).
``answer_chars`` is ``blog2qa.answer_chars`` when set, else ``target_chars`` (the caller passes 3 × the median
length of my chat replies), else 120.

Every post found is counted once: ``report["read"] == report["kept"] + sum(report["dropped"].values())``.
A post that cannot be used (undecodable, empty, no text, no pairs) and an input that holds no post (a folder
with none, a missing path) are each a counted, named skip in ``report["files"]``, never silent.
``scrub`` is applied to every question and answer (and, in llm mode, to the text before it is sent).

Importing this package is cheap: jieba, BeautifulSoup, markdown-it and openai load only when used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from persona_lab.blog.llm import BlogLLMError, LLMConverter, LLMOutputError
from persona_lab.blog.offline import QAPair, default_cache_dir, offline_pairs
from persona_lab.blog.readers import BlogInputError, Post, Section, iter_post_paths, read_post
from persona_lab.config import Blog2QASettings

__all__ = [
    "BlogInputError", "BlogLLMError", "BlogResult", "LLMOutputError", "Post", "Section", "blog2qa_files",
    "blog_to_qa", "iter_post_paths", "read_post", "write_blog_section",
]

log = logging.getLogger(__name__)

DEFAULT_ANSWER_CHARS = 120
NO_PAIRS = "no_pairs"  # read fine, but nothing long enough to answer with
LLM_BAD_OUTPUT = "llm_bad_output"  # every chunk of the post got invalid replies
EXAMPLES = 3
EXAMPLE_QUESTION_CHARS, EXAMPLE_ANSWER_CHARS = 80, 160


@dataclass
class BlogResult:
    samples: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def resolve_answer_chars(settings: Blog2QASettings, target_chars: int | None = None) -> int:
    """``settings.answer_chars``, else ``target_chars`` (3 × my median chat reply), else 120."""
    for value in (settings.answer_chars, target_chars):
        if value is not None and value > 0:
            return int(value)
    return DEFAULT_ANSWER_CHARS


def blog_to_qa(
    paths: Iterable[str | Path],
    settings: Blog2QASettings,
    *,
    target_chars: int | None = None,
    scrub: Callable[[str], str] | None = None,
    cache_dir: Path | None = None,
) -> BlogResult:
    """Q&A samples from the posts in ``paths`` (files or folders) and a report of what was read and skipped.

    Raises ``BlogLLMError`` in llm mode when the endpoint is missing, unreachable or refuses the request.
    """
    answer_chars = resolve_answer_chars(settings, target_chars)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    converter = _llm_converter(settings, cache_dir, answer_chars) if settings.mode == "llm" else None
    report = _new_report(settings.mode, answer_chars)
    samples: list[dict[str, Any]] = []
    slugs: set[str] = set()
    for path, error in _inputs(paths):
        report["read"] += 1
        try:
            if error is not None:
                raise error
            post = read_post(path)
            pairs = _post_pairs(post, settings, answer_chars, converter, scrub, cache_dir)
        except BlogInputError as exc:
            _skip(report, exc)
            continue
        slug = _unique_slug(path, slugs)
        for n, pair in enumerate(pairs, 1):
            question = scrub(pair.question) if scrub else pair.question
            answer = scrub(pair.answer) if scrub else pair.answer
            samples.append({
                "id": f"blog-{slug}-{n}", "source": "blog", "facet": "blog", "ts": post.date,
                "post": path.name,
                "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            })
        report["kept"] += 1
        report["languages"][post.language] = report["languages"].get(post.language, 0) + 1
        report["files"].append({"file": str(path), "pairs": len(pairs), "language": post.language})
    _finish_report(report, samples, converter)
    return BlogResult(samples, report)


def blog2qa_files(
    paths: Iterable[str | Path],
    out_file: str | Path,
    settings: Blog2QASettings,
    target_chars: int | None = None,
    *,
    scrub: Callable[[str], str] | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """``persona-lab blog2qa``: the samples of ``paths`` written to ``out_file`` as JSON lines; the report.

    The file is written whole or not at all (a temporary file renamed into place).
    """
    result = blog_to_qa(paths, settings, target_chars=target_chars, scrub=scrub, cache_dir=cache_dir)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as handle:
        for sample in result.samples:
            handle.write(json.dumps(sample, ensure_ascii=False) + "\n")
    tmp.replace(out)  # a reader never sees half a file
    result.report["out"] = str(out)
    return result.report


# --- one post ------------------------------------------------------------------------------------------


def _post_pairs(
    post: Post,
    settings: Blog2QASettings,
    answer_chars: int,
    converter: LLMConverter | None,
    scrub: Callable[[str], str] | None,
    cache_dir: Path,
) -> list[QAPair]:
    """The post's pairs; ``BlogInputError`` (reason no_pairs / llm_bad_output) when there are none."""
    language = post.language if settings.language == "auto" else settings.language
    if converter is None:
        pairs = offline_pairs(
            post, answer_chars, language=language, max_pairs=settings.max_pairs_per_post, cache_dir=cache_dir
        )
        if not pairs:
            why = "no sentence long enough for a question-and-answer pair"
            raise BlogInputError(post.path, NO_PAIRS, why)
        return pairs
    failed_before = converter.stats.failed_chunks
    pairs = converter.post_pairs(post, language, settings.max_pairs_per_post, scrub)
    if not pairs:
        if converter.stats.failed_chunks > failed_before:
            why = "the LLM gave no valid question/answer pairs for this post"
            raise BlogInputError(post.path, LLM_BAD_OUTPUT, why)
        why = "the LLM's answers were not in the author's wording (all rejected), or it gave none"
        raise BlogInputError(post.path, NO_PAIRS, why)
    return pairs


def _llm_converter(settings: Blog2QASettings, cache_dir: Path, answer_chars: int) -> LLMConverter:
    if settings.llm is None:
        raise BlogLLMError("blog2qa.mode is 'llm' but blog2qa.llm (base_url, model) is not set")
    return LLMConverter(settings.llm, cache_dir, answer_chars)


def _inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, BlogInputError | None]]:
    """(post path, None) for every post; (input path, error) for an input that holds no post."""
    seen: set[Path] = set()
    for raw in paths:
        try:
            for path in iter_post_paths([raw]):
                key = path.resolve()
                if key in seen:
                    log.info("%s: listed twice; read once", path)
                    continue
                seen.add(key)
                yield path, None
        except BlogInputError as exc:
            yield exc.path, exc


def _unique_slug(path: Path, seen: set[str]) -> str:
    slug = re.sub(r"[\W_]+", "-", path.stem.lower()).strip("-") or "post"
    if slug in seen:
        # Two "index.md" in different folders: tell them apart by where they live.
        slug = f"{slug}-{hashlib.sha1(str(path).encode('utf-8')).hexdigest()[:6]}"
    seen.add(slug)
    return slug


# --- the report ----------------------------------------------------------------------------------------


def _new_report(mode: str, answer_chars: int) -> dict[str, Any]:
    return {
        "mode": mode, "read": 0, "kept": 0, "dropped": {}, "pairs": 0, "files": [], "languages": {},
        "answer_chars": {"target": answer_chars, "median": None, "p90": None},
    }


def _skip(report: dict[str, Any], error: BlogInputError) -> None:
    log.warning("skipped %s", error)
    report["dropped"][error.reason] = report["dropped"].get(error.reason, 0) + 1
    report["files"].append({"file": str(error.path), "pairs": 0, "reason": error.reason, "error": str(error)})


def _finish_report(
    report: dict[str, Any], samples: list[dict[str, Any]], converter: LLMConverter | None
) -> None:
    lengths = sorted(len(s["messages"][-1]["content"]) for s in samples)
    report["pairs"] = len(samples)
    report["answer_chars"].update({
        "n": len(lengths), "p10": _quantile(lengths, 0.1), "p25": _quantile(lengths, 0.25),
        "median": _quantile(lengths, 0.5), "p75": _quantile(lengths, 0.75), "p90": _quantile(lengths, 0.9),
    })
    report["examples"] = [_example(samples[i]) for i in _example_indices(len(samples))]
    if converter is not None:
        stats = converter.stats
        report["llm"] = {
            "base_url": converter.endpoint.base_url, "model": converter.endpoint.model,
            "requests": stats.requests, "cache_hits": stats.cache_hits, "retries": stats.retries,
            "rejected_pairs": stats.rejected_pairs, "failed_chunks": stats.failed_chunks,
        }
    assert report["read"] == report["kept"] + sum(report["dropped"].values())


def _quantile(sorted_values: list[int], q: float) -> int | None:
    """Nearest-rank quantile; None for no values."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 1))  # ceil(n·q), at least 1
    return sorted_values[int(rank) - 1]


def _example_indices(n: int) -> list[int]:
    if n <= EXAMPLES:
        return list(range(n))
    return [round(i * (n - 1) / (EXAMPLES - 1)) for i in range(EXAMPLES)]


def _example(sample: dict[str, Any]) -> dict[str, str]:
    question, answer = (m["content"] for m in sample["messages"])
    return {"post": sample["post"], "question": _trim(question, EXAMPLE_QUESTION_CHARS),
            "answer": _trim(answer, EXAMPLE_ANSWER_CHARS)}


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_blog_section(report: dict[str, Any]) -> str:
    """A Markdown section for DATA_CARD.md: posts read/kept/dropped, pairs, answer lengths, three examples."""
    dropped = report.get("dropped", {})
    n_dropped = sum(dropped.values())
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(dropped.items()))
    converter = "LLM-assisted" if report.get("mode") == "llm" else "offline"
    lines = [
        "## Blog posts",
        "",
        f"- Posts read: **{report['read']}**; kept: **{report['kept']}**; dropped: **{n_dropped}**"
        + (f" ({reasons})" if reasons else "") + ".",
        f"- Q&A pairs: **{report['pairs']}** ({converter} converter"
        + (f", {report['pairs'] / report['kept']:.1f} per kept post" if report["kept"] else "") + ").",
    ]
    chars = report.get("answer_chars", {})
    if chars.get("median") is not None:
        lines.append(
            f"- Answer length in characters (n = {chars.get('n', report['pairs'])}): "
            f"target {chars['target']}, median {chars['median']} "
            f"(IQR {chars.get('p25')}–{chars.get('p75')}), 90th percentile {chars['p90']}."
        )
    else:
        lines.append(f"- Answer length target: {chars.get('target')} characters (no pairs made).")
    llm = report.get("llm")
    if llm:
        lines.append(
            f"- LLM `{llm['model']}` at {llm['base_url']}: {llm['requests']} requests, "
            f"{llm['cache_hits']} cached chunks, {llm['retries']} retries, {llm['rejected_pairs']} answers "
            f"rejected as not the author's wording, {llm['failed_chunks']} chunks without valid output."
        )
    skipped = [f for f in report.get("files", []) if f.get("error")]
    if skipped:
        lines += ["", "Skipped:"]
        lines += [f"- `{Path(f['file']).name}` ({f['reason']}): {f['error']}" for f in skipped[:20]]
        if len(skipped) > 20:
            lines.append(f"- … and {len(skipped) - 20} more (see the blog report).")
    examples = report.get("examples") or []
    if examples:
        lines += ["", "Examples:", ""]
        for example in examples:
            lines += [f"> **Q:** {example['question']}  ", f"> **A:** {example['answer']}", ""]
    return "\n".join(lines).rstrip() + "\n"
