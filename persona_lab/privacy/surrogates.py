"""Surrogates: each private value replaced by a realistic, consistent fake of the same type and shape.

Why: a training text full of ``[NAME]`` and ``[PHONE]`` teaches the clone to say them (on the demo, replies
such as "[NAME#1] 跟他说明啥"), and a friend in the arena spots the brackets at once. De-identification
practice ("hiding in plain sight", Carrell et al. 2013) replaces each value with a fake one instead: the
text stays natural and the real value is still gone.

How a surrogate is chosen:
- by keyed hash: HMAC-SHA256 under a key derived from the lab secret, over (type, normalised value)
  (``inventory.normalise_value``), seeds the draw; so the same real value maps to the same surrogate
  everywhere in the corpus and on every re-run, whatever way it was written ("138 0013 8000" and
  "13800138000" get the same digits, each in its own layout), and nobody without the secret can tell which
  real value a surrogate stands for;
- never twice: a surrogate already handed to another value, a real name of the lab, or the value itself
  is drawn again (next attempt), so two different values never share a surrogate;
- of the same shape: separators, digit count, letter case, full-width digits and script are kept;
- recognisable as its type: every surrogate but a name is checked to be found by the Scrubber as the same
  type (after its cue word, for cue-only types), so the reply guard masks surrogates on output like any
  value; names are written to ``surrogates.json`` for the guard, since names are found from lists.
  A value that finds no such surrogate in 32 attempts falls back to its placeholder.

What each type becomes:
- PHONE: a mainland mobile gets a prefix with no allocation (``fakes.UNALLOCATED_MOBILE_PREFIXES``); a North
  American number gets 555-01xx (reserved for fiction); a landline keeps its area code and gets another local
  number; other international numbers keep their country code;
- ID: a GB 11643 number with an unassigned province code (24-29), a birth date 1950-2005, a valid check
  character; BANKCARD: the network's leading digits kept, the rest drawn, a valid Luhn digit;
- EMAIL: the local part's shape at a reserved domain (example.com/net/org); URL: example.com with the path's
  shape; IP: an RFC 5737 documentation address; QQ, WXID, PASSWORD, PLATE: same shape, new characters;
- ADDRESS: the same levels and markers (省/市/区/路/号/栋/单元/室, Street/Apt …) with other place names and
  numbers, so a room stays a room and a village group stays a village group;
- NAME: a name from ``fakes`` of the same script and length (surname + given name, 小/老/阿 nicknames keep the
  prefix, English first and last names of about the same length).
BLOCKED words keep their placeholder: a blocked phrase has no type to fake.

Only keyed hashes of real values are held (in memory, to keep choices consistent); the inventory
(``PiiInventory``) still records real values by hash only, so a surrogate in a model's reply is never in
it and is reported as invented, not as a leak.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string
from collections.abc import Callable, Iterable

from persona_lab.privacy import fakes
from persona_lab.privacy.checks import ascii_digits, gb11643_check_char, luhn_check_digit
from persona_lab.privacy.inventory import normalise_value
from persona_lab.privacy.scrubber import PLACEHOLDERS, Found, Scrubber

MAX_ATTEMPTS = 32
# Types found only after a cue word are checked after one.
_CHECK_CUES = {"PHONE": "电话 ", "QQ": "QQ ", "WXID": "微信号 ", "PASSWORD": "密码 "}
_FULL_WIDTH_DIGITS = "０１２３４５６７８９"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O on plates


class Surrogates:
    """Hands out surrogates; one per lab run (build it with the lab secret and the lab's real names)."""

    def __init__(self, secret: bytes, real_names: Iterable[str] = ()) -> None:
        if len(secret) < 16:
            raise ValueError("the surrogate secret must be at least 16 bytes")
        self._key = hmac.new(secret, b"persona-lab surrogates v1", hashlib.sha256).digest()
        self._real_names = {" ".join(str(n).split()) for n in real_names}
        self._attempt: dict[bytes, int] = {}  # keyed hash of a real value -> the attempt that won
        self._seen: dict[bytes, str] = {}  # keyed hash of a value as written -> its surrogate
        self._owner: dict[tuple[str, str], bytes] = {}  # (type, normalised surrogate) -> its value's hash
        self._checker = Scrubber()
        self.names: set[str] = set()  # name surrogates handed out (for the reply guard)

    def __call__(self, found: Found) -> str:
        return self.value(found.type, found.value)

    def value(self, kind: str, raw: str, shape: str | None = None) -> str:
        """The surrogate of ``raw`` as a ``kind`` value (its placeholder if none fits), shaped like ``shape``
        (default: ``raw``; e.g. a person known only by an id gets a name shaped like "某某某")."""
        shape = raw if shape is None else shape
        make = _MAKERS.get(kind)
        if make is None:
            return PLACEHOLDERS.get(kind, f"[{kind}]")
        # the same value written the same way: one keyed hash, no normalising (phonenumbers) or redrawing
        seen_key = hmac.new(self._key, f"{kind}\x1f{raw}\x1f{shape}".encode(), hashlib.sha256).digest()
        seen = self._seen.get(seen_key)
        if seen is None:
            seen = self._seen[seen_key] = self._choose(kind, raw, shape, make)
        return seen

    def _choose(self, kind: str, raw: str, shape: str, make: Callable[[random.Random, str], str]) -> str:
        original = normalise_value(kind, raw)
        digest = hmac.new(self._key, f"{kind}\x1f{original}".encode(), hashlib.sha256).digest()
        known = self._attempt.get(digest)
        if known is not None:
            return make(self._rng(digest, known), shape)
        for attempt in range(MAX_ATTEMPTS):
            candidate = make(self._rng(digest, attempt), shape)
            key = (kind, normalise_value(kind, candidate))
            if key[1] == original or self._owner.get(key, digest) != digest or not self._fits(kind, candidate):
                continue
            self._owner[key] = digest
            self._attempt[digest] = attempt
            if kind == "NAME":
                self.names.add(candidate)
            return candidate
        return PLACEHOLDERS[kind]

    def _rng(self, digest: bytes, attempt: int) -> random.Random:
        seed = hmac.new(self._key, digest + attempt.to_bytes(2, "big"), hashlib.sha256).digest()
        return random.Random(int.from_bytes(seed[:8], "big"))

    def _fits(self, kind: str, candidate: str) -> bool:
        if kind == "NAME":
            return candidate not in self._real_names
        cue = _CHECK_CUES.get(kind, "")
        found = self._checker.find(cue + candidate)
        if kind == "ADDRESS":  # the numbered core is what must be found; a drawn estate name may cut it short
            return bool(found) and all(f.type == kind for f in found)
        return [(f.type, f.value) for f in found] == [(kind, candidate)]


# ------------------------------------------------------------------------------------------- shapes
def _reshape(raw: str, draw: Callable[[str], str]) -> str:
    """``raw`` with each letter and digit replaced by ``draw(char)``; everything else kept."""
    return "".join(draw(ch) if ch.isalnum() and (ch.isascii() or ch.isdecimal()) else ch for ch in raw)


def _same_class(rng: random.Random) -> Callable[[str], str]:
    def draw(ch: str) -> str:
        if ch.isdecimal():
            digit = rng.choice(string.digits)
            return _FULL_WIDTH_DIGITS[int(digit)] if not ch.isascii() else digit
        if ch.isupper():
            return rng.choice(string.ascii_uppercase)
        return rng.choice(string.ascii_lowercase)
    return draw


def _lay_digits(raw: str, digits: str) -> str:
    """``digits`` (ASCII, X allowed) written into the digit positions of ``raw``, keeping its layout."""
    out, index = [], 0
    for ch in raw:
        if (ch.isdecimal() or ch in "Xx") and index < len(digits):
            new = digits[index]
            index += 1
            if new == "X" and ch == "x":
                new = "x"
            elif not ch.isascii() and new.isdigit():
                new = _FULL_WIDTH_DIGITS[int(new)]
            out.append(new)
        else:
            out.append(ch)
    return "".join(out)


def _random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


# ------------------------------------------------------------------------------------------- makers
def _phone(rng: random.Random, raw: str) -> str:
    digits = ascii_digits(raw)
    international = raw.lstrip().startswith(("+", "00"))
    if len(digits) == 11 and digits[0] == "1" and raw.lstrip().startswith(("+1", "001")) or \
            len(digits) == 10 and digits[0] in "23456789" and not international:  # North America: 555-01xx is for fiction
        area = rng.choice("23456789") + _random_digits(rng, 2)
        return _lay_digits(raw, digits[:-10] + area + "55501" + _random_digits(rng, 2))
    if len(digits) in (11, 13, 15) and digits[-11] == "1" and digits[-10] in "3456789":  # mainland mobile
        national = rng.choice(fakes.UNALLOCATED_MOBILE_PREFIXES) + _random_digits(rng, 8)
        return _lay_digits(raw, digits[:-11] + national)
    if international:  # keep the country code (roughly)
        return _lay_digits(raw, digits[:3] + _random_digits(rng, len(digits) - 3))
    # a landline: the area code stays (a city, as coarse as an address's), the local number is drawn
    area = len(digits) - 8 if len(digits) >= 11 else len(digits) - 7
    area = max(area, 0)
    return _lay_digits(raw, digits[:area] + rng.choice("2345678") + _random_digits(rng, len(digits) - area - 1))


def _id_number(rng: random.Random, raw: str) -> str:
    born_year, born_month, born_day = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    first17 = (rng.choice(fakes.UNASSIGNED_ID_PROVINCES) + _random_digits(rng, 4)
               + f"{born_year:04d}{born_month:02d}{born_day:02d}" + _random_digits(rng, 3))
    return _lay_digits(raw, first17 + gb11643_check_char(first17))


def _bank_card(rng: random.Random, raw: str) -> str:
    digits = ascii_digits(raw)
    lead = digits[:2] if digits[:2] in ("62", "34", "37", "35") else digits[:1]
    body = lead + _random_digits(rng, len(digits) - len(lead) - 1)
    return _lay_digits(raw, body + luhn_check_digit(body))


def _email(rng: random.Random, raw: str) -> str:
    at = max(raw.rfind("@"), raw.rfind("＠"))
    local = _reshape(raw[:at], _same_class(rng))
    if not local[:1].isalnum():
        local = "a" + local[1:]
    return local + raw[at] + rng.choice(fakes.EMAIL_DOMAINS)


_URL_PARTS = re.compile(r"(?i)((?:https?|ftp)://)?(www\.)?([^/?#]*)(.*)")


def _url(rng: random.Random, raw: str) -> str:
    m = _URL_PARTS.match(raw)
    scheme, www, _, rest = m.group(1) or "", m.group(2) or "", m.group(3), m.group(4)
    return scheme + www + rng.choice(fakes.EMAIL_DOMAINS) + _reshape(rest, _same_class(rng))


def _ip(rng: random.Random, raw: str) -> str:
    return rng.choice(fakes.IP_PREFIXES) + str(rng.randint(1, 254))


def _qq(rng: random.Random, raw: str) -> str:
    digits = ascii_digits(raw)
    return _lay_digits(raw, rng.choice("123456789") + _random_digits(rng, len(digits) - 1))


def _same_shape(rng: random.Random, raw: str) -> str:
    """WXID, PASSWORD: letters for letters, digits for digits, the rest (wxid_, symbols) kept."""
    if raw.startswith("wxid_"):
        return "wxid_" + _reshape(raw[5:], _same_class(rng))
    return _reshape(raw, _same_class(rng))


def _plate(rng: random.Random, raw: str) -> str:
    def draw(ch: str) -> str:
        if ch.isdigit():
            return rng.choice(string.digits)
        return ch if ch in "DF" else rng.choice(_PLATE_LETTERS)
    return raw[0] + rng.choice(_PLATE_LETTERS) + "".join(draw(c) if c.isalnum() else c for c in raw[2:])


# Characters that give an address its levels and kinds; everything else in a Chinese address is a name.
_CN_ADDRESS_MARKERS = set("省市区县镇乡村路街道巷弄胡同里号楼栋幢单元室层座期组院门段小花园苑城府庭湾坊广场中心公寓家大厦馆新附自治")
_EN_ADDRESS_KEEP = {
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Ln", "Drive", "Dr", "Boulevard", "Blvd", "Way", "Court",
    "Ct", "Place", "Pl", "Terrace", "Ter", "Close", "Crescent", "Square", "Sq", "Parkway", "Pkwy", "Highway", "Hwy",
    "Circle", "Cir", "Loop", "Trail", "Trl", "Row", "Walk", "Alley", "Plaza", "Grove", "Gardens", "Mews", "Hill",
    "Apt", "Apartment", "Suite", "Ste", "Unit", "Flat", "Room", "Rm", "Fl", "Floor", "Bldg", "Building",
    "N", "S", "E", "W", "NE", "NW", "SE", "SW",
}
_CN_NUMERALS = set("零〇一二两三四五六七八九")  # 十 and 百 stay: they give the number its shape
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'.\-]*|\d+|.", re.DOTALL)


def _address(rng: random.Random, raw: str) -> str:
    out = []
    for token in _EN_TOKEN.findall(raw):
        if token.isdecimal():
            first = rng.choice("123456789") if token[0] != "0" else "0"
            out.append(_lay_digits(token, first + _random_digits(rng, len(token) - 1)))
        elif token[0].isascii() and token[0].isalpha():
            bare = token.rstrip(".")
            if bare in _EN_ADDRESS_KEEP or len(bare) == 1 or re.fullmatch(r"\d*(?:st|nd|rd|th)", bare):
                out.append(token)
            elif bare[0].isupper():
                out.append(rng.choice(fakes.EN_STREET_NAMES) + token[len(bare):])
            else:
                out.append(_reshape(token, _same_class(rng)))
        elif "\u4e00" <= token <= "\u9fff":
            if token in _CN_NUMERALS:
                out.append(rng.choice("一二三四五六七八九"))
            elif token in _CN_ADDRESS_MARKERS:
                out.append(token)
            else:
                out.append(rng.choice(fakes.CN_PLACE_CHARS))
        else:
            out.append(token)
    return "".join(out)


def _name(rng: random.Random, raw: str) -> str:
    name = " ".join(raw.split())
    if name and all("\u4e00" <= ch <= "\u9fff" for ch in name):
        return _cn_name(rng, name)
    if re.fullmatch(r"[A-Za-z][A-Za-z'\-]*(?: [A-Za-z][A-Za-z'\-]*)*", name):
        tokens = name.split(" ")
        new = [_nearest(rng, fakes.EN_FIRST if i == 0 else fakes.EN_LAST, len(t)) for i, t in enumerate(tokens)]
        return " ".join(n.upper() if t.isupper() and len(t) > 1 else n for n, t in zip(new, tokens, strict=True))
    # mixed scripts, digits, emoji: the same shape with new letters, CJK characters from given names
    return "".join(rng.choice(fakes.CN_GIVEN) if "\u4e00" <= ch <= "\u9fff" else ch for ch in
                   _reshape(name, _same_class(rng)))


def _cn_name(rng: random.Random, name: str) -> str:
    def given(n: int) -> str:
        return "".join(rng.choice(fakes.CN_GIVEN) for _ in range(n))
    if len(name) == 2 and name[0] in fakes.CN_NICK_PREFIXES:  # 小王, 老周, 阿杰
        return name[0] + rng.choice(fakes.CN_SURNAMES + fakes.CN_GIVEN)
    if len(name) >= 4 and name[:2] in fakes.CN_COMPOUND_SURNAMES or len(name) >= 5:
        return rng.choice(fakes.CN_COMPOUND_SURNAMES) + given(len(name) - 2)
    if len(name) == 2 and name[0] not in fakes.CN_SURNAMES:  # a given name alone (晚晴)
        return given(2)
    if len(name) == 1:
        return rng.choice(fakes.CN_SURNAMES)
    return rng.choice(fakes.CN_SURNAMES) + given(len(name) - 1)


def _nearest(rng: random.Random, names: tuple[str, ...], length: int) -> str:
    best = min(abs(len(n) - length) for n in names)
    return rng.choice([n for n in names if abs(len(n) - length) == best])


_MAKERS: dict[str, Callable[[random.Random, str], str]] = {
    "PHONE": _phone, "ID": _id_number, "BANKCARD": _bank_card, "EMAIL": _email, "URL": _url, "IP": _ip,
    "QQ": _qq, "WXID": _same_shape, "PASSWORD": _same_shape, "ADDRESS": _address, "NAME": _name, "PLATE": _plate,
}
