"""`emonet corpora`: every registered corpus is listed; docs/corpora.md is its markdown."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

from emonet.cli.corpora import corpus_markdown
from emonet.corpora import CORPORA

REQUIRED = [
    "emodb",
    "ravdess",
    "urdu",
    "emovo",
    "casia",
    "nemo",
    "turev",
    "baved",
    "tess",
    "savee",
    "cremad",
    "iemocap",
    "shemo",
    "subesco",
    "aesdd",
    "cafe",
    "mesd",
    "jlcorpus",
    "esd",
    "emovdb",
    "enterface",
    "msppodcast",
]
GENERIC = ("folders", "csv", "audformat")


def test_every_required_corpus_and_importer_is_registered():
    assert set(REQUIRED) | set(GENERIC) <= set(CORPORA)
    for name in REQUIRED:
        spec = CORPORA[name]
        assert spec.labels and spec.language and spec.license and spec.citation, name
        assert not spec.generic
    for name in GENERIC:
        assert CORPORA[name].generic and CORPORA[name].labels is None


def test_cli_lists_each_corpus():
    """Each registered name is a row of the table (its first cell; not a substring of another
    name, so ``esd`` is not found inside ``aesdd``), and nothing else is."""
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-m", "emonet", "corpora"],
        capture_output=True, text=True, check=True, env=env,
    ).stdout  # fmt: skip
    cells = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    names = [c for c in cells if c]
    assert sorted(names) == sorted(CORPORA), names
    assert set(REQUIRED) | set(GENERIC) <= set(names)
    assert "German" in out and "Urdu" in out


def test_docs_table_in_sync():
    assert (REPO / "docs" / "corpora.md").read_text() == corpus_markdown(), (
        "docs/corpora.md is stale: run `emonet corpora --markdown > docs/corpora.md`"
    )
