"""Shared test helpers. Third-party data lives in ../shared/data and is read from there, never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("PERSONA_LAB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"third-party data not present: {path} (set PERSONA_LAB_SHARED_DATA to its folder)")
    return path


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
