"""The arena's logic without its UI: battles, "Real or clone?" rounds, ratings and the leaderboard.

Blindness is kept here, not in the page: a browser only ever holds opaque ids (battle and round ids);
which variant sits behind "A" or "left" lives in the database or in this process. Names are returned only
by ``vote`` (after the vote is recorded) and by the leaderboard. A reply can still name its own variant (an
adapter that read its lab notes): every identifying name is masked wherever a reply is shown, while it
streams too, and the battle is voided. Pairs are drawn to balance comparisons: the least-compared pair
first, random sides.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from persona_lab.serve.backend import Backend, ChatRequest, GenerationParams, stream_results
from persona_lab.serve.guard import ReplyGuard
from persona_lab.workspace.shapes import EvalItem
from persona_lab.workspace.votes import ArenaStore

VOTES = {"A sounds more like me": "model_a", "B sounds more like me": "model_b", "Tie": "tie",
         "Neither": "tie (bothbad)"}


HIDDEN_NAME = "[variant]"


def identifying(names: list[str]) -> list[str]:
    """The names a reply could give away. Names that are everyday words (chat, blog, base) would match
    ordinary replies, so only names with a digit or of 6+ characters count (chat72, prompted)."""
    return sorted({n for n in names if any(c.isdigit() for c in n) or len(n) >= 6}, key=len, reverse=True)


def _name_pattern(name: str) -> re.Pattern:
    """The name as a word: not inside a longer Latin word or number ("chat72" is not in "chat721"); Chinese
    has no spaces, so any other character may stand next to it ("我是chat72啊")."""
    return re.compile(rf"(?i)(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")


def reveals_identity(reply: str, names: list[str]) -> bool:
    """A reply that states a variant name (see ``identifying``)."""
    return any(_name_pattern(name).search(reply) for name in identifying(names))


def hide_names(text: str, names: list[str], *, final: bool = True) -> str:
    """``text`` with every identifying variant name replaced by ``[variant]``. While a reply is still
    arriving (``final`` False), a tail that could be the start of a name ("…I am ch") is held back too."""
    names = identifying(names)
    for name in names:
        text = _name_pattern(name).sub(HIDDEN_NAME, text)
    if not final:
        lowered = text.lower()
        for name in names:
            for size in range(len(name), 0, -1):
                start = len(text) - size
                if start >= 0 and lowered.endswith(name[:size].lower()) and \
                        (start == 0 or not re.match(r"[A-Za-z0-9_]", text[start - 1])):
                    text, lowered = text[:start], lowered[:start]
                    break
    return text


@dataclass
class Round:
    item_id: str
    variant: str
    real_side: str  # "left" or "right"


class Arena:
    def __init__(self, backend: Backend, store: ArenaStore, guard: ReplyGuard, variants: list[str], *,
                 params: GenerationParams, eval_items: list[EvalItem] | None = None,
                 cached_replies: dict[str, dict[str, str]] | None = None, seed: int | None = None,
                 scores: dict | None = None) -> None:
        """``params``: how battle replies are sampled (the lab's arena.max_tokens, temperature, top_p)."""
        self.backend, self.store, self.guard = backend, store, guard
        self.variants = list(variants)
        self.eval_items = {item.id: item for item in (eval_items or [])}
        self.cached = cached_replies or {}
        self.params = params
        self.rng = random.Random(seed)
        self.rounds: dict[str, Round] = {}
        self.scores = scores
        self.lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ battles

    def pick_pair(self) -> tuple[str, str]:
        counts = {pair: 0 for pair in itertools.combinations(sorted(self.variants), 2)}
        for battle in self.store.battle_pairs():
            key = tuple(sorted(battle))
            if key in counts:
                counts[key] += 1
        fewest = min(counts.values())
        pair = list(self.rng.choice([p for p, n in counts.items() if n == fewest]))
        self.rng.shuffle(pair)  # random sides
        return pair[0], pair[1]

    def start_battle(self, rater_id: str) -> str:
        with self.lock:
            a, b = self.pick_pair()
            return self.store.open_battle(rater_id, a, b)

    def reply_pair(self, battle_id: str, history_a: list[dict], history_b: list[dict],
                   message: str) -> Iterator[tuple[str, str, bool]]:
        """Streams (text_a, text_b, done). On a backend failure the battle is marked failed and the
        error is raised to the caller, which shows it in the chat bubbles."""
        a, b = self.store.battle_variants(battle_id)
        messages_a = history_a + [{"role": "user", "content": message}]
        messages_b = history_b + [{"role": "user", "content": message}]
        requests = [ChatRequest(a, messages_a, self.params), ChatRequest(b, messages_b, self.params)]
        texts = ["", ""]
        try:
            for row, text in stream_results(self.backend, requests):  # both replies decode in one batch
                texts[row] += text
                yield self.partial(texts[0]), self.partial(texts[1]), False
        except Exception:
            self.store.mark_failed(battle_id)
            raise
        final_a, final_b = (self.shown(self.guard.check(text)[0]) for text in texts)
        self.store.add_turn(battle_id, message, final_a, final_b)
        if reveals_identity(texts[0], [a, b]) or reveals_identity(texts[1], [a, b]):
            self.store.mark_failed(battle_id)  # excluded from rating, as in FastChat
        yield final_a, final_b, True

    def partial(self, raw: str) -> str:
        """What a rater may see of a reply still arriving: private values and variant names never, not
        even their first characters."""
        return hide_names(self.guard.visible(raw), self.variants, final=False)

    def shown(self, text: str) -> str:
        """A finished (already guarded) reply as shown: every identifying variant name hidden, whichever
        variant it names, so the mask itself tells nothing."""
        return hide_names(text, self.variants)

    def voided(self, battle_id: str) -> bool:
        """True when the battle will not count (a reply named a variant, or a reply failed)."""
        return self.store.battle(battle_id)["status"] == "failed"



    def vote(self, battle_id: str, rater_id: str, choice: str) -> str:
        """Record the vote; only then say who was who."""
        if choice not in VOTES:
            raise ValueError(f"unknown vote {choice!r}")
        self.store.record_vote(battle_id, rater_id, VOTES[choice])
        a, b = self.store.battle_variants(battle_id)
        return f"Vote recorded. A was **{a}**, B was **{b}**."

    # ------------------------------------------------------------------------------------------ real or clone

    def new_round(self) -> tuple[str, str, str, str]:
        """(round id, context as text, left reply, right reply): one is mine, one a variant's."""
        candidates = [(v, i) for v in self.variants for i in self.cached.get(v, {}) if i in self.eval_items]
        if not candidates:
            raise LookupError("no held-out replies yet: run `persona-eval run` first")
        variant, item_id = self.rng.choice(candidates)
        item = self.eval_items[item_id]
        clone = self.shown(self.guard.mask(self.cached[variant][item_id]))
        real = self.shown(self.guard.mask(item.reply))
        real_side = self.rng.choice(["left", "right"])
        round_id = uuid.uuid4().hex
        self.rounds[round_id] = Round(item_id, variant, real_side)
        left, right = (real, clone) if real_side == "left" else (clone, real)
        return round_id, context_text(item.context), left, right

    def guess(self, round_id: str, rater_id: str, pick: str) -> str:
        round_ = self.rounds.pop(round_id, None)
        if round_ is None:
            raise LookupError("this round is over or unknown; start a new one")
        fooled = pick != round_.real_side
        self.store.record_guess(rater_id, round_.item_id, round_.variant, pick == round_.real_side, fooled)
        verdict = "Right" if not fooled else "Fooled"
        return f"{verdict}: the real reply was on the {round_.real_side}; the clone was **{round_.variant}**."

    # ------------------------------------------------------------------------------------------ rate

    def new_rating_item(self) -> tuple[str, str, str]:
        round_id, context, left, right = self.new_round()
        round_ = self.rounds[round_id]
        clone = left if round_.real_side == "right" else right
        return round_id, context, clone

    def rate(self, round_id: str, rater_id: str, score: int, note: str) -> str:
        round_ = self.rounds.pop(round_id, None)
        if round_ is None:
            raise LookupError("this reply was already rated; take a new one")
        self.store.record_rating(rater_id, round_.variant, round_.item_id, int(score), note or "")
        return f"Rating recorded: {score}/5 for **{round_.variant}**."


def context_text(context: list[dict], turns: int = 6) -> str:
    lines = []
    for message in context[-turns:]:
        if message.get("role") == "system":
            continue
        who = "Me" if message["role"] == "assistant" else "Them"
        lines.append(f"**{who}:** {message['content']}")
    return "\n\n".join(lines) or "(a new conversation)"
