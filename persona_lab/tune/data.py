"""Preference data for tuning: SPIN pairs from the training split, DPO pairs and KTO examples from the arena.

Shapes (TRL's conversational formats, plus bookkeeping):
  pair         {"id", "group", "origin", "prompt": [messages], "chosen": str, "rejected": str}
  KTO example  {"id", "group", "origin", "prompt": [messages], "completion": str, "label": bool}
``group`` keeps what must stay together on one side of the held-out split (one SPIN context, one arena
battle, one held-out item), so turns of one conversation never sit on both sides.

What each source says, and what is dropped (records read = used + dropped by reason; rows left out of a used
record, e.g. a duplicate turn, are counted apart as dropped_rows):
  battle votes (DPO)   "model_a"/"model_b": every turn of the battle gives a pair; prompt = the conversation up
                       to that turn as the *winner* saw it (each side kept its own history; the loser's reply
                       was made in its own history, the closest single prompt we have), chosen = the winner's
                       reply, rejected = the loser's. "tie" and "tie (bothbad)" order nothing: dropped.
  battle votes (KTO)   decisive: the winner's replies desirable, the loser's undesirable (each in its own
                       history); "tie (bothbad)" (the UI's "neither"): both sides' replies undesirable; "tie":
                       dropped (it says nothing about either reply on its own).
  guesses (KTO)        a clone reply the rater caught (not fooled) is undesirable; one that fooled the rater
                       is desirable. The reply is the variant's first cached held-out reply, what the arena showed.
  ratings (KTO)        score >= tune.desirable_rating desirable, <= tune.undesirable_rating undesirable, in
                       between dropped as "neutral".
Blindness: the store has no blind flag because every record it holds is blind by construction: a battle's
variant names are revealed only after its vote is committed, a battle whose reply named a variant is marked
failed and can take no vote, and a "Real or clone?" round or rating item shows no name before the answer.
What can break blindness is a *repeat*: the answer to a guess or rating reveals the variant, so a second guess
(same rater, item, variant) or rating (same rater, variant, item) is no longer blind: only the first counts,
the rest are dropped as "repeat". A battle takes one vote (``votes.battle_id`` is UNIQUE); identical pairs from
one rater's different battles (same prompt, chosen, rejected) count once ("duplicate").
Guesses and ratings are about held-out evaluation items: training on them lets the tuned variant see those
contexts, so the items used are listed in the manifest and the registry entry counts them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from persona_lab.config import TuneSettings
from persona_lab.hashing import json_hash
from persona_lab.ratings import DECISIVE
from persona_lab.workspace.shapes import EvalItem, my_reply
from persona_lab.workspace.votes import ArenaStore


@dataclass
class Built:
    """A dataset and the accounting of what it was built from."""

    rows: list[dict[str, Any]]
    read: Counter = field(default_factory=Counter)  # records read, by kind (vote, guess, rating, context)
    used: Counter = field(default_factory=Counter)  # records that gave at least one row, by kind
    dropped: Counter = field(default_factory=Counter)  # records that gave none, by reason
    dropped_rows: Counter = field(default_factory=Counter)  # rows of used records left out, by reason
    groups: Counter = field(default_factory=Counter)  # used votes by rater board (owner, friends, strangers)
    eval_items: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        """The accounting: sum(read) == sum(used) + sum(dropped) (records); rows are what was kept."""
        return {"read": dict(self.read), "used": dict(self.used), "dropped": dict(self.dropped),
                "dropped_rows": dict(self.dropped_rows), "used_votes_by_group": dict(self.groups),
                "rows": len(self.rows),
                "eval_items_used": sorted(self.eval_items)}


# ------------------------------------------------------------------------------------------------ SPIN


def spin_contexts(samples: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """A seeded sample of ``n`` training samples (all when fewer) as {"id", "prompt", "chosen"}: the context
    up to my reply, and my real reply."""
    usable = [s for s in samples if my_reply(s) is not None and len(s["messages"]) >= 2]
    rng = random.Random(seed)
    chosen = rng.sample(usable, min(n, len(usable)))
    return [{"id": str(s.get("id", i)), "group": str(s.get("id", i)), "origin": "spin",
             "prompt": [dict(m) for m in s["messages"][:-1]], "chosen": my_reply(s)} for i, s in enumerate(chosen)]


def spin_pairs(contexts: list[dict[str, Any]], own_replies: list[str]) -> Built:
    """SPIN pairs: my real reply over the variant's own. A context where the variant said exactly what I said
    carries no preference and is dropped ("same reply")."""
    built = Built([])
    built.read["context"] = len(contexts)
    for context, own in zip(contexts, own_replies, strict=True):
        if own.strip() == context["chosen"].strip():
            built.dropped["same reply"] += 1
            continue
        built.used["context"] += 1
        built.rows.append({**context, "rejected": own})
    return built


# ------------------------------------------------------------------------------------------------ votes


def _group(vote: dict[str, Any]) -> str:
    """The rater's board; every board's votes are used (all blind), and the manifest counts them per board."""
    return str(vote.get("group") or ("owner" if vote.get("is_person") else "friends"))


def _histories(battle: dict[str, Any]) -> tuple[list[list[dict]], list[list[dict]]]:
    """For each turn, the prompt side A and side B saw (their own earlier replies in it)."""
    prompts_a, prompts_b, hist_a, hist_b = [], [], [], []
    for turn in battle["turn_list"]:
        user = {"role": "user", "content": turn["user_message"]}
        prompts_a.append(hist_a + [user])
        prompts_b.append(hist_b + [user])
        hist_a = hist_a + [user, {"role": "assistant", "content": turn["reply_a"]}]
        hist_b = hist_b + [user, {"role": "assistant", "content": turn["reply_b"]}]
    return prompts_a, prompts_b


def dpo_pairs_from_votes(store: ArenaStore) -> Built:
    """DPO pairs from decisive battle votes (see the module docstring for every rule)."""
    built, seen = Built([]), set()
    for vote in store.votes():
        built.read["vote"] += 1
        if vote["winner"] not in DECISIVE:
            built.dropped[vote["winner"]] += 1
            continue
        battle = store.battle(vote["battle_id"])
        prompts_a, prompts_b = _histories(battle)
        a_won = vote["winner"] == "model_a"
        kept = 0
        for number, turn in enumerate(battle["turn_list"]):
            prompt = prompts_a[number] if a_won else prompts_b[number]
            chosen, rejected = (turn["reply_a"], turn["reply_b"]) if a_won else (turn["reply_b"], turn["reply_a"])
            key = json_hash([vote["rater_id"], prompt, chosen, rejected])
            if key in seen:
                built.dropped_rows["duplicate pair"] += 1
                continue
            if chosen.strip() == rejected.strip():
                built.dropped_rows["same reply"] += 1
                continue
            seen.add(key)
            kept += 1
            built.rows.append({"id": f"{vote['battle_id']}:{turn['turn']}", "group": vote["battle_id"],
                               "origin": "battle", "prompt": prompt, "chosen": chosen, "rejected": rejected,
                               "winner": vote["variant_a"] if a_won else vote["variant_b"],
                               "loser": vote["variant_b"] if a_won else vote["variant_a"]})
        if kept:
            built.used["vote"] += 1
            built.groups[_group(vote)] += 1
        else:
            built.dropped["vote without a new pair"] += 1
    return built


def kto_examples_from_arena(store: ArenaStore, settings: TuneSettings, eval_items: dict[str, EvalItem],
                            clone_replies: dict[str, dict[str, str]]) -> Built:
    """KTO examples from battle votes, "Real or clone?" guesses and ratings (see the module docstring).
    ``eval_items``: held-out item id -> item; ``clone_replies``: variant -> item id -> the reply shown."""
    built, seen = Built([]), set()

    def add(record: str, origin: str, group: str, prompt: list[dict], completion: str, label: bool,
            **extra: Any) -> bool:
        key = json_hash([prompt, completion, label, extra.get("rater")])
        if key in seen:
            return False
        seen.add(key)
        built.rows.append({"id": f"{record}:{len(built.rows)}", "group": group, "origin": origin,
                           "prompt": prompt, "completion": completion, "label": label,
                           **{k: v for k, v in extra.items() if k != "rater"}})
        return True

    for vote in store.votes():
        built.read["vote"] += 1
        if vote["winner"] == "tie":
            built.dropped["tie"] += 1
            continue
        battle = store.battle(vote["battle_id"])
        prompts_a, prompts_b = _histories(battle)
        good_a = vote["winner"] == "model_a"
        good_b = vote["winner"] == "model_b"  # "tie (bothbad)": both False
        kept = 0
        for number, turn in enumerate(battle["turn_list"]):
            for prompts, reply, good, variant in ((prompts_a, turn["reply_a"], good_a, vote["variant_a"]),
                                                  (prompts_b, turn["reply_b"], good_b, vote["variant_b"])):
                if add(vote["battle_id"], "battle", vote["battle_id"], prompts[number], reply, good,
                       variant=variant, rater=vote["rater_id"]):
                    kept += 1
                else:
                    built.dropped_rows["duplicate example"] += 1
        if kept:
            built.used["vote"] += 1
            built.groups[_group(vote)] += 1
        else:
            built.dropped["vote without a new example"] += 1

    first_seen: set[tuple] = set()
    for guess in store.guesses():
        built.read["guess"] += 1
        key = (guess["rater_id"], guess["item_id"], guess["variant"])
        if key in first_seen:
            built.dropped["repeat guess"] += 1
            continue
        first_seen.add(key)
        item, reply = eval_items.get(guess["item_id"]), clone_replies.get(guess["variant"], {}).get(guess["item_id"])
        if item is None or reply is None:
            built.dropped["guess without its item or reply"] += 1
            continue
        if add(f"guess{guess['id']}", "guess", f"item:{item.id}", item.context, reply, bool(guess["fooled"]),
               variant=guess["variant"], rater=guess["rater_id"]):
            built.used["guess"] += 1
            built.eval_items.add(item.id)
        else:
            built.dropped["duplicate example"] += 1

    first_seen = set()
    for rating in store.ratings():
        built.read["rating"] += 1
        key = (rating["rater_id"], rating["variant"], rating["item_ref"])
        if key in first_seen:
            built.dropped["repeat rating"] += 1
            continue
        first_seen.add(key)
        score = int(rating["score"])
        if settings.undesirable_rating < score < settings.desirable_rating:
            built.dropped["neutral rating"] += 1
            continue
        item = eval_items.get(rating["item_ref"])
        reply = clone_replies.get(rating["variant"], {}).get(rating["item_ref"])
        if item is None or reply is None:
            built.dropped["rating without its item or reply"] += 1
            continue
        if add(f"rating{rating['id']}", "rating", f"item:{item.id}", item.context, reply,
               score >= settings.desirable_rating, variant=rating["variant"], rater=rating["rater_id"]):
            built.used["rating"] += 1
            built.eval_items.add(item.id)
        else:
            built.dropped["duplicate example"] += 1
    return built


# ------------------------------------------------------------------------------------------------ split


def split_held_out(rows: list[dict[str, Any]], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, held-out) by ``group``, seeded: a held-out share of whole groups, at least one group on each side
    when there are two or more."""
    groups = sorted({row["group"] for row in rows})
    rng = random.Random(seed)
    rng.shuffle(groups)
    n_held = min(max(1, round(len(groups) * fraction)), len(groups) - 1) if len(groups) > 1 else 0
    held = set(groups[:n_held])
    return [r for r in rows if r["group"] not in held], [r for r in rows if r["group"] in held]
