"""Shared fixtures: where the real corpora live, and small generated audio files.

Tests that need a real corpus skip when it is missing; :func:`pytest_terminal_summary` then says
at the end of the run how many were skipped, which corpora were missing and where they were
looked for (``$EMONET_SHARED/corpora``, by default ``../shared/corpora``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMONET_SHARED", REPO.parent / "shared"))
CORPORA_DIR = SHARED / "corpora"
REAL_CORPORA = ("emodb", "ravdess", "urdu")
"""The real corpus copies some tests use (``real_emoset`` prepares all of them)."""

_MISSING = re.compile(r"real corpus '(?P<name>[^']+)' not found|real corpora not")
"""Skip reasons that mean a real corpus is missing (the first group names it, if known)."""


def real_corpus(name: str) -> Path:
    """Path of a real corpus copy in ../shared/corpora; skips the test if it is absent."""
    path = CORPORA_DIR / name
    if not path.is_dir():
        pytest.skip(f"real corpus {name!r} not found at {path}")
    return path


def missing_corpus_skips(reports: list) -> tuple[int, list[str]]:
    """How many skip reports are for a missing real corpus, and which corpora are missing."""
    count, names = 0, {n for n in REAL_CORPORA if not (CORPORA_DIR / n).is_dir()}
    for report in reports:
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        match = _MISSING.search(str(reason))
        if match:
            count += 1
            if match["name"]:
                names.add(match["name"])
    return count, sorted(names)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config) -> None:
    """One line at the end of the run when tests were skipped for want of real corpora."""
    count, names = missing_corpus_skips(terminalreporter.stats.get("skipped", []))
    if not count:
        return
    tests = "test" if count == 1 else "tests"
    terminalreporter.write_line(
        f"{count} {tests} skipped: real corpora not found at {CORPORA_DIR} "
        f"(missing: {', '.join(names) or 'unknown'}); "
        "set EMONET_SHARED=/path/to/shared (the folder holding corpora/)",
        yellow=True,
        bold=True,
    )


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
    for name in REAL_CORPORA:
        prepare(name, real_corpus(name), out, workers=2, show_progress=False)
    return out
