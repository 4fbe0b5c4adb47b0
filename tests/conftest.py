"""Shared fixtures: where the real corpora live, and small generated audio files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMONET_SHARED", REPO.parent / "shared"))
CORPORA_DIR = SHARED / "corpora"


def real_corpus(name: str) -> Path:
    """Path of a real corpus copy in ../shared/corpora; skips the test if it is absent."""
    path = CORPORA_DIR / name
    if not path.is_dir():
        pytest.skip(f"real corpus {name!r} not found at {path}")
    return path


@pytest.fixture
def emodb_dir() -> Path:
    return real_corpus("emodb")


@pytest.fixture
def ravdess_dir() -> Path:
    return real_corpus("ravdess")


@pytest.fixture
def urdu_dir() -> Path:
    return real_corpus("urdu")


@pytest.fixture(scope="session")
def real_emoset(tmp_path_factory) -> Path:
    """EmoSet of the real EmoDB, RAVDESS and URDU copies, prepared once per test session."""
    from emonet.corpora.prepare import prepare

    out = tmp_path_factory.mktemp("emoset")
    for name in ("emodb", "ravdess", "urdu"):
        prepare(name, real_corpus(name), out, workers=2, show_progress=False)
    return out
