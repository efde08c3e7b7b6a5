"""Held-out split by time: the latest ``fraction`` of my replies (or every reply from a given moment on,
``ingest.eval_from``) become evaluation items.

Splitting by time, not at random, is what makes the evaluation honest: the model is asked to answer
conversations that happened after everything it trained on, as it will be in use. Ties in time are
broken by the order replies were found, so the split is deterministic. Then no evaluation reply may
appear verbatim as one of my turns in training; an evaluation item whose reply does is dropped from the
evaluation set (counted as ``reply_seen_in_training``) rather than removing training data.
"""

from __future__ import annotations

import hashlib
from array import array


def eval_flags(timestamps: array, fraction: float, eval_from: float | None = None) -> bytearray:
    """One byte per reply: 1 for the latest ``fraction`` of replies by time (or, with ``eval_from``,
    for every reply at or after that unix time), else 0."""
    total = len(timestamps)
    if eval_from is not None:
        return bytearray(ts >= eval_from for ts in timestamps)
    n_eval = int(total * fraction)
    flags = bytearray(total)
    if n_eval == 0:
        return flags
    import numpy as np

    ts = np.frombuffer(timestamps, dtype=np.float64)
    order = np.lexsort((np.arange(total), ts))  # by time, then by discovery order
    for index in order[total - n_eval:]:
        flags[int(index)] = 1
    return flags


def text_key(text: str) -> bytes:
    """A compact key for "the same reply text": whitespace-normalised, 16-byte digest."""
    return hashlib.blake2b(" ".join(text.split()).encode("utf-8"), digest_size=16).digest()
