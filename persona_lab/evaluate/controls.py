"""Controls: candidate sets built from real data, scored exactly like the variants, so every number has
something to be read against. A metric that one of them can game is a defect.

  real          my held-out reply to each context (the ceiling; cross-fitted, see crossfit.py)
  me_elsewhere  my real held-out reply to *another* context (my voice, not this conversation)
  copy_train    a random training reply of mine that no metric model saw (a clone parroting its data)
  other_person  a real held-out line of the person I talk to most (someone else's voice, same chats)
  generic       bundled small talk in my language (nobody's voice)
  constant      my most frequent short reply, to every context
  caricature    my top catchphrases strung together (over-doing me)

Fidelity is anchored on two of them: 0 = other_person, 1 = real.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np

from persona_lab.evaluate.crossfit import ItemSet
from persona_lab.evaluate.metrics.failures import normalised
from persona_lab.evaluate.profile import Profile, speaker_lines

CONTROLS = ("real", "me_elsewhere", "copy_train", "other_person", "generic", "constant", "caricature")
ANCHOR_LOW, ANCHOR_HIGH = "other_person", "real"
GENERIC_DIR = Path(__file__).resolve().parent / "generic"
SHORT_REPLY = {"en": 20, "zh": 8}
MIN_PERSON_LINES = 30


def generic_lines(language: str) -> list[str]:
    path = GENERIC_DIR / f"{'zh' if language == 'zh' else 'en'}.txt"
    return [line.strip() for line in path.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def build_controls(items: ItemSet, profile: Profile, seed: int) -> tuple[dict[str, list[str | None]], dict[str, str]]:
    """(replies per control, one per item or None; a note per control saying what it holds or why it is
    absent). Pools are drawn without replacement while they last: no control repeats itself by construction."""
    rng = random.Random(seed)
    replies: dict[str, list[str]] = {"real": items.replies, "me_elsewhere": me_elsewhere(items)}
    notes = {"real": "my held-out replies", "me_elsewhere": "my held-out replies, each moved to a context of "
             "another conversation in the same fold"}
    if profile.copy_pool:
        # never more contexts than pooled replies: drawing one twice would make the control repeat itself
        covered = set(rng.sample(range(items.n), min(items.n, len(profile.copy_pool))))
        pool = iter(draw(profile.copy_pool, len(covered), rng))
        replies["copy_train"] = [next(pool) if i in covered else None for i in range(items.n)]
        notes["copy_train"] = (f"training replies of mine held apart from the metrics ({len(profile.copy_pool)}"
                               f"{'' if len(covered) == items.n else f'; they cover {len(covered)} contexts'})")
    else:
        notes["copy_train"] = "absent: the training file is too small to hold replies apart"
    person, lines = other_person(items, rng)
    if lines is not None:
        replies["other_person"] = lines
    notes["other_person"] = person
    replies["generic"] = generic_replies(profile.language, items.n, rng)
    notes["generic"] = (f"one or two sentences of bundled {profile.language} small talk "
                        f"({GENERIC_DIR.name}/{profile.language}.txt)")
    constant = constant_reply(profile)
    replies["constant"] = [constant] * items.n
    notes["constant"] = f"my most frequent short reply: {constant!r}"
    if len(profile.catchphrases) >= 3:
        replies["caricature"] = caricature(profile, items.n, rng)
        notes["caricature"] = "three of my top eight catchphrases, strung together"
    else:
        notes["caricature"] = "absent: fewer than three catchphrases"
    return replies, notes


def draw(pool: list[str], n: int, rng: random.Random) -> list[str]:
    """``n`` draws from ``pool``: a shuffled pass through it, then another, and so on."""
    out: list[str] = []
    while len(out) < n:
        order = list(pool)
        rng.shuffle(order)
        out += order[:n - len(out)]
    return out


def generic_replies(language: str, n: int, rng: random.Random) -> list[str]:
    """One bundled line, or two joined, per item: enough distinct replies that generic text is not
    penalised for repeating itself, only for not being anyone's voice."""
    lines = generic_lines(language)
    joiner = "" if language == "zh" else " "
    pairs = [a + joiner + b for a in lines for b in lines if a != b]
    return draw(lines, min(n, len(lines)), rng) + draw(pairs, max(0, n - len(lines)), rng) if n > len(lines) \
        else draw(lines, n, rng)


