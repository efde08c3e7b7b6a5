"""Check-digit and plausibility tests for numbers that only count as private when they are valid.

- Resident ID numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence, and a
  MOD 11-2 check character (0-9 or X). We check the check character and that the birth date is a real
  calendar date between 1900 and today; we do not check the region code against the (changing) official
  table, so a made-up region with a valid check digit still counts.
- Bank cards: the Luhn checksum over 16-19 digits. UnionPay debit cards all pass Luhn; a few old
  UnionPay credit products do not and are missed (a known limit of checksum-based detection).

Limits: a random 18-digit number passes the ID test with probability about 1/11 x 1/300 (check digit x
date), a random 16-19 digit number passes Luhn with probability 1/10; callers add context (cue words,
leading digits) to keep order numbers out.
"""

from __future__ import annotations

import datetime as _dt
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


_NOT_DIGIT_OR_X = re.compile(r"[^0-9X]")


def ascii_digits(text: str) -> str:
    """The digits of ``text`` as ASCII (full-width ０-９ included), everything else dropped; X kept."""
    if not text.isascii():
        # Full-width and other Unicode decimal digits become ASCII; other characters go.
        text = "".join(str(int(ch)) if ch.isdecimal() else ch for ch in text)
    return _NOT_DIGIT_OR_X.sub("", text.replace("x", "X"))


def gb11643_check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def is_valid_cn_id(value: str, today: _dt.date | None = None) -> bool:
    """True for an 18-character resident ID whose birth date is real and whose check character matches."""
    digits = ascii_digits(value)
    if len(digits) != 18 or "X" in digits[:17] or digits[0] == "0":
        return False
    try:
        born = _dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    today = today or _dt.date.today()
    if not (_dt.date(1900, 1, 1) <= born <= today):
        return False
    return gb11643_check_char(digits[:17]) == digits[17]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum (ISO/IEC 7812) over a string of ASCII digits."""
    total = 0
    for index, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if index % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_valid_bank_card(value: str) -> bool:
    """16-19 digits (or American Express's 15, opening 34/37) that pass Luhn and start like a payment card
    (3-6: Amex/JCB, Visa, Mastercard, UnionPay)."""
    digits = ascii_digits(value)
    if "X" in digits or digits[:1] not in ("3", "4", "5", "6"):
        return False
    if not (16 <= len(digits) <= 19 or (len(digits) == 15 and digits[:2] in ("34", "37"))):  # 15: Amex
        return False
    return luhn_ok(digits)


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass Luhn (used to build fakes: canaries, fixtures)."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return d
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")
