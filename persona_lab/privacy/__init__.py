"""Privacy: detect private values in chat text, replace them with surrogates or placeholders, keep keyed hashes.

- ``Scrubber`` finds phones, ID numbers, bank cards, emails, URLs, IPs, QQ/WeChat ids, passwords,
  addresses, licence plates, known contact names and blocked words, and masks them as ``[TYPE]``
  (``PLACEHOLDERS``) or, with ``Surrogates``, replaces each with a consistent realistic fake of its type
  and shape (the default at ingest: privacy.mode surrogate); a message is never dropped.
- ``PiiInventory`` records counts and HMAC-SHA256 hashes (key: ``load_or_create_secret``) of what was found,
  never raw values, so later stages can tell a real leak from an invented value.
- ``make_canaries`` makes fake secret-shaped values to plant in training copies (exposure test).
- ``scrub_file`` streams a text or JSONL file through a Scrubber.

Everything here is pure Python (stdlib + ``phonenumbers``) and cheap to import.
"""

from persona_lab.privacy.canaries import Canary, canary_record, make_canaries, random_canary_value
from persona_lab.privacy.files import ScrubInputError, scrub_file
from persona_lab.privacy.inventory import (
    PiiInventory,
    SecretPermissionError,
    lab_inventory,
    load_or_create_secret,
    normalise_value,
)
from persona_lab.privacy.scrubber import PLACEHOLDERS, TYPES, Found, Scrubber, ScrubResult
from persona_lab.privacy.surrogates import Surrogates

__all__ = [
    "PLACEHOLDERS",
    "TYPES",
    "Canary",
    "Found",
    "PiiInventory",
    "ScrubInputError",
    "ScrubResult",
    "Scrubber",
    "SecretPermissionError",
    "Surrogates",
    "canary_record",
    "lab_inventory",
    "load_or_create_secret",
    "make_canaries",
    "normalise_value",
    "random_canary_value",
    "scrub_file",
]
