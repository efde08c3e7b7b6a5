"""The keyed-hash inventory and the lab secret: HMAC values, normalisation, file mode, no raw values."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import pytest

from persona_lab.privacy import Found, PiiInventory, Scrubber, SecretPermissionError, load_or_create_secret

SECRET = bytes(range(32))
RAW = [
    Found("PHONE", "138 0013 8000", 0, 0),
    Found("PHONE", "+86 13800138000", 0, 0),
    Found("ID", "11010519491231002x", 0, 0),
    Found("EMAIL", "Zhang.San@Example.com", 0, 0),
    Found("NAME", "张伟", 0, 0),
    Found("PASSWORD", "Abc@123", 0, 0),
]


def filled() -> PiiInventory:
    inventory = PiiInventory(SECRET)
    for item in RAW:
        inventory.add(item)
    return inventory


def test_hash_is_hmac_sha256_of_the_normalised_value() -> None:
    inventory = PiiInventory(SECRET)
    expected = hmac.new(SECRET, b"+8613800138000", hashlib.sha256).hexdigest()
    assert inventory.hash_value("PHONE", "138-0013-8000") == expected
    assert inventory.hash_value("EMAIL", "A@B.COM") == hmac.new(SECRET, b"a@b.com", hashlib.sha256).hexdigest()
    assert inventory.hash_value("ID", "110105 19491231 002x") == inventory.hash_value("ID", "11010519491231002X")
    assert inventory.hash_value("BANKCARD", "4111-1111-1111-1111") == inventory.hash_value("BANKCARD", "4111111111111111")
    assert PiiInventory(bytes(32)).hash_value("PHONE", "13800138000") != expected  # the key matters


def test_counts_distinct_and_contains() -> None:
    inventory = filled()
    report = inventory.to_report()
    assert report["counts"]["PHONE"] == 2 and report["distinct"]["PHONE"] == 1  # one number, two spellings
    assert report["hash"] == "hmac-sha256" and report["note"]
    assert inventory.contains("PHONE", "+86-138-0013-8000")
    assert inventory.contains("EMAIL", "zhang.san@example.com")
    assert not inventory.contains("PHONE", "13900139000")
    assert not inventory.contains("QQ", "13800138000")  # nothing recorded under that type
    assert not inventory.contains("PASSWORD", "abc@123")  # passwords are case-sensitive


def test_report_holds_no_raw_value() -> None:
    dumped = json.dumps(filled().to_report(), ensure_ascii=False)
    for needle in ["13800138000", "0013", "1101051949", "zhang.san", "Zhang", "张伟", "Abc@123"]:
        assert needle not in dumped


def test_from_report_round_trip(tmp_path: Path) -> None:
    inventory = filled()
    path = tmp_path / "data" / "pii_report.json"
    inventory.write_report(path)
    again = PiiInventory.from_report(json.loads(path.read_text(encoding="utf-8")), SECRET)
    assert again.to_report() == inventory.to_report()
    assert again.contains("NAME", "张伟")
    with pytest.raises(ValueError, match="hash"):
        PiiInventory.from_report({**inventory.to_report(), "hash": "sha1"}, SECRET)


def test_scrub_and_inventory_together() -> None:
    inventory = PiiInventory(SECRET)
    result = Scrubber().scrub("手机13800138000 邮箱a@b.com")
    inventory.add_all(result.found)
    assert inventory.to_report()["counts"] == {"EMAIL": 1, "PHONE": 1}


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_secret_created_0600_and_reused(tmp_path: Path) -> None:
    workspace = tmp_path / "results" / "lab"
    old_umask = os.umask(0o000)  # even with a permissive umask the file must be 0600
    try:
        key = load_or_create_secret(workspace)
    finally:
        os.umask(old_umask)
    path = workspace / ".secret"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == key.hex()
    assert load_or_create_secret(workspace) == key
    assert load_or_create_secret(tmp_path / "other") != key


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_secret_with_loose_permissions_is_refused(tmp_path: Path) -> None:
    load_or_create_secret(tmp_path)
    path = tmp_path / ".secret"
    path.chmod(0o644)
    with pytest.raises(SecretPermissionError, match="chmod 600"):
        load_or_create_secret(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # refused, not silently changed


def test_secret_with_bad_content_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / ".secret"
    path.write_text("not hex\n")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="64 hex"):
        load_or_create_secret(tmp_path)


def test_short_secret_rejected() -> None:
    with pytest.raises(ValueError):
        PiiInventory(b"short")
