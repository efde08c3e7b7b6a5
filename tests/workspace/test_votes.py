"""The arena store on real databases: SQLite files in tmp_path, and PostgreSQL when PERSONA_LAB_TEST_PG_URL
names a throwaway database (its tables are dropped and recreated; under CI=true a missing server fails)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from persona_lab.workspace.votes import (
    AlreadyVoted,
    ArenaError,
    ArenaStore,
    BadWinner,
    BattleFailed,
    InvalidInput,
    MessageError,
    NoTurnsYet,
    NotYourBattle,
    UnknownBattle,
    UnknownRater,
    VoteResult,
    check_message,
)

ROOT = Path(__file__).resolve().parents[2]
@pytest.fixture
def store(any_store):
    """A fresh, empty store on each backend (tests/arena/conftest.py: SQLite, and PostgreSQL, which under
    CI=true must be there)."""
    return any_store


@pytest.fixture
def sqlite_store(tmp_path):
    arena = ArenaStore.for_path(tmp_path / "lab" / "arena.db")
    yield arena
    arena.close()


def _battle_with_turn(store: ArenaStore, rater: str, a: str = "chat72", b: str = "base") -> str:
    battle = store.open_battle(rater, a, b)
    store.add_turn(battle, "周末打球吗", "可以的 稳了", "ok")
    return battle


def _empty_but(store: ArenaStore, **expected: int) -> None:
    counts = store.counts()
    wanted = {key: 0 for key in counts} | expected
    assert counts == wanted


# ------------------------------------------------------------------------------------------------ lifecycle

def test_lifecycle(store, tmp_path):
    friend = store.add_rater("  Ann ", is_person=False)
    me = store.add_rater(None, is_person=True)
    assert store.rater(friend)["name"] == "Ann" and store.rater(me)["is_person"] is True

    battle = store.open_battle(friend, "chat72", "base")
    assert store.battle_variants(battle) == ("chat72", "base")
    assert store.add_turn(battle, "  周末打球吗  ", "可以的 稳了", "I would love to.") == 1
    assert store.add_turn(battle, "几点", "八点", "At eight.") == 2
    result = store.record_vote(battle, friend, "model_a")
    assert result == VoteResult(result.vote_id, battle, "model_a", "chat72", "base")

    mine = _battle_with_turn(store, me, "chat55", "chat91")
    store.record_vote(mine, me, "tie (bothbad)")
    failed = _battle_with_turn(store, friend, "blog", "chat")
    store.mark_failed(failed)
    store.mark_failed(failed)  # idempotent
    store.open_battle(friend, "base", "prompted")  # left open

    detail = store.battle(battle)
    assert detail["status"] == "voted" and detail["turns"] == 2
    assert [t["user_message"] for t in detail["turn_list"]] == ["周末打球吗", "几点"]  # stored stripped
    assert sorted(store.battle_pairs()) == [("base", "prompted"), ("chat55", "chat91"), ("chat72", "base")]

    everyone = store.votes()
    assert [(v["winner"], v["is_person"], v["turns"]) for v in everyone] == \
        [("model_a", False, 2), ("tie (bothbad)", True, 1)]
    assert [v["battle_id"] for v in store.votes(include_person=True)] == [mine]
    assert [v["battle_id"] for v in store.votes(include_person=False)] == [battle]
    assert everyone[0]["created"].endswith("+00:00")

    first_guess = store.record_guess(friend, "e1", "chat72", picked_real=False)
    second_guess = store.record_guess(me, "e2", "chat55", True, False)
    assert [(g["id"], g["variant"], g["picked_real"], g["fooled"], g["is_person"]) for g in store.guesses()] == \
        [(first_guess, "chat72", False, True, False), (second_guess, "chat55", True, False, True)]
    store.record_rating(friend, "chat72", "e1", 4, "sounds like him")
    store.record_rating(me, "base", "e2", 1)
    assert [(r["variant"], r["score"], r["note"]) for r in store.ratings()] == \
        [("chat72", 4, "sounds like him"), ("base", 1, None)]

    assert store.counts() == {"raters": 2, "battles": 4, "turns": 4, "votes": 2, "guesses": 2, "ratings": 2,
                              "battles_open": 1, "battles_failed": 1, "battles_voted": 2}

    out = tmp_path / "export" / "votes.jsonl"
    assert store.export_votes_jsonl(out) == 2
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == len(store.votes()) == 2
    assert lines == everyone
    assert store.export_votes_jsonl(out, include_person=False) == 1
    assert len(out.read_text("utf-8").splitlines()) == 1


# ------------------------------------------------------------------------------------------------ refusals

def test_double_vote_refused(sqlite_store):
    store = sqlite_store
    rater = store.add_rater("a", False)
    battle = _battle_with_turn(store, rater)
    store.record_vote(battle, rater, "model_b")
    with pytest.raises(AlreadyVoted, match="already voted"):
        store.record_vote(battle, rater, "model_a")
    with pytest.raises(AlreadyVoted):
        store.add_turn(battle, "one more", "x", "y")
    with pytest.raises(AlreadyVoted):
        store.mark_failed(battle)
    assert [v["winner"] for v in store.votes()] == ["model_b"]
    assert store.battle(battle)["status"] == "voted" and store.counts()["turns"] == 1


def test_refused_votes_store_nothing(sqlite_store):
    store = sqlite_store
    rater, other = store.add_rater("a", False), store.add_rater("b", False)
    with pytest.raises(UnknownBattle, match="unknown battle"):
        store.record_vote("0" * 32, rater, "model_a")

    no_turn = store.open_battle(rater, "chat", "blog")
    with pytest.raises(NoTurnsYet, match="before voting"):
        store.record_vote(no_turn, rater, "tie")

    failed = _battle_with_turn(store, rater)
    store.mark_failed(failed)
    with pytest.raises(BattleFailed, match="not counted"):
        store.record_vote(failed, rater, "model_a")
    with pytest.raises(BattleFailed):
        store.add_turn(failed, "hello?", "x", "y")

    open_ = _battle_with_turn(store, rater)
    with pytest.raises(NotYourBattle, match="another rater"):
        store.record_vote(open_, other, "model_a")
    for bad in ("A", "leftvote", "", None):
        with pytest.raises(BadWinner, match="model_a, model_b, tie, tie \\(bothbad\\)"):
            store.record_vote(open_, rater, bad)

    assert store.votes() == []
    assert store.counts()["votes"] == 0 and store.counts()["battles_voted"] == 0
    assert {store.battle(b)["status"] for b in (no_turn, open_)} == {"open"}
    assert store.battle(failed)["status"] == "failed"
    # the open battle still takes its one vote afterwards
    assert store.record_vote(open_, rater, "model_a").winner == "model_a"


def test_messages_checked_nothing_stored(sqlite_store):
    store = sqlite_store
    assert check_message("  hi \n") == "hi"
    for empty in ("", "   \n\t", "\x00"):
        with pytest.raises(MessageError, match="^empty message"):
            check_message(empty)
    with pytest.raises(MessageError, match="100,000 characters; the limit is 4,000"):
        check_message("a" * 100_000)
    assert check_message("b" * 4000) == "b" * 4000
    with pytest.raises(MessageError, match="limit is 10"):
        check_message("12345678901", max_chars=10)

    rater = store.add_rater("a", False)
    battle = store.open_battle(rater, "chat", "blog")
    for bad in ("", "  ", "字" * 100_000):
        with pytest.raises(MessageError):
            store.add_turn(battle, bad, "x", "y")
    assert store.battle(battle)["turns"] == 0 and store.counts()["turns"] == 0
    with pytest.raises(NoTurnsYet):
        store.record_vote(battle, rater, "model_a")


def test_other_inputs_refused(sqlite_store):
    store = sqlite_store
    rater = store.add_rater("a", False)
    with pytest.raises(UnknownRater):
        store.open_battle("nobody", "chat", "blog")
    with pytest.raises(InvalidInput, match="two different variants"):
        store.open_battle(rater, "chat", "chat")
    with pytest.raises(InvalidInput, match="name is too long"):
        store.add_rater("x" * 101, False)
    with pytest.raises(InvalidInput):
        store.add_rater("a", "yes")
    for score in (0, 6, 3.5, True, "4"):
        with pytest.raises(InvalidInput, match="1 to 5"):
            store.record_rating(rater, "chat72", "e1", score)
    with pytest.raises(InvalidInput, match="note too long: 2,001 characters"):
        store.record_rating(rater, "chat72", "e1", 3, "n" * 2001)
    store.record_rating(rater, "chat72", "e1", 3, "n" * 2000)
    with pytest.raises(UnknownRater):
        store.record_rating("nobody", "chat72", "e1", 3)
    with pytest.raises(UnknownRater):
        store.record_guess("nobody", "e1", "chat72", True)
    with pytest.raises(InvalidInput):
        store.record_guess(rater, "", "chat72", True)
    assert store.counts() == {"raters": 1, "battles": 0, "turns": 0, "votes": 0, "guesses": 0, "ratings": 1,
                              "battles_open": 0, "battles_failed": 0, "battles_voted": 0}


# ------------------------------------------------------------------------------------------------ SQLite settings

def test_sqlite_wal_and_durability_settings(sqlite_store, tmp_path):
    path = tmp_path / "lab" / "arena.db"
    assert path.exists()
    with sqlite3.connect(path) as raw:  # WAL is a property of the file, seen by any reader
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# ------------------------------------------------------------------------------------------------ concurrency

def _run_threads(targets: list) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a voter hung"


def test_fifty_raters_vote_at_once(store):
    # two stores on one database: like two app workers
    second = ArenaStore(store.url)
    try:
        n = 50
        winners = [("model_a", "model_b", "tie", "tie (bothbad)")[i % 4] for i in range(n)]
        prepared = []
        for i in range(n):
            target = store if i % 2 else second
            rater = target.add_rater(f"friend {i}", False)
            prepared.append((target, rater, _battle_with_turn(target, rater)))
        barrier = threading.Barrier(n)
        results: list = [None] * n

        def vote(i: int) -> None:
            target, rater, battle = prepared[i]
            barrier.wait()
            try:
                results[i] = target.record_vote(battle, rater, winners[i])
            except BaseException as exc:  # noqa: BLE001 - the test reports it
                results[i] = exc

        _run_threads([lambda i=i: vote(i) for i in range(n)])
        errors = [r for r in results if not isinstance(r, VoteResult)]
        assert errors == []
        stored = {v["battle_id"]: (v["rater_id"], v["winner"]) for v in store.votes()}
        assert stored == {battle: (rater, winners[i]) for i, (_, rater, battle) in enumerate(prepared)}
        assert len(store.votes()) == n and store.counts()["battles_voted"] == n
        assert len({r.vote_id for r in results}) == n
    finally:
        second.close()


def test_fifty_votes_race_on_one_battle(store):
    second = ArenaStore(store.url)
    try:
        rater = store.add_rater("double clicker", False)
        battle = _battle_with_turn(store, rater)
        n = 50
        barrier = threading.Barrier(n)
        results: list = [None] * n

        def vote(i: int) -> None:
            barrier.wait()
            try:
                results[i] = (store if i % 2 else second).record_vote(battle, rater, ("model_a", "model_b")[i % 2])
            except BaseException as exc:  # noqa: BLE001
                results[i] = exc

        _run_threads([lambda i=i: vote(i) for i in range(n)])
        wins = [r for r in results if isinstance(r, VoteResult)]
        refusals = [r for r in results if isinstance(r, AlreadyVoted)]
        others = [r for r in results if not isinstance(r, VoteResult | AlreadyVoted)]
        assert all(isinstance(r, ArenaError) for r in results if r not in wins)  # nothing else leaks
        assert others == [] and len(wins) == 1 and len(refusals) == n - 1
        assert all("already voted" in str(r) for r in refusals)
        (stored,) = store.votes()
        assert stored["battle_id"] == battle and stored["winner"] == wins[0].winner
        assert store.battle(battle)["status"] == "voted"
    finally:
        second.close()


# ------------------------------------------------------------------------------------------------ kill mid-vote

CHILD = r"""
import sys
import threading
from pathlib import Path
from persona_lab.workspace.votes import ArenaStore

