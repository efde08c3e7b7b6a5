"""The leaderboard's boards on a real store: one per rater group, ranked at equal reply length, with the plain
rating beside it, position bias and flagged raters; counts add up."""

from __future__ import annotations

import re

import numpy as np

from persona_lab.arena.leaderboard import leaderboard_markdown
from persona_lab.workspace.votes import ArenaStore


def cast(store: ArenaStore, rater: str, a: str, b: str, reply_a: str, reply_b: str, winner: str) -> None:
    battle = store.open_battle(rater, a, b)
    store.add_turn(battle, "周末打球吗", reply_a, reply_b)
    store.record_vote(battle, rater, winner)


def board_rows(markdown: str, title: str) -> list[str]:
    """Variant names in the order of the board titled ``title``."""
    section = markdown.split(f"### {title}")[1].split("###")[0]
    return re.findall(r"^\| \d+ \| (\w+) \|", section, flags=re.MULTILINE)


def test_boards_per_group_rank_at_equal_length(tmp_path):
    store = ArenaStore.for_path(tmp_path / "arena.db")
    friends = [store.add_rater(f"f{i}", False) for i in range(6)]
    stranger = store.add_rater(None, False, group="strangers")
    owner = store.add_rater("me", True)
    rng = np.random.default_rng(0)
    # Friends: "terse" sounds more like the person, but every friend also likes length, and "verbose" writes
    # three times as much. Lengths vary within each variant, so the fit can tell the two apart.
    quality = {"terse": 0.8, "verbose": -0.8}
    for i in range(240):
        a, b = ("terse", "verbose") if i % 2 else ("verbose", "terse")
        la, lb = (max(1, int({"terse": 20, "verbose": 60}[v] * rng.lognormal(0, 0.6))) for v in (a, b))
        p = 1 / (1 + np.exp(-(quality[a] - quality[b] + 6 * (la - lb) / (la + lb))))
        cast(store, friends[i % 6], a, b, "嗯" * la, "嗯" * lb, "model_a" if rng.random() < p else "model_b")
    cast(store, stranger, "terse", "verbose", "ok", "ok ok", "model_b")
    cast(store, owner, "terse", "verbose", "ok", "ok ok", "model_a")
    board = leaderboard_markdown(store, None)
    assert "### Friends' votes (240 votes)" in board and "### Strangers' votes (1 votes)" in board
    assert "### The person's own votes (1 votes)" in board
    assert board_rows(board, "Friends' votes") == ["terse", "verbose"]  # ranked at equal length
    friends_section = board.split("### Friends' votes")[1].split("###")[0]
    terse = re.search(r"\| 1 \| terse \| (\d+) \(\d+–\d+\) \| (\d+) \(", friends_section)
    verbose = re.search(r"\| 2 \| verbose \| (\d+) \(\d+–\d+\) \| (\d+) \(", friends_section)
    assert int(terse[1]) > int(verbose[1]) and int(terse[2]) < int(verbose[2])  # the plain rating says otherwise
    assert re.search(r"Length effect: \+\d", friends_section)
    assert "won" in board.split("### Position bias")[1] and "of 242 decisive votes" in board
    assert "8 raters;" in board
    store.close()
