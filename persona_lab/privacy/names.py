"""Finding known names and blocked words in running text, fast, even with tens of thousands of names.

Rules (the caller passes only other people's names; masking the person's own names is not our job):
- Contact names from the export (remarks, nicknames, group members) are filtered by ``usable_contact_names``:
  names shorter than 2 characters, names with no letter at all (pure digits, punctuation, emoji) and
  generic relationship words a contact is often saved under (妈妈, 老婆, 宝贝, Mom, Boss…) are ignored:
  they are not identifying, and masking them would erase how the person talks to their family.
- Names from the config's ``extra_names`` are the user's explicit choice and are all used (empty ones dropped).
- Latin names match case-sensitively ("Will" is a name, "will" a verb) and only as whole words: a name
  edge that is a letter must not touch another letter, a digit edge must not touch a digit. Digits and
  brackets next to a name do not stop a match, so "Jack13800138000" masks both, and masking can never
  create a new match (scrubbing stays idempotent).
- CJK names match as substrings anywhere: Chinese has no word boundaries, so "小王" also masks the 小王 in
  "小王子". That is the price of recall; the 2-character minimum keeps it bounded.
- Blocked words use the same edge rules but match case-insensitively.
- When names overlap, the longest wins ("王小明" over "小明").

Limits: no fuzzy matching (typos, pinyin spellings, a first name alone when only the full name is known).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Relationship and role words commonly used as contact remarks; not names, so never masked as names.
GENERIC_CONTACT_WORDS = frozenset([
    "妈妈", "爸爸", "老妈", "老爸", "妈咪", "爹地", "老婆", "老公", "媳妇", "宝贝", "宝宝", "亲爱的", "哥哥", "姐姐", "弟弟", "妹妹", "哥",
    "姐", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "叔叔", "阿姨", "舅舅", "舅妈", "姑姑", "姑父", "婶婶", "伯伯", "岳父", "岳母",
    "公公", "婆婆", "儿子", "女儿", "老板", "老师", "领导", "同事", "同学", "室友", "师傅", "医生", "房东", "快递", "客服", "群主", "自己",
    "我", "文件传输助手", "微信团队", "微信支付", "腾讯新闻", "服务通知", "订阅号", "mom", "mum", "mommy", "mummy", "mother", "dad",
    "daddy", "father", "wife", "husband", "hubby", "boss", "honey", "babe", "baby", "bro", "sis",
    "brother", "sister", "grandma", "grandpa", "granny", "teacher", "me", "myself",
])


def usable_contact_names(names: Iterable[str]) -> set[str]:
    """The contact names worth masking (see the module docstring for the rules)."""
    usable: set[str] = set()
    for raw in names:
        name = " ".join(str(raw).split())
        if len(name) < 2 or not any(ch.isalpha() for ch in name):
            continue
        if name.casefold() in GENERIC_CONTACT_WORDS:
            continue
        usable.add(name)
    return usable


def clean_words(words: Iterable[str]) -> set[str]:
    """User-given names or words: whitespace collapsed, empty ones dropped, nothing else filtered."""
    return {" ".join(str(w).split()) for w in words if str(w).strip()}


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _clash(edge: str, neighbour: str) -> bool:
    """Whether a name edge character touching ``neighbour`` means the name is part of a longer word."""
    if "0" <= edge <= "9":
        return "0" <= neighbour <= "9"
    return _is_ascii_letter(edge) and _is_ascii_letter(neighbour)


class WordMatcher:
    """Finds names (case-sensitive) or blocked words (case-insensitive) in text; spans index the text.

    Why not one big regex alternation: Python's regex engine tries the branches of an alternation one by
    one, so with thousands of contacts whose names start with thousands of different characters (group
    nicknames do), every position of every message would cost thousands of steps. Instead one character
    class of all first characters finds candidate positions at C speed, and a set lookup per candidate
    length decides; a clean message with no first character in it costs one regex search.
    """

    def __init__(self, words: Iterable[str], ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        keys = {w.lower() for w in words} if ignore_case else set(words)
        keys.discard("")
        self._words = frozenset(keys)
        lengths: dict[str, set[int]] = {}
        for word in keys:
            lengths.setdefault(word[0], set()).add(len(word))
        # Longest first, so "王小明" wins over "王小" at the same start.
        self._lengths = {first: sorted(ls, reverse=True) for first, ls in lengths.items()}
        self._first = re.compile("[" + "".join(re.escape(ch) for ch in sorted(lengths)) + "]") if keys else None

    def __bool__(self) -> bool:
        return self._first is not None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Leftmost-longest, non-overlapping matches, left to right."""
        if self._first is None:
            return []
        probe = text.lower() if self.ignore_case else text
        if len(probe) != len(text):  # lower() changed the length (e.g. "İ"): match case-by-case instead
            probe = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
        found: list[tuple[int, int]] = []
        free = 0  # matches may not overlap: the next one starts at or after here
        for m in self._first.finditer(probe):
            start = m.start()
            if start < free:
                continue
            end = self._match_at(probe, start)
            if end:
                found.append((start, end))
                free = end
        return found

    def _match_at(self, text: str, start: int) -> int:
        if start > 0 and _clash(text[start], text[start - 1]):
            return 0
        for length in self._lengths[text[start]]:
            end = start + length
            if end <= len(text) and text[start:end] in self._words:
                if end < len(text) and _clash(text[end - 1], text[end]):
                    continue  # "Jack" in "Jackson": try a shorter name at the same start
                return end
        return 0