target = sys.argv[1]
store = ArenaStore(target) if "://" in target else ArenaStore.for_path(Path(target))
printing = threading.Lock()  # one whole line per id: threads printing at once would interleave


def voter(k):  # several voters at once, so the kill finds votes in flight
    rater = store.add_rater(f"killed {k}", False)
    i = 0
    while True:
        battle = store.open_battle(rater, "chat72", "base")
        store.add_turn(battle, f"message {i}", "reply a " * 50, "reply b " * 50)
        if i % 5 == 4:
            store.mark_failed(battle)
        else:
            store.record_vote(battle, rater, "model_a")
            with printing:
                print(battle, flush=True)  # the UI would now say "recorded"
        i += 1


for k in range(4):
    threading.Thread(target=voter, args=(k,), daemon=True).start()
threading.Event().wait()
"""

CONSISTENT = {
    # every voted battle has exactly one vote, and every vote's battle is voted
    "voted battles without exactly one vote": "SELECT count(*) FROM battles b WHERE b.status = 'voted' AND "
    "(SELECT count(*) FROM votes v WHERE v.battle_id = b.id) != 1",
    "votes whose battle is not voted": "SELECT count(*) FROM votes v LEFT JOIN battles b ON b.id = v.battle_id "
    "WHERE b.id IS NULL OR b.status != 'voted'",
    # a battle's turn count matches its stored turns
    "battles whose turn count is off": "SELECT count(*) FROM battles b WHERE b.turns != "
    "(SELECT count(*) FROM battle_turns t WHERE t.battle_id = b.id)",
    "turns of no battle": "SELECT count(*) FROM battle_turns t LEFT JOIN battles b ON b.id = t.battle_id "
    "WHERE b.id IS NULL",
}


def _check_consistent(store: ArenaStore) -> None:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        broken = {what: conn.exec_driver_sql(sql).scalar() for what, sql in CONSISTENT.items()}
    assert broken == dict.fromkeys(CONSISTENT, 0)


def test_kill_mid_vote_leaves_database_consistent(any_store):
    store = any_store
    target = str(store.url) if store.engine.dialect.name != "sqlite" else store.engine.url.database
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rng = random.Random(20)  # seeded: the same kill delays on every run
    recorded: list[str] = []
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", CHILD, target], stdout=subprocess.PIPE, text=True,
                                 env=env, cwd=ROOT)
        try:
            first = child.stdout.readline().strip()
            assert first, "the child recorded no vote"
            time.sleep(rng.uniform(0.02, 0.3))  # lets votes pile up; the kill lands wherever they are
            os.kill(child.pid, signal.SIGKILL)
            rest = child.stdout.read()
        finally:
            child.kill()
            child.wait()
        recorded += [first] + rest.split()
        _check_consistent(store)

    assert all(re.fullmatch("[0-9a-f]{32}", battle) for battle in recorded)  # whole ids, nothing garbled

    voted = {v["battle_id"] for v in store.votes()}
    assert set(recorded) <= voted, "a vote reported as recorded was lost"  # durable once returned
    counts = store.counts()
    assert counts["votes"] == counts["battles_voted"] >= len(recorded) >= 5
    # the store still works after the kills
    rater = store.add_rater("after", False)
    store.record_vote(_battle_with_turn(store, rater), rater, "tie")
    assert store.counts()["votes"] == counts["votes"] + 1
    _check_consistent(store)


def test_the_consistency_check_sees_a_broken_database(sqlite_store):
    """The check above can fail: a vote without its battle marked voted, and a turn count that is off."""
    rater = sqlite_store.add_rater("x", False)
    battle = _battle_with_turn(sqlite_store, rater)
    sqlite_store.record_vote(battle, rater, "model_a")
    with sqlite_store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE battles SET status = 'open', turns = 3")
    with pytest.raises(AssertionError, match="votes whose battle is not voted"):
        _check_consistent(sqlite_store)
