"""Every registered corpus parser, by the same rules (parametrised over the registry, so a new
corpus is checked the moment it is registered): facts filled in, junk ignored, a stray audio file
listed as skipped with its reason rather than lost, and a miniature test of its own layout."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO

from emonet.corpora import CORPORA

SPECIFIC = sorted(name for name, spec in CORPORA.items() if not spec.generic)
TESTS = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("test_*.py"))


@pytest.mark.parametrize("name", SPECIFIC)
def test_spec_documents_the_corpus(name):
    spec = CORPORA[name]
    assert spec.labels and len(set(spec.labels)) == len(spec.labels), name
    assert spec.language and spec.license and spec.citation and spec.layout, name


@pytest.mark.parametrize("name", SPECIFIC)
def test_junk_is_ignored_and_a_stray_audio_file_is_listed(name, tmp_path):
    (tmp_path / "README.txt").write_text("not audio")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "sub").mkdir()
    stray = tmp_path / "sub" / "zz_unknown_name.wav"
    sf.write(stray, np.zeros(1600, np.float32), 16000)
    result = CORPORA[name].parse(tmp_path)
    assert result.items == []
    assert [(s.path.endswith(stray.name), bool(s.reason)) for s in result.skipped] == [(True, True)]


@pytest.mark.parametrize("name", SPECIFIC)
def test_each_parser_has_a_test_of_its_own_layout(name):
    """A miniature copy of the official layout (or the real corpus) exercises every parser."""
    assert re.search(rf"def test_{name}_(miniature|real|parser|layout)", TESTS), name
