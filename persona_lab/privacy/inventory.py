"""The keyed-hash inventory of private values found at ingest, and the per-lab secret behind it.

``results/<lab>/data/pii_report.json`` holds, per type, how many values were masked and an
HMAC-SHA256 (keyed with the lab secret) of each distinct normalised value, never the value itself. Later
stages (the reply guard, the leak evaluation) hash what a model says with the same key and ask
``contains``: a hit means the model reproduced a real value from the exports; a miss means an invented one.

Why keyed: phone and ID numbers come from small spaces (about 10^9 mobiles), so a plain SHA-256 could be
reversed by enumeration. Without the secret the hashes reveal nothing beyond counts.

The secret: ``<workspace>/.secret``, 32 random bytes written as hex, mode 0600, created on first use and
reused after (reports stay comparable across re-runs). If the file exists with looser permissions
(group/other may read it) we REFUSE with ``SecretPermissionError`` rather than silently tightening it:
anyone who could read it could have enumerated the hashes, so the user must decide to trust it
(``chmod 600``) or delete it (a new key; old reports can then no longer be matched). POSIX only: on
Windows the mode check is skipped.

Normalisation before hashing, so one value written two ways has one hash: phones to E.164 (region CN for
numbers without +), ID/bank card/QQ to digits (ID with an upper-case X), emails/URLs/WeChat ids lower-
cased, plates and addresses without spaces or separators, names with whitespace collapsed, blocked words
case-folded; passwords exactly as written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import phonenumbers

from persona_lab.errors import PersonaLabError
from persona_lab.privacy.checks import ascii_digits
from persona_lab.privacy.scrubber import Found
from persona_lab.workspace import Workspace
from persona_lab.workspace.files import read_json

SECRET_FILE = ".secret"
REPORT_NOTE = (
    "Counts of masked private values by type, and for each distinct value its HMAC-SHA256 keyed with this "
    "lab's secret (results/<lab>/.secret). Raw values are never stored. Match a value with "
    "PiiInventory.contains(type, value)."
)


class SecretPermissionError(PersonaLabError, PermissionError):
    """The lab secret exists but group/other can access it."""


def load_or_create_secret(workspace: Path) -> bytes:
    """The lab's 32-byte HMAC key from ``workspace/.secret``, created (mode 0600) if missing."""
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    path = workspace / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        if hasattr(os, "fchmod"):
            os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode is masked by umask; make it exact
        key = secrets.token_bytes(32)
        handle.write(key.hex() + "\n")
    return key


def _read_secret(path: Path) -> bytes:
    if os.name == "posix":
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretPermissionError(
                f"{path}: the lab secret is readable by others (mode {mode:o}, expected 600). If you trust it, "
                f"run `chmod 600 {path}`; otherwise delete it (a new key is made, and earlier pii_report.json "
                "hashes can no longer be matched)."
            )
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError(f"{path}: not a lab secret (expected 64 hex characters)")
    return key


def _normalise_phone(value: str) -> str:
    raw = value.strip().replace("（", "(").replace("）", ")")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, "CN")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return ("+" if raw.startswith("+") else "") + ascii_digits(raw)


def _without(value: str, chars: str) -> str:
    return "".join(ch for ch in value if ch not in chars and not ch.isspace())


def normalise_value(kind: str, value: str) -> str:
    """The canonical form of a value before hashing (see the module docstring)."""
    if kind == "PHONE":
        return _normalise_phone(value)
    if kind in ("ID", "BANKCARD", "QQ"):
        return ascii_digits(value)
    if kind in ("EMAIL", "URL", "WXID"):
        return value.strip().replace("＠", "@").lower()
    if kind == "PLATE":
        return _without(value, "·•・.-").upper()
    if kind in ("ADDRESS", "IP"):
        return _without(value, "")
    if kind == "NAME":
        return " ".join(value.split())
    if kind == "BLOCKED":
        return " ".join(value.split()).casefold()
    return value  # PASSWORD and unknown types: exactly as written


class PiiInventory:
    """Counts by type and keyed hashes of each distinct value; holds no raw value."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the inventory secret must be at least 16 bytes")
        self._secret = secret
        self.counts: Counter[str] = Counter()
        self.hashes: dict[str, set[str]] = {}

    def hash_value(self, kind: str, value: str) -> str:
        """HMAC-SHA256(secret, normalised value), hex."""
        message = normalise_value(kind, value).encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def add(self, found: Found) -> None:
        self.counts[found.type] += 1
        self.hashes.setdefault(found.type, set()).add(self.hash_value(found.type, found.value))

    def add_all(self, found: list[Found]) -> None:
        for item in found:
            self.add(item)

    def contains(self, kind: str, value: str) -> bool:
        """Whether ``value`` (as type ``kind``) is one of the recorded values."""
        recorded = self.hashes.get(kind)
        return bool(recorded) and self.hash_value(kind, value) in recorded

    def to_report(self) -> dict[str, Any]:
        kinds = sorted(self.counts)
        return {
            "counts": {k: self.counts[k] for k in kinds},
            "distinct": {k: len(self.hashes.get(k, ())) for k in kinds},
            "hashes": {k: sorted(self.hashes.get(k, ())) for k in kinds},
            "hash": "hmac-sha256",
            "note": REPORT_NOTE,
        }

    @classmethod
    def from_report(cls, report: dict[str, Any], secret: bytes) -> PiiInventory:
        if report.get("hash") != "hmac-sha256":
            raise ValueError(f"unsupported pii report hash {report.get('hash')!r} (expected 'hmac-sha256')")
        inventory = cls(secret)
        inventory.counts.update({k: int(n) for k, n in report.get("counts", {}).items()})
        inventory.hashes = {k: set(v) for k, v in report.get("hashes", {}).items()}
        return inventory

    def write_report(self, path: Path) -> None:
        """Write ``to_report()`` as JSON (e.g. to results/<lab>/data/pii_report.json)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_report(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def lab_inventory(workspace: Workspace) -> PiiInventory | None:
    """The lab's inventory of private values its ingest masked (data/pii_report.json, keyed by the lab's
    secret), or None before the first ingest. The evaluation and the reply guard both read it here."""
    if not workspace.pii_report.exists():
        return None
    return PiiInventory.from_report(read_json(workspace.pii_report), load_or_create_secret(workspace.root))