def me_elsewhere(items: ItemSet) -> list[str]:
    """Each item gets my real reply to an item of the same fold half the fold away (another conversation,
    so the reply was written for something else), never its own."""
    out = [""] * items.n
    for fold in (0, 1):
        members = np.flatnonzero(items.fold == fold)
        if len(members) == 0:
            continue
        shift = max(1, len(members) // 2)
        for position, i in enumerate(members):
            for step in range(len(members)):
                j = members[(position + shift + step) % len(members)]
                if items.conversation[j] != items.conversation[i] or step == len(members) - 1:
                    break
            out[i] = items.items[j].reply
    return out


def other_person(items: ItemSet, rng: random.Random) -> tuple[str, list[str] | None]:
    """Held-out lines of the person most often heard in the evaluation contexts (names in speaker prefixes),
    with the next most frequent added until there are enough distinct lines that none need repeat; without
    names (one-to-one chats), every other person's held-out lines. Each item gets a line said in another
    conversation of its own fold."""
    lines: list[tuple[str | None, str, int]] = []
    for i, item in enumerate(items.items):
        for message in item.context:
            if message.get("role") == "user":
                lines += [(name, text, i) for name, text in speaker_lines(str(message.get("content", "")))]
    speakers = Counter(name for name, _, _ in lines if name and _is_person(name))
    per_fold = max(int((items.fold == 0).sum()), int((items.fold == 1).sum()))
    chosen_names: list[str] = []
    for name, _ in speakers.most_common():  # the people I talk to most, until no line need repeat
        chosen_names.append(name)
        if len({normalised(text) for who, text, _ in lines if who in chosen_names}) >= 2 * per_fold:
            break
    chosen = [(text, i) for name, text, i in lines if name in chosen_names]
    label = f"held-out lines of {', '.join(chosen_names[:3])}{' and others' if len(chosen_names) > 3 else ''}"
    if len({normalised(text) for text, _ in chosen}) < MIN_PERSON_LINES:
        chosen = [(text, i) for _, text, i in lines]
        label = "held-out lines of the other people in my chats"
    by_fold: dict[int, dict[str, set[int]]] = {0: {}, 1: {}}
    spelling: dict[str, str] = {}  # "Okay." and "okay!" are one line: the pool holds each once
    for text, i in chosen:
        text = spelling.setdefault(normalised(text), text)
        by_fold[int(items.fold[i])].setdefault(text, set()).add(int(items.conversation[i]))
    if sum(len(pool) for pool in by_fold.values()) < 2:
        return "absent: the evaluation contexts hold no lines of other people", None
    out = [""] * items.n
    for fold, own in by_fold.items():
        # Lines from the same fold first: a line's own context is then never among those a context-fit
        # score compares it with (the other fold). When the fold runs short, the other fold's lines follow
        # (a small data set), so that no line is given twice; only then does the queue start over.
        borrowed = [text for text in by_fold[1 - fold] if text not in own]
        pool = {**own, **{text: by_fold[1 - fold][text] for text in borrowed}}
        first = list(own)
        rng.shuffle(first)
        rng.shuffle(borrowed)
        queue = first + borrowed + draw(list(pool), 4 * items.n, rng)
        for i in np.flatnonzero(items.fold == fold):
            conversation = int(items.conversation[i])
            take = next((k for k, text in enumerate(queue) if conversation not in pool[text]), 0)
            out[i] = queue.pop(take)
    return label, out


def _is_person(name: str) -> bool:
    """False for speaker labels that are not one person: narration, stage directions, "#ALL#". (Pseudonyms
    such as [NAME#2] are people.)"""
    return not (name[:1] in "(（#" or "direction" in name.lower() or "narrat" in name.lower())


def constant_reply(profile: Profile) -> str:
    limit = SHORT_REPLY.get(profile.language, 20)
    counts = Counter(reply.strip() for reply in profile.mine if 0 < len(reply.strip()) <= limit)
    return counts.most_common(1)[0][0] if counts else (profile.mine[0] if profile.mine else "ok")


def caricature(profile: Profile, n: int, rng: random.Random) -> list[str]:
    top = profile.catchphrases[:8]
    joiner = "，" if profile.language == "zh" else ", "
    return [joiner.join(rng.sample(top, 3)) + ("！" if profile.language == "zh" else "!") for _ in range(n)]
