"""Controls are what they claim: my replies moved to other conversations of the same fold, another person's
lines from other conversations, training replies the metrics never saw — and none repeats by construction."""

from __future__ import annotations

from collections import Counter

import numpy as np

from persona_lab.evaluate.controls import build_controls, generic_replies
from persona_lab.evaluate.crossfit import split
from persona_lab.evaluate.profile import load_profile
from persona_lab.workspace.shapes import read_eval_items
from tests.evaluate.conftest import eval_rows, training_rows, write_jsonl


def test_controls(tmp_path):
    profile = load_profile(write_jsonl(tmp_path / "t.jsonl", training_rows(240)))
    items = split(read_eval_items(write_jsonl(tmp_path / "r.jsonl", eval_rows(48))))
    controls, notes = build_controls(items, profile, seed=0)
    assert controls["real"] == items.replies
    source = {reply: [i for i, r in enumerate(items.replies) if r == reply] for reply in items.replies}
    for i, moved in enumerate(controls["me_elsewhere"]):
        # a reply of mine from the same fold, another conversation (several items may share a text)
        assert any(items.fold[j] == items.fold[i] and items.conversation[j] != items.conversation[i]
                   for j in source[moved])
    lines_by_item = [{m["content"].split(": ", 1)[-1] for m in item.context if m["role"] == "user"}
                     for item in items.items]
    same_fold = 0
    for i, line in enumerate(controls["other_person"]):
        assert line not in lines_by_item[i]  # never a line of this very conversation
        same_fold += any(line in lines_by_item[j] and items.fold[j] == items.fold[i] for j in range(items.n))
    # lines of the item's own fold first, the other fold's only once those are spent, and none twice
    own_lines = [len(set().union(*(lines_by_item[j] for j in range(items.n) if items.fold[j] == f)))
                 for f in (0, 1)]
    assert same_fold >= sum(min(own, int((items.fold == f).sum())) for f, own in enumerate(own_lines)) - 2
    assert len(set(controls["other_person"])) == min(items.n, len(set().union(*lines_by_item)))
    copies = [c for c in controls["copy_train"] if c is not None]
    assert set(copies) <= set(profile.copy_pool)
    # the copy pool, the metrics' own replies and the dev slice are three disjoint parts of training
    assert len(profile.mine) + len(profile.copy_pool) + len(profile.dev) == 240
    assert len(copies) == min(items.n, len(profile.copy_pool))
    assert max(Counter(controls["generic"]).values()) == 1
    assert len(set(controls["constant"])) == 1 and controls["constant"][0] == Counter(
        r for r in profile.mine if len(r) <= 8).most_common(1)[0][0]
    assert all(sum(p in c for p in profile.catchphrases[:8]) >= 2 for c in controls["caricature"])
    assert "held apart" in notes["copy_train"]


def test_generic_replies_do_not_repeat_until_pairs_run_out():
    replies = generic_replies("en", 500, __import__("random").Random(0))
    assert len(replies) == 500 and len(set(replies)) == 500
    assert np.mean([len(r) for r in replies[:50]]) < np.mean([len(r) for r in replies[60:]])  # then pairs


def test_me_elsewhere_leaves_a_long_conversation():
    from persona_lab.evaluate.controls import me_elsewhere
    from persona_lab.workspace.shapes import EvalItem

    sizes = [20, 4, 20, 4]  # a long conversation fills most of each fold: half a fold away is still inside it
    items, start = [], 0
    for c, size in enumerate(sizes):
        items += [EvalItem(f"i{start + k}", [{"role": "user", "content": f"q{start + k}"}], f"r{start + k}", "x",
                           f"c{c}") for k in range(size)]
        start += size
    split_ = split(items)
    moved = me_elsewhere(split_)
    where = {item.reply: i for i, item in enumerate(split_.items)}
    for i, reply in enumerate(moved):
        j = where[reply]
        assert split_.fold[j] == split_.fold[i] and split_.conversation[j] != split_.conversation[i], (i, j)
