"""What the metrics know about me, read from files alone: a messages-format training file (my replies are
the ``assistant`` turns; other people's lines are the ``user`` turns) and an evaluation file of
``{"id","context","reply"}`` items (``reply`` is what I really said).

The training file is split three ways, by time, so that nothing is judged by a model that saw it:
  prepare  the older part: fits the metrics' models (authorship classifier, style feature choice, base rates)
  copy     a seeded tenth of the older part, kept away from those models: the ``copy_train`` control draws
           from it (a training reply the metrics never saw, as a clone that parrots its training data would)
  dev      the latest part, as evaluation items: the composite's weights are fitted on controls built from it,
           never on the held-out evaluation file
Names of people (speaker prefixes, the persona's own name, capitalised English names, Chinese person names
tagged by jieba) are collected here so that no metric counts another person's name as my style.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from persona_lab.errors import PersonaLabError
from persona_lab.text import cjk_share, jieba_posseg, log_odds, terms
from persona_lab.workspace.shapes import EvalItem, dev_size, replies_by_time

SPEAKER_PREFIX = re.compile(r"^(?P<name>\[NAME#\d+\]|[^:\n]{1,40}):\s")
PERSONA_IN_SYSTEM = re.compile(r"^You are (?P<name>[^,，\n]{1,40})[,，]")
MARKERS = {"[new conversation]"}
COPY_FRACTION, COPY_MAX = 0.10, 2000
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']+")
_NOT_NAMES = {"i", "i'm", "i'll", "i've", "i'd", "ok", "okay", "god", "oh", "hey", "yes", "no", "mr", "mrs", "ms",
              "dr", "tv", "uh", "um"}


class EvalInputError(PersonaLabError, ValueError):
    """A file that cannot be scored; the message names the file and line."""

    hint = "check the file named in the message: JSONL with the fields `persona-eval score --help` lists"


@dataclass
class Profile:
    mine: list[str]  # my training replies the metrics fit on ("prepare")
    others: list[str]  # other speakers' lines in those samples (the "not me" examples)
    names: set[str] = field(default_factory=set)  # lower-cased names and name parts of people
    catchphrases: list[str] = field(default_factory=list)
    copy_pool: list[str] = field(default_factory=list)  # my training replies no metric model saw
    dev: list[EvalItem] = field(default_factory=list)  # the latest training samples, as evaluation items
    language: str = "en"
    persona: str | None = None


def speaker_lines(text: str) -> list[tuple[str | None, str]]:
    """A user turn may hold several people's lines ("name: text" per line in group chats)."""
    out = []
    for line in text.split("\n"):
        line = line.strip()
        match = SPEAKER_PREFIX.match(line)
        name = match["name"] if match else None
        line = SPEAKER_PREFIX.sub("", line)
        if line and line not in MARKERS:
            out.append((name, line))
    return out


def split_lines(text: str) -> list[str]:
    return [line for _, line in speaker_lines(text)]


def load_profile(path: Path, limit: int = 50_000, seed: int = 0) -> Profile:
    samples = replies_by_time(path, limit)
    for row, number in samples:
        if not isinstance(row["messages"][-1].get("content"), str):
            raise EvalInputError(f"{path}:{number}: the last message's 'content' is not text")
    if not samples:
        raise EvalInputError(f"{path}: no assistant replies: this file says nothing about how I write")
    prepare, copy, dev = _three_way(samples, seed)
    mine = [row["messages"][-1]["content"] for row in prepare]
    others: list[str] = []
    speakers: Counter = Counter()
    for row in prepare:
        for message in row["messages"][:-1]:
            if message.get("role") == "user":
                for name, line in speaker_lines(str(message.get("content", ""))):
                    others.append(line)
                    if name:
                        speakers[name] += 1
    others = list(dict.fromkeys(others))  # context lines repeat across overlapping samples
    persona = _persona_name(prepare[0]["messages"]) if prepare else None
    names = collect_names(mine + others[:20_000], [*speakers, *([persona] if persona else [])])
    language = "zh" if sum(cjk_share(t) for t in mine[:2000]) / max(len(mine[:2000]), 1) > 0.3 else "en"
    dev_items = [EvalItem(str(row.get("id", f"dev-{i}")), row["messages"][:-1], row["messages"][-1]["content"],
                          str(row.get("facet", "")), str(row.get("conversation", "")))
                 for i, row in enumerate(dev)]
    return Profile(mine, others, names, mine_catchphrases(mine, others, names),
                   [row["messages"][-1]["content"] for row in copy], dev_items, language, persona)


