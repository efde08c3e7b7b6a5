"""Timestamps as the exports write them, turned into unix seconds (UTC).

Exports write local wall-clock time without a zone ("2024/10/4 11:42", "2023-08-12 23:22:41",
"2022-12-09T21:25:39"); some write unix seconds. Naive times are read in the lab's ``timezone``
(default UTC), so exports of different kinds line up when the user sets their own zone.
The parse is on the hot path (one per message), so it avoids strptime, which costs ~10 µs a call.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from persona_lab.errors import PersonaLabError

_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DIGITS = re.compile(r"^\d{9,13}(?:\.\d+)?$")


class TimeFormatError(PersonaLabError, ValueError):
    hint = "write times as ISO 8601 (2024-05-01T12:00:00+08:00) or a Unix timestamp"


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


_HMS = re.compile(r"^(.*[ T])(\d{1,2}):(\d{2})(?::(\d{2}))?$")


_MINUTES: dict[str, float] = {}  # "YYYY-MM-DD HH:MM|zone" -> unix seconds; bounded below


def parse_time(value: str | float, tz: str = "UTC") -> float:
    """Unix seconds for ``value``; raises TimeFormatError naming the value when it is not a time."""
    if type(value) is str and len(value) == 19 and value[16] == ":" and value[13] == ":":
        # The common "YYYY-MM-DD HH:MM:SS": one dict lookup per message for its minute.
        seconds = value[17:]
        if seconds.isdigit() and int(seconds) < 60:
            key = value[:16] + tz
            base = _MINUTES.get(key)
            if base is None:
                if len(_MINUTES) > 20_000:
                    _MINUTES.clear()
                try:
                    base = _parse_wall_clock(value[:16] + ":00", tz)
                except TimeFormatError:
                    raise TimeFormatError(f"not a time: {value!r}") from None
                _MINUTES[key] = base
            return base + int(seconds)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(float(value))
    text = str(value).strip()
    if _DIGITS.match(text):
        return _from_epoch(float(text))
    # Fast path: every message has its own second, so cache the start of its hour and add the rest.
    # Zone offsets only change on hour boundaries, so this is exact.
    match = _HMS.match(text)
    if match and int(match[3]) < 60 and int(match[4] or 0) < 60:
        day, hour = match[1], match[2]
        return _parse_wall_clock(f"{day}{int(hour):02d}:00:00" if "/" not in day else f"{day}{hour}:00", tz) + \
            int(match[3]) * 60 + int(match[4] or 0)
    return _parse_wall_clock(text, tz)


def _from_epoch(seconds: float) -> float:
    # Some exports write milliseconds; no chat happened after the year 5138.
    return seconds / 1000.0 if seconds > 1e11 else seconds


@lru_cache(maxsize=65536)  # exports repeat minutes and seconds; the cache makes repeats free
def _parse_wall_clock(text: str, tz: str) -> float:
    match = _SLASHED.match(text)
    try:
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            moment = datetime(y, mo, d, h, mi, s)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TimeFormatError(f"not a time: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.timestamp()


def iso(ts: float) -> str:
    """The UTC ISO form written to output files (whole seconds)."""
    seconds = int(ts)
    within = seconds % 3600
    return f"{_iso_hour(seconds - within)}{within // 60:02d}:{within % 60:02d}Z"


@lru_cache(maxsize=4096)
def _iso_hour(hour_start: int) -> str:
    return datetime.fromtimestamp(hour_start, tz=UTC).strftime("%Y-%m-%dT%H:")
