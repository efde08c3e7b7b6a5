"""`persona-eval choose` with the arena on PostgreSQL (``arena.db_url``): the votes it reads from the shared
database change the pick exactly as the same votes in the default SQLite file do.

The scores and the vote helper come from tests/evaluate/test_choose_and_agreement.py, so this test follows
whatever shape the evaluation gives scores.json; it only asks that the database makes no difference.
"""

from __future__ import annotations

from pathlib import Path

from persona_lab.workspace.votes import ArenaStore
from tests.evaluate.test_choose_and_agreement import lab, vote


def votes_for(store: ArenaStore) -> None:
    for _ in range(20):  # enough votes to count (min_votes 20); humans prefer chat91 to chat72
        vote(store, "chat91", "chat72", "model_a")


def test_choose_reads_the_votes_from_postgresql(tmp_path: Path, pg_url: str):
    from persona_lab.evaluate.choose import choose

    without_votes = choose(lab(tmp_path / "none", min_votes=20))

    on_sqlite = lab(tmp_path / "sqlite", min_votes=20)
    with ArenaStore.for_path(on_sqlite.workspace_dir / "arena.db") as store:
        votes_for(store)
    from_sqlite = choose(on_sqlite)

    on_pg = lab(tmp_path / "pg", min_votes=20)
    on_pg.arena.db_url = pg_url
    with ArenaStore(pg_url) as store:
        votes_for(store)
    assert not (on_pg.workspace_dir / "arena.db").exists()
    from_pg = choose(on_pg)
    assert not (on_pg.workspace_dir / "arena.db").exists()  # it read PostgreSQL, not a new SQLite file

    assert from_pg == from_sqlite
    assert from_pg != without_votes and from_pg["winner"] == "chat91"  # the votes moved the pick