def _three_way(samples: list, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """(prepare, copy, dev): dev is the latest slice by time, copy a seeded tenth of the rest."""
    rows = [row for row, _ in samples]
    n_dev = dev_size(len(rows))
    older, dev = rows[:len(rows) - n_dev], rows[len(rows) - n_dev:]
    n_copy = min(COPY_MAX, int(len(older) * COPY_FRACTION))
    chosen = set(random.Random(seed).sample(range(len(older)), n_copy)) if n_copy else set()
    prepare = [row for i, row in enumerate(older) if i not in chosen]
    copy = [row for i, row in enumerate(older) if i in chosen]
    return prepare, copy, dev


def _persona_name(messages: list[dict]) -> str | None:
    first = messages[0] if messages else {}
    if first.get("role") == "system":
        match = PERSONA_IN_SYSTEM.match(str(first.get("content", "")))
        if match:
            return match["name"].strip()
    return None


def collect_names(texts: list[str], known: list[str]) -> set[str]:
    """Lower-cased names of people: every known name (speaker prefixes, the persona) and those of its parts
    that are not everyday words (a speaker called "Bank Officer" masks neither "bank" nor "officer"),
    English words written capitalised mid-sentence nearly every time (Pheebs, Rach), and words jieba tags
    as person names (nr) three times or more. Used to mask names before any authorship or style feature
    sees them."""
    capitalised, total = Counter(), Counter()
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            for position, match in enumerate(_LATIN_WORD.finditer(sentence)):
                word = match.group(0)
                if position == 0 or word.isupper():
                    continue  # sentence-initial capitals and acronyms say nothing
                total[word.lower()] += 1
                capitalised[word.lower()] += word[0].isupper()

    def proper(word: str) -> bool:
        return word not in _NOT_NAMES and (total[word] < 3 or capitalised[word] >= 0.5 * total[word])

    names: set[str] = set()
    for name in known:
        if name.startswith("[NAME#") or not re.search(r"\w", name) or name[:1] in "(（#":
            continue
        names.add(name.lower())
        parts = [part.lower() for part in re.split(r"[\s·.]+", name) if len(part) >= 2]
        names.update(part for part in parts if not part.isascii() or proper(part))
    names.update(w for w, n in total.items() if n >= 3 and capitalised[w] >= 0.9 * n and w not in _NOT_NAMES)
    names.update(_chinese_person_names(texts))
    return names


# jieba tags many ordinary words as person names (乌龟, 众人, 冷笑): a word counts only when it also starts
# with a common surname or a nickname prefix.
SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
               "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
               "莫孔向汤佟关岳洪康施牛葛柳鲁") | {"小", "阿"}


def _chinese_person_names(texts: list[str], min_count: int = 3) -> set[str]:
    cjk = [t for t in texts if cjk_share(t) > 0.3][:5000]  # part-of-speech tagging is slow
    if not cjk:
        return set()

    counts: Counter = Counter()
    for text in cjk:
        counts.update(word for word, flag in jieba_posseg(text)
                      if flag in ("nr", "nrfg", "nrt") and 2 <= len(word) <= 4 and word[0] in SURNAMES)
    return {w for w, n in counts.items() if n >= min_count}


def mask_names(text: str, names: set[str], pattern: re.Pattern | None = None) -> str:
    """Replace every name of a person with one neutral symbol."""
    pattern = pattern or names_pattern(names)
    return pattern.sub("@", text) if pattern is not None else text


def names_pattern(names: set[str]) -> re.Pattern | None:
    if not names:
        return None
    ordered = sorted(names, key=len, reverse=True)
    latin = [re.escape(n) for n in ordered if re.fullmatch(r"[a-z0-9' ]+", n)]
    other = [re.escape(n) for n in ordered if not re.fullmatch(r"[a-z0-9' ]+", n)]
    parts = []
    if latin:
        parts.append(r"(?<![A-Za-z])(?:" + "|".join(latin) + r")(?![A-Za-z])")
    if other:
        parts.append("(?:" + "|".join(other) + ")")
    return re.compile("|".join(parts), re.IGNORECASE)


def mine_catchphrases(mine: list[str], others: list[str], names: set[str] | None = None, top: int = 30) -> list[str]:
    """My over-used words and two-word phrases (log-odds against the others), strongest first; names of
    people are not style, so no phrase holding one counts."""
    names = names or set()
    mine_counts, other_counts = Counter(), Counter()
    for text in mine[:20_000]:
        mine_counts.update(set(terms(text)))
    for text in others[:20_000]:
        other_counts.update(set(terms(text)))
    scored = [(t, z) for t, z, n in log_odds(mine_counts, other_counts, min_count=3) if z > 1.0]
    cjk_names = [n for n in names if not n.isascii() and len(n) >= 2]
    return [t for t, _ in scored if not any(part in names for part in t.split(" "))
            and not any(name in t for name in cjk_names)][:top]

