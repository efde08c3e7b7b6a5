"""Word splitting for mixed Chinese/English chat text, shared by the data card and the metrics.

Chinese has no spaces, so runs of CJK characters go through jieba (lazily imported: ~1 s to load its
dictionary); Latin words, numbers and placeholders such as [PHONE] are kept whole. jieba logs at DEBUG
and writes a cache file to the temp dir on first use: both are redirected here.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from functools import lru_cache

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"\[[A-Z]+(?:#\d+)?\]|[{CJK}]+|[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:\.\d+)?")
_CJK_RUN = re.compile(rf"^[{CJK}]+$")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    cache = os.path.join(tempfile.gettempdir(), f"persona-lab-jieba-{os.getuid()}.cache")
    jieba.dt.cache_file = cache
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Lower-cased words: jieba segments for Chinese runs, whole tokens otherwise."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if _CJK_RUN.match(token):
            out.extend(w for w in _jieba().lcut(token, HMM=True) if w.strip())
        else:
            out.append(token.lower())
    return out


def cjk_share(text: str) -> float:
    letters = [c for c in text if not c.isspace()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if re.match(rf"[{CJK}]", c)) / len(letters)
