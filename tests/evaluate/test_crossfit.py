"""Folds by conversation, and every item's reference replies come from the other fold."""

from __future__ import annotations

import numpy as np

from persona_lab.evaluate.crossfit import MIN_FACET_REFERENCE, conversations, split
from persona_lab.workspace.shapes import EvalItem


def item(i: int, conversation: str = "", facet: str = "friends", context=None) -> EvalItem:
    return EvalItem(f"i{i}", context or [{"role": "user", "content": f"q{i}"}], f"reply {i}", facet, conversation)


def test_no_item_is_compared_with_its_own_fold():
    items = [item(i, f"c{i // 4}") for i in range(80)]
    split_ = split(items)
    assert sorted(np.bincount(split_.fold)) == [40, 40]
    for i in range(80):
        reference = split_.reference_of(i)
        assert i not in reference and set(split_.fold[reference]) == {1 - split_.fold[i]}
        assert not set(split_.conversation[reference]) & {split_.conversation[i]}


def test_conversations_follow_reply_chains_without_a_key():
    chain = [item(0, context=[{"role": "user", "content": "a"}]),
             item(1, context=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "reply 0"}]),
             item(2, context=[{"role": "user", "content": "b"}]),  # shares nothing: a new conversation
             item(3, facet="family", context=[{"role": "user", "content": "b"}])]  # another facet: new
    assert conversations(chain).tolist() == [0, 0, 1, 2]


def test_a_facet_with_enough_replies_is_its_own_reference():
    items = [item(i, f"c{i // 5}", "family" if (i // 5) % 2 else "friends") for i in range(4 * MIN_FACET_REFERENCE + 40)]
    split_ = split(items)
    facets = np.array(split_.facets)
    for i in range(len(items)):
        assert set(facets[split_.reference_of(i)]) == {facets[i]}
    few = [item(i, f"c{i // 5}", "family" if i < 10 else "friends") for i in range(80)]
    split_ = split(few)
    assert "every facet" in split_.group_names[split_.reference_group[0]]  # 10 family items: too few
