"""The reply guard: every reply passes the privacy scrubber before it reaches a person or a log.

Anything private-looking in a reply is masked: with its placeholder, or, in a lab whose data holds
surrogates (privacy.mode surrogate), with a surrogate, so replies stay free of brackets too (a real value
gets the same fake it has in the training data). Surrogates are masked like any value: the ones with a
pattern (phones, IDs …) are found by it, and the fake names listed in ``surrogate_names.json`` are
searched for as names; none of them is in the inventory, so each counts as invented, never as a leak. When the value matches a keyed hash
in the lab's ``pii_report.json`` it was in my real data, and the event counts as a *real leak*; otherwise
the model invented a look-alike (counted apart). Contact names cannot be recognised by pattern, so the
guard also hashes the reply's short Chinese substrings and Latin words and masks those whose hash is a
NAME in the inventory: real names are caught without the guard ever holding them.

Streaming: a private value can arrive split over several pieces, so the guard holds back the last
``HOLD_BACK`` characters (longer than any phone, ID or card number) until more text or the end shows that
nothing private is being cut. Only evaluation runs that measure raw leakage may switch the guard off.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from persona_lab.privacy import PiiInventory, Scrubber, Surrogates, lab_inventory, load_or_create_secret
from persona_lab.workspace import Workspace
from persona_lab.workspace.files import read_json

HOLD_BACK = 32
_NAME_MARK = 0xE000  # private-use characters stand in for real names while the scrubber runs
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
_LATIN_NAME = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?")


def safe_cut(raw: str, cut: int) -> int:
    """Move ``cut`` left until it does not split a run that could be one value (digits with their
    spaces and dashes, or an ASCII word such as an email or a URL)."""
    while 0 < cut < len(raw) and _joined(raw, cut):
        cut -= 1
    return max(cut, 0)


def _joined(raw: str, i: int) -> bool:
    before, after = raw[i - 1], raw[i]
    word = "@._%+-/:"
    if before.isascii() and after.isascii() and (before.isalnum() or before in word) and \
            (after.isalnum() or after in word):
        return True
    return (before.isdigit() or before in " -") and (after.isdigit() or after in " -") and \
        any(c.isdigit() for c in raw[max(0, i - 2):i + 2])


@dataclass
class GuardEvent:
    type: str
    real: bool


@dataclass
class ReplyGuard:
    scrubber: Scrubber
    inventory: PiiInventory | None = None
    enabled: bool = True
    surrogates: Surrogates | None = None  # replace instead of [TYPE]
    real_leaks: Counter = field(default_factory=Counter)
    invented: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_lab(cls, workspace: Workspace, extra_names: list[str] = (), blocked_words: list[str] = (),
                enabled: bool = True, mode: str = "surrogate") -> ReplyGuard:
        inventory = lab_inventory(workspace)
        fakes = workspace.surrogate_names
        fake_names = read_json(fakes)["names"] if fakes.exists() else []
        surrogates = None
        if mode == "surrogate":
            surrogates = Surrogates(load_or_create_secret(workspace.root), real_names=extra_names)
        scrubber = Scrubber(extra_names=[*extra_names, *fake_names], blocked_words=blocked_words)
        return cls(scrubber, inventory, enabled, surrogates)

    def check(self, text: str) -> tuple[str, list[GuardEvent]]:
        """The masked reply and what was found in it."""
        if not self.enabled:
            return text, []
        masked, names = self._mask_real_names(text)
        result = self.scrubber.scrub(masked, replace=self.surrogates)
        events = [GuardEvent("NAME", True) for _ in names]
        events += [GuardEvent(f.type, self._is_real(f.type, f.value)) for f in result.found]
        masked = self._restore_names(result.text, names)
        with self._lock:
            for event in events:
                (self.real_leaks if event.real else self.invented)[event.type] += 1
        return masked, events

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        """Masked text as it streams; the tail is held back until it is safe to show."""
        if not self.enabled:
            yield from pieces
            return
        raw, shown = "", ""
        for piece in pieces:
            raw += piece
            masked = self.visible(raw)
            if masked.startswith(shown) and len(masked) > len(shown):
                yield masked[len(shown):]
                shown = masked
        final, _ = self.check(raw)  # counts the events once, on the whole reply
        if final.startswith(shown):
            if len(final) > len(shown):
                yield final[len(shown):]
        else:  # a value straddled the cut after all: restate the reply rather than leak its end
            yield "\n[reply corrected by the privacy guard] " + final

    def visible(self, raw: str) -> str:
        """What may be shown of a reply that is still arriving: the masked text up to a cut that leaves the
        last ``HOLD_BACK`` characters (and any value or word running into them) for later. Counts nothing;
        the whole reply goes through ``check`` once it is complete."""
        if not self.enabled:
            return raw
        if len(raw) <= HOLD_BACK:
            return ""
        return self._peek(raw[: self._cut(raw, len(raw) - HOLD_BACK)])

    def _cut(self, raw: str, cut: int) -> int:
        """A cut that splits no value found in the text so far (nor a digit run or ASCII word)."""
        spans = [(f.start, f.end) for f in self.scrubber.find(raw)]
        for name in self._real_names(raw):
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(name), raw)]
        moved = True
        while moved:
            moved = False
            cut = safe_cut(raw, cut)
            for start, end in spans:
                if start < cut < end:
                    cut, moved = start, True
        return cut

    def mask(self, text: str) -> str:
        """The masked text without counting events: for partial text shown while it streams, and for
        replies shown again (reports); ``check`` counts each reply once."""
        return self._peek(text) if self.enabled else text

    def _peek(self, text: str) -> str:
        masked, names = self._mask_real_names(text)
        return self._restore_names(self.scrubber.scrub(masked, replace=self.surrogates).text, names)

    def _mask_real_names(self, text: str) -> tuple[str, list[str]]:
        """Real names swapped for one private-use character each (no detector reads those), so the scrubber
        cannot take a name's replacement for a value of its own; ``_restore_names`` puts the masks in."""
        names = self._real_names(text)
        for index, name in enumerate(names):  # longest first, so 苏晚晴 goes before a 晚晴 inside it
            text = text.replace(name, chr(_NAME_MARK + index))
        return text, names

    def _restore_names(self, text: str, names: list[str]) -> str:
        for index, name in enumerate(names):
            mask = "[NAME]" if self.surrogates is None else self.surrogates.value("NAME", name)
            text = text.replace(chr(_NAME_MARK + index), mask)
        return text

    def _is_real(self, kind: str, value: str) -> bool:
        return bool(self.inventory is not None and self.inventory.contains(kind, value))

    def _real_names(self, text: str) -> list[str]:
        if self.inventory is None:
            return []
        found = []
        for run in _CJK_RUN.findall(text):
            for size in (4, 3, 2):
                for start in range(len(run) - size + 1):
                    candidate = run[start:start + size]
                    if self.inventory.contains("NAME", candidate):
                        found.append(candidate)
        found += [w for w in _LATIN_NAME.findall(text) if self.inventory.contains("NAME", w)]
        return sorted(set(found), key=len, reverse=True)

    def summary(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"real_leaks": dict(self.real_leaks), "invented": dict(self.invented)}
