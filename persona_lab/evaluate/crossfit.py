"""Cross-fitting: which of my real replies each evaluation item is compared with.

No metric may compare a set of replies with itself (my real replies scored against my real replies gives
1.0 by construction and tests nothing). So the evaluation items are split into two folds by conversation,
and every reply given to an item of one fold (mine, a variant's, a control's) is compared with my real
replies in the *other* fold: with those to the same audience (facet) when that fold has at least
``MIN_FACET_REFERENCE`` of them — I am a different self to my mother and to my team — and with all of
them otherwise.

Conversations: ingest writes a ``conversation`` key on each item; for files without it, consecutive items
belong to one conversation while each one's context shares a message with the previous item's context or
reply (a reply chain), and a facet change or an opener starts a new one. Long conversations are cut into
blocks of ``BLOCK`` items so the two folds stay balanced and interleaved in time; blocks are shared out per facet, so each audience is in both folds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from persona_lab.workspace.shapes import EvalItem

BLOCK = 20
MIN_FACET_REFERENCE = 30


@dataclass
class ItemSet:
    items: list[EvalItem]
    conversation: np.ndarray  # (n,) int: conversation block of each item
    fold: np.ndarray  # (n,) 0/1
    reference_group: np.ndarray  # (n,) int: items with one group share one reference set
    references: list[np.ndarray]  # per group: indices of the items whose real replies are the reference
    group_names: list[str]

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def replies(self) -> list[str]:
        return [item.reply for item in self.items]

    @property
    def facets(self) -> list[str]:
        return [item.facet or "all" for item in self.items]

    def reference_of(self, index: int) -> np.ndarray:
        return self.references[self.reference_group[index]]


def conversations(items: list[EvalItem]) -> np.ndarray:
    """A block id per item (see the module docstring)."""
    ids = np.zeros(len(items), dtype=int)
    block, size = 0, 0
    previous: EvalItem | None = None
    for i, item in enumerate(items):
        if previous is not None:
            same = _same_conversation(previous, item)
            if not same or size >= BLOCK:
                block, size = block + 1, 0
        ids[i] = block
        size += 1
        previous = item
    return ids


def _same_conversation(previous: EvalItem, item: EvalItem) -> bool:
    if previous.conversation or item.conversation:
        return previous.conversation == item.conversation
    if previous.facet != item.facet:
        return False
    earlier = {m.get("content") for m in previous.context if m.get("role") != "system"} | {previous.reply}
    return any(m.get("content") in earlier for m in item.context if m.get("role") != "system")


def split(items: list[EvalItem]) -> ItemSet:
    blocks = conversations(items)
    facets = [item.facet or "all" for item in items]
    fold = np.zeros(len(items), dtype=int)
    sizes: dict[str, list[int]] = {}
    for block in np.unique(blocks):  # in time order: each block to the fold with fewer of its facet so far
        members = blocks == block
        count = sizes.setdefault(facets[int(np.flatnonzero(members)[0])], [0, 0])
        target = int(count[1] < count[0])
        fold[members] = target
        count[target] += int(members.sum())
    names: list[str] = []
    index_of: dict[tuple[int, str], int] = {}
    groups = np.zeros(len(items), dtype=int)
    references: list[np.ndarray] = []
    for i, facet in enumerate(facets):
        other = 1 - fold[i]
        same_facet = np.flatnonzero((fold == other) & (np.array(facets) == facet))
        key = (other, facet) if len(same_facet) >= MIN_FACET_REFERENCE else (other, "*")
        if key not in index_of:
            index_of[key] = len(references)
            members = same_facet if key[1] != "*" else np.flatnonzero(fold == other)
            if len(members) == 0:  # a single conversation: nothing to cross-fit with, use the rest
                members = np.setdiff1d(np.arange(len(items)), np.flatnonzero(blocks == blocks[i]))
            references.append(members)
            names.append(f"fold {other}, {key[1] if key[1] != '*' else 'every facet'}")
        groups[i] = index_of[key]
    return ItemSet(items, blocks, fold, groups, references, names)
