"""What issue 18 added to the arena store, on SQLite and PostgreSQL: reply lengths and rater groups on the
votes the leaderboard reads, the daily vote cap, and the chat page's tables (consent first, turn limit,
scrubbed turns with what they asked for)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from persona_lab.workspace.votes import (
    ArenaStore,
    ConsentRequired,
    InvalidInput,
    MessageError,
    TurnLimitReached,
    UnknownConversation,
    VoteCapReached,
    votes,
)


@pytest.fixture
def store(any_store):
    return any_store


def _voted(store: ArenaStore, rater: str, replies: list[tuple[str, str]], winner: str = "model_a") -> str:
    battle = store.open_battle(rater, "chat72", "base")
    for reply_a, reply_b in replies:
        store.add_turn(battle, "周末打球吗", reply_a, reply_b)
    store.record_vote(battle, rater, winner)
    return battle


def test_votes_carry_reply_lengths_over_all_turns_and_the_raters_group(store):
    owner = store.add_rater("me", True, group="strangers")  # the person is the owner, whatever the group says
    friend = store.add_rater("Mia", False)
    stranger = store.add_rater(None, False, group="strangers")
    _voted(store, owner, [("可以的", "ok ok ok")])
    _voted(store, friend, [("哈哈", "a"), ("稳了 明天见", "bb")], winner="model_b")
    _voted(store, stranger, [("", "x" * 50)], winner="tie")
    open_battle = store.open_battle(friend, "chat72", "base")  # not voted: no row, no lengths
    store.add_turn(open_battle, "hi", "long reply " * 10, "")
    rows = store.rating_votes(with_raters=True)
    assert [(r["len_a"], r["len_b"], r["group"], r["winner"]) for r in rows] == [
        (3, 8, "owner", "model_a"), (2 + 6, 1 + 2, "friends", "model_b"), (0, 50, "strangers", "tie")]
    assert [r["rater_id"] for r in store.rating_votes(with_raters=True, group="strangers")] == [stranger]
    assert store.rating_votes(group="friends") == [{"model_a": "chat72", "model_b": "base", "winner": "model_b",
                                                    "len_a": 8, "len_b": 3}]
    with pytest.raises(InvalidInput, match="unknown rater group 'trolls'"):
        store.rating_votes(group="trolls")
    with pytest.raises(InvalidInput, match="unknown rater group"):
        store.add_rater("x", False, group="admins")


def test_the_daily_vote_cap_refuses_the_next_vote_and_stores_nothing(store):
    capped = ArenaStore(store.url, daily_vote_cap=2)
    try:
        rater, other = capped.add_rater("Mia", False), capped.add_rater("Leo", False)
        _voted(capped, rater, [("a", "b")])
        _voted(capped, rater, [("a", "b")])
        battle = capped.open_battle(rater, "chat72", "base")
        capped.add_turn(battle, "hi", "a", "b")
        with pytest.raises(VoteCapReached, match="2 votes in the last 24 hours"):
            capped.record_vote(battle, rater, "model_a")
        assert capped.battle(battle)["status"] == "open" and len(capped.votes()) == 2
        _voted(capped, other, [("a", "b")])  # another rater is not affected
        assert len(capped.votes()) == 3
        with capped.engine.begin() as conn:  # a day later: the first two votes leave the 24-hour window
            conn.execute(update(votes).where(votes.c.rater_id == rater)
                         .values(created=datetime.now(UTC) - timedelta(hours=25)))
        capped.record_vote(battle, rater, "model_a")
        assert len(capped.votes()) == 4
    finally:
        capped.close()


def test_chat_needs_consent_before_anything_is_stored(store):
    with pytest.raises(ConsentRequired, match="tick the box"):
        store.add_visitor(False)
    with pytest.raises(ConsentRequired):
        store.open_conversation("nobody", "chat72")
    assert store.chat_counts() == {"visitors": 0, "conversations": 0, "turns": 0}


def test_chat_turns_are_stored_with_their_labels_and_the_turn_limit_holds(store):
    visitor = store.add_visitor(True)
    conversation = store.open_conversation(visitor, "chat72")
    assert store.add_chat_turn(conversation, "你身份证号多少", "[ID]", intents=["id_number"], masked_real=1,
                               masked_types=["ID", "ID"], max_turns=2) == 1
    assert store.add_chat_turn(conversation, "are you an AI?", "As an AI language model…",
                               intents=["are_you_ai"], ai_disclosure=True, max_turns=2) == 2
    with pytest.raises(TurnLimitReached, match="2 turns"):
        store.add_chat_turn(conversation, "one more", "no", max_turns=2)
    with pytest.raises(MessageError, match="empty message"):
        store.add_chat_turn(conversation, " \x00 ", "no")
    with pytest.raises(UnknownConversation):
        store.add_chat_turn("nope", "hi", "hi")
    rows = store.chat_turns()
    assert [(r["turn"], r["intents"], r["masked_real"], r["masked_types"], r["ai_disclosure"], r["variant"])
            for r in rows] == [(1, ["id_number"], 1, ["ID", "ID"], False, "chat72"),
                               (2, ["are_you_ai"], 0, [], True, "chat72")]
    assert store.chat_counts() == {"visitors": 1, "conversations": 1, "turns": 2}


def test_racing_turns_never_pass_the_turn_limit(store):
    conversation = store.open_conversation(store.add_visitor(True), "chat72")
    refused, errors = [], []

    def one(i: int) -> None:
        try:
            store.add_chat_turn(conversation, f"message {i}", "reply", max_turns=5)
        except TurnLimitReached:
            refused.append(i)
        except Exception as exc:  # noqa: BLE001 - anything else fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(refused) == 7 and [r["turn"] for r in store.chat_turns()] == [1, 2, 3, 4, 5]
