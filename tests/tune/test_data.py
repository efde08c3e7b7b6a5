"""The preference data built from an arena filled through its public API: exactly these pairs and examples."""

from __future__ import annotations

import pytest

from persona_lab.config import TuneSettings
from persona_lab.tune.data import (
    dpo_pairs_from_votes,
    kto_examples_from_arena,
    spin_contexts,
    spin_pairs,
    split_held_out,
)
from persona_lab.workspace.shapes import EvalItem
from persona_lab.workspace.votes import AlreadyVoted, ArenaStore


def u(text):
    return {"role": "user", "content": text}


def a(text):
    return {"role": "assistant", "content": text}


@pytest.fixture
def arena(tmp_path):
    """Two raters (a friend, and me), six battles, guesses and ratings; see each comment for what it tests."""
    store = ArenaStore.for_path(tmp_path / "arena.db")
    friend, me = store.add_rater("friend", False), store.add_rater("me", True)
    ids = {}

    def battle(name, rater, turns, winner):
        ids[name] = store.open_battle(rater, "chat", "blog")
        for message, reply_a, reply_b in turns:
            store.add_turn(ids[name], message, reply_a, reply_b)
        if winner:
            store.record_vote(ids[name], rater, winner)

    # one conversation, two turns, A won: two pairs, the second prompt is A's own history
    battle("two_turns", friend, [("吃了吗", "吃了", "I am an AI"), ("吃的啥", "火锅", "As a model")], "model_a")
    battle("tie", friend, [("在吗", "在", "在的")], "tie")  # orders nothing: dropped by both
    battle("neither", me, [("周末打球吗", "不打", "好的收到")], "tie (bothbad)")  # dpo: dropped; kto: both bad
    # the same rater, the same content as the first turn above, in another battle: counted once
    battle("again", friend, [("吃了吗", "吃了", "I am an AI")], "model_a")
    battle("b_won", me, [("晚安", "good night sir", "晚安")], "model_b")  # B's side: chosen = B's reply
    battle("open", friend, [("hello", "hi", "yo")], None)  # never voted: not read
    with pytest.raises(AlreadyVoted):  # a second vote on one battle is refused by the store: one vote each
        store.record_vote(ids["two_turns"], friend, "model_b")

    store.record_guess(friend, "e1", "chat", picked_real=True)  # caught the clone: undesirable
    store.record_guess(friend, "e1", "chat", picked_real=False)  # a repeat, after the reveal: dropped
    store.record_guess(me, "e1", "blog", picked_real=False)  # fooled me: desirable
    store.record_guess(me, "e9", "chat", picked_real=False)  # no such item: dropped
    store.record_rating(friend, "blog", "e1", 5)  # desirable
    store.record_rating(friend, "chat", "e1", 3)  # neutral: dropped
    store.record_rating(me, "chat", "e2", 1)  # undesirable
    store.record_rating(friend, "blog", "e1", 1)  # a repeat of the first rating: dropped
    yield store, ids
    store.close()


ITEMS = {"e1": EvalItem("e1", [u("明天几点")], "九点"), "e2": EvalItem("e2", [u("去哪")], "公司")}
CLONES = {"chat": {"e1": "chat says ten", "e2": "chat says home"}, "blog": {"e1": "blog says nine"}}


def test_dpo_pairs_from_votes_are_exactly_the_decisive_turns(arena):
    store, ids = arena
    built = dpo_pairs_from_votes(store)
    got = [(r["id"], r["prompt"], r["chosen"], r["rejected"], r["winner"], r["loser"]) for r in built.rows]
    assert got == [
        (f"{ids['two_turns']}:1", [u("吃了吗")], "吃了", "I am an AI", "chat", "blog"),
        (f"{ids['two_turns']}:2", [u("吃了吗"), a("吃了"), u("吃的啥")], "火锅", "As a model", "chat", "blog"),
        (f"{ids['b_won']}:1", [u("晚安")], "晚安", "good night sir", "blog", "chat"),
    ]
    assert {r["group"] for r in built.rows[:2]} == {ids["two_turns"]}  # one conversation, one group
    # read = used + dropped by reason (records), and the duplicate pair is counted as such
    assert built.read == {"vote": 5}
    assert built.used == {"vote": 2}
    assert sum(built.read.values()) == sum(built.used.values()) + sum(built.dropped.values())
    assert built.dropped == {"tie": 1, "tie (bothbad)": 1, "vote without a new pair": 1}
    assert built.dropped_rows == {"duplicate pair": 1}
    assert built.summary()["used_votes_by_group"] == {"friends": 1, "owner": 1}  # me: the "owner" board


def test_kto_examples_from_votes_guesses_and_ratings(arena):
    store, _ = arena
    settings = TuneSettings(desirable_rating=4, undesirable_rating=2)
    built = kto_examples_from_arena(store, settings, ITEMS, CLONES)
    got = [(r["origin"], r["prompt"], r["completion"], r["label"], r["variant"]) for r in built.rows]
    assert got == [
        ("battle", [u("吃了吗")], "吃了", True, "chat"),
        ("battle", [u("吃了吗")], "I am an AI", False, "blog"),
        ("battle", [u("吃了吗"), a("吃了"), u("吃的啥")], "火锅", True, "chat"),
        ("battle", [u("吃了吗"), a("I am an AI"), u("吃的啥")], "As a model", False, "blog"),
        ("battle", [u("周末打球吗")], "不打", False, "chat"),  # "neither": both undesirable
        ("battle", [u("周末打球吗")], "好的收到", False, "blog"),
        ("battle", [u("晚安")], "good night sir", False, "chat"),
        ("battle", [u("晚安")], "晚安", True, "blog"),
        ("guess", [u("明天几点")], "chat says ten", False, "chat"),  # caught
        ("guess", [u("明天几点")], "blog says nine", True, "blog"),  # fooled me
        ("rating", [u("明天几点")], "blog says nine", True, "blog"),  # 5
        ("rating", [u("去哪")], "chat says home", False, "chat"),  # 1
    ]
    assert built.read == {"vote": 5, "guess": 4, "rating": 4}
    assert built.used == {"vote": 3, "guess": 2, "rating": 2}  # 5 votes read = 3 used + tie + repeat
    assert built.dropped == {"tie": 1, "vote without a new example": 1, "repeat guess": 1,
                             "guess without its item or reply": 1, "neutral rating": 1, "repeat rating": 1}
    assert built.dropped_rows == {"duplicate example": 2}
    assert sum(built.read.values()) == sum(built.used.values()) + sum(built.dropped.values())
    assert built.summary()["eval_items_used"] == ["e1", "e2"]  # held-out items trained on: recorded


def test_spin_pairs_and_the_held_out_split_keep_groups_whole():
    samples = [{"id": f"s{i}", "messages": [u(f"q{i}"), a(f"r{i}")]} for i in range(10)]
    contexts = spin_contexts(samples, 6, seed=1)
    assert len(contexts) == 6 and contexts == spin_contexts(samples, 6, seed=1)  # seeded
    assert all(c["chosen"] == f"r{c['id'][1:]}" and c["prompt"] == [u(f"q{c['id'][1:]}")] for c in contexts)
    built = spin_pairs(contexts, [c["chosen"] if i == 0 else "generated" for i, c in enumerate(contexts)])
    assert len(built.rows) == 5 and built.dropped == {"same reply": 1} and built.read == {"context": 6}
    rows = [{"group": g, "n": i} for i, g in enumerate("aabbccddee")]
    train, held = split_held_out(rows, 0.2, seed=0)
    assert len(held) == 2 and len({r["group"] for r in held}) == 1 and len(train) == 8
