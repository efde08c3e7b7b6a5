"""Our privacy detectors against maintained packages, per type, on both labelled sets.

    python eval/bench_pii.py            # needs the bench extra: pip install -e '.[bench]'

Sets: tests/fixtures/privacy/pii_labelled.jsonl (made by make_labelled.py, with known contact names),
tests/fixtures/privacy/public_forms.txt (written by hand from public text forms, no names given; the
detectors were adjusted on it) and public_forms_heldout.txt (addresses written after that and measured
as they stood: the least biased figure).
Candidates per type:
- ours: persona_lab.privacy.Scrubber (the gate, the pattern detectors, the name lists);
- jionlp (1.5.31): extract_phone_number, extract_id_card, extract_email, extract_qq, extract_url,
  extract_ip_address, extract_wechat_id, extract_motor_vehicle_licence_plate; for ADDRESS, recognize_location
  (it names the administrative areas and roads it recognises, without offsets: we mark where each name occurs);
- jieba.posseg (0.42.1, already a dependency) for NAME without lists: words it tags ``nr`` (person name);
- pyap (0.3.1, US/GB/CA) and usaddress (0.5.16, a CRF that tags tokens of US addresses; we take runs of
  address tags holding a house number and a street name) for English ADDRESS.
Scoring: ``persona_lab.privacy.labelled.score`` (overlap matching), each candidate scored on its own type only.
Speed: microseconds per message over both sets (one thread), the cost each would add to ingest.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from persona_lab.privacy import Scrubber
from persona_lab.privacy.labelled import load_labelled, score

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "privacy"
SETS = {"generated": FIXTURES / "pii_labelled.jsonl", "public": FIXTURES / "public_forms.txt",
        "held-out": FIXTURES / "public_forms_heldout.txt"}
Span = tuple[int, int, str]


@functools.cache
def _scrubber(names: tuple[str, ...]) -> Scrubber:
    return Scrubber(known_names=names)  # built once per contact list, as ingest does


def ours(kind: str) -> Callable[[str, list[str]], list[Span]]:
    def detect(text: str, names: list[str]) -> list[Span]:
        return [(f.start, f.end, f.type) for f in _scrubber(tuple(names)).find(text) if f.type == kind]
    return detect


def _jionlp():
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
        import jionlp
    return jionlp


def jionlp_extractor(kind: str) -> Callable[[str, list[str]], list[Span]] | None:
    jio = _jionlp()
    functions = {
        "PHONE": jio.extract_phone_number, "ID": jio.extract_id_card, "EMAIL": jio.extract_email,
        "QQ": jio.extract_qq, "URL": jio.extract_url, "IP": jio.extract_ip_address,
        "WXID": jio.extract_wechat_id, "PLATE": jio.extract_motor_vehicle_licence_plate,
    }
    if kind == "ADDRESS":
        return _jionlp_locations
    function = functions.get(kind)
    if function is None:
        return None

    def detect(text: str, names: list[str]) -> list[Span]:
        return [(item["offset"][0], item["offset"][1], kind) for item in function(text, detail=True)]
    return detect


def _occurrences(text: str, names: Iterable[str], kind: str) -> list[Span]:
    spans = []
    for name in set(names):
        spans += [(m.start(), m.end(), kind) for m in re.finditer(re.escape(name), text)]
    return spans


def _jionlp_locations(text: str, names: list[str]) -> list[Span]:
    found = _jionlp().recognize_location(text)
    pieces = [v for entry, _ in found.get("domestic") or [] for v in entry.values() if v]
    pieces += list((found.get("others") or {}).keys())
    return _occurrences(text, pieces, "ADDRESS")


def jieba_names(text: str, names: list[str]) -> list[Span]:
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    spans, position = [], 0
    for word, flag in jieba.posseg.cut(text):
        start = text.find(word, position)
        position = start + len(word)
        if flag == "nr" and len(word) >= 2:
            spans.append((start, position, "NAME"))
    return spans


def pyap_addresses(text: str, names: list[str]) -> list[Span]:
    import pyap

    spans = []
    for country in ("US", "GB", "CA"):
        spans += [(a.match_start, a.match_end, "ADDRESS") for a in pyap.parse(text, country=country)]
    return spans


_USADDRESS_TAGS = {
    "AddressNumber", "AddressNumberPrefix", "AddressNumberSuffix", "StreetNamePreDirectional", "StreetNamePreType",
    "StreetName", "StreetNamePostType", "StreetNamePostDirectional", "OccupancyType", "OccupancyIdentifier",
    "SubaddressType", "SubaddressIdentifier", "BuildingName",
}


def usaddress_addresses(text: str, names: list[str]) -> list[Span]:
    import usaddress

    if not any(ch.isascii() and ch.isalpha() for ch in text):
        return []
    spans: list[Span] = []
    run: list[tuple[int, int, str]] = []
    position = 0
    for token, tag in usaddress.parse(text) + [("", "")]:
        start = text.find(token, position) if token else len(text)
        end = start + len(token)
        position = end if token else position
        if tag in _USADDRESS_TAGS and token:
            run.append((start, end, tag))
            continue
        tags = {t for _, _, t in run}
        if "AddressNumber" in tags and "StreetName" in tags:
            spans.append((run[0][0], run[-1][1], "ADDRESS"))
        run = []
    return spans


def measure(detect: Callable[[str, list[str]], list[Span]], kind: str, lines_by_set: dict) -> dict:
    row = {}
    texts = 0
    started = time.perf_counter()
    for name, lines in lines_by_set.items():
        result = score(lines, detect)
        row[name] = (result.recall(kind), result.type_precision(kind), result.gold[kind], result.predicted[kind])
        texts += len(lines)
    row["us_per_message"] = (time.perf_counter() - started) / texts * 1e6
    return row


def main() -> None:
    lines_by_set = {name: load_labelled(path) for name, path in SETS.items()}
    print(f"# bench_pii {date.today()} · OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} · one thread")
    print("| type | detector | " + " | ".join(f"recall {n} | precision {n}" for n in SETS) + " | µs/message |")
    print("|---|---|" + "---|---|" * len(SETS) + "---|")
    kinds = ("PHONE", "ID", "BANKCARD", "EMAIL", "QQ", "URL", "IP", "WXID", "PLATE", "PASSWORD", "ADDRESS", "NAME")
    start = time.perf_counter()
    _jionlp().recognize_location("北京市")  # load its dictionaries once, outside the timings
    print(f"(jionlp's location dictionaries load in {time.perf_counter() - start:.0f} s)")
    for kind in kinds:
        candidates = [("ours", ours(kind)), ("jionlp", jionlp_extractor(kind))]
        if kind == "ADDRESS":
            candidates += [("pyap", pyap_addresses), ("usaddress", usaddress_addresses)]
        if kind == "NAME":
            candidates += [("jieba nr", jieba_names)]
        for label, detect in candidates:
            if detect is None:
                continue
            row = measure(detect, kind, lines_by_set)
            cells = []
            for name in SETS:
                recall, precision, gold, predicted = row[name]
                cells += [f"{recall:.3f} (n={gold})" if gold else "—", f"{precision:.3f} ({predicted})"
                          if predicted else "—"]
            print(f"| {kind} | {label} | " + " | ".join(cells) + f" | {row['us_per_message']:.0f} |")


if __name__ == "__main__":
    main()
