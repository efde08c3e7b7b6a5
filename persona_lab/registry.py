"""One small generic registry for the plural things: importers, metrics, merge methods.

Entries may be lazy ``"package.module:object"`` strings, so building a registry imports nothing heavy;
the object is imported on first ``get``. An unknown name fails with the list of known names, in the
shape lm-evaluation-harness uses: ``Unknown importer 'x'. Available: a, b, c``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from persona_lab.errors import PersonaLabError

T = TypeVar("T")


class UnknownEntryError(PersonaLabError, KeyError):
    """Raised for a name that is not registered; the message lists what is."""

    hint = "use one of the names the message lists"


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, obj: T | str | None = None) -> Callable[[T], T] | None:
        """Register ``obj`` (or a lazy "module:object" path) under ``name``; usable as a decorator."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        if obj is not None:
            self._entries[name] = obj
            return None

        def decorator(target: T) -> T:
            self._entries[name] = target
            return target

        return decorator

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise UnknownEntryError(f"Unknown {self.kind} {name!r}. Available: {', '.join(self.names())}")
        entry = self._entries[name]
        if isinstance(entry, str):
            module_name, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
