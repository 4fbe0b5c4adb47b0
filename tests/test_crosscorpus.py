"""Cross-corpus scoring over shared emotions: label maps, pooled head probabilities, progress."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emonet.evaluate.crosscorpus import CrossCorpusError, head_uar, label_map


def test_default_map_unifies_synonyms_and_leaves_levels_out():
    assert label_map("ravdess", ["angry", "fearful", "surprised", "calm"]) == {
        "angry": "anger",
        "fearful": "fear",
        "surprised": "surprise",
        "calm": "calm",
    }
    assert label_map("baved", ["low", "neutral", "high"]) == {
        "low": None,
        "neutral": "neutral",
        "high": None,
    }
    over = {"baved": {"high": "anger"}}
    assert label_map("baved", ["low", "high"], over) == {"low": None, "high": "anger"}
    with pytest.raises(CrossCorpusError, match="'rage' is not a shared emotion"):
        label_map("x", ["a"], {"x": {"a": "rage"}})


def test_head_uar_pools_labels_and_keeps_common_emotions():
    # head labels: angry, happy, joy(→happiness), sad ; corpus labels: anger, happiness, boredom
    head_map = ["anger", "happiness", "happiness", "sadness"]
    truth_map = ["anger", "happiness", "boredom"]
    probs = np.array(
        [
            [0.5, 0.1, 0.1, 0.3],  # anger item: anger 0.5 vs happiness 0.2 → anger ✓
            [0.4, 0.35, 0.25, 0.0],  # happiness item: anger 0.4 vs happiness 0.6 → happiness ✓
            [0.6, 0.2, 0.1, 0.1],  # happiness item → anger ✗
            [0.1, 0.1, 0.1, 0.7],  # boredom item: not a common emotion, left out
        ]
    )
    truth = np.array([0, 1, 1, 2])
    score, n, common = head_uar(probs, head_map, truth, truth_map)
    assert common == ["anger", "happiness"] and n == 3
    assert score == pytest.approx((1.0 + 0.5) / 2)
    nothing = head_uar(probs, ["calm"] * 4, truth, truth_map)
    assert np.isnan(nothing[0]) and nothing[1] == 0


@pytest.fixture(scope="module")
def two_heads(tmp_path_factory) -> tuple[Path, Path]:
    """An untrained emonet-tiny with heads for two generated toy corpora, and their EmoSet."""
    import torch

    from emonet.corpora.emoset import open_emoset
    from emonet.corpora.prepare import prepare
    from emonet.demo import PREPARE_OPTIONS
    from emonet.demo_data import TOY_CORPORA, write_corpus
    from emonet.model import create_model, save_checkpoint

    root = tmp_path_factory.mktemp("cross")
    for spec in (TOY_CORPORA[0], TOY_CORPORA[2]):
        source = write_corpus(spec, root / "sources")
        prepare(spec.layout, source, root / "emoset", name=spec.name, workers=2,
                options=PREPARE_OPTIONS[spec.layout], show_progress=False)  # fmt: skip
    torch.manual_seed(0)
    model = create_model("emonet-tiny")
    for name, corpus in open_emoset(root / "emoset").items():
        model.add_corpus(name, list(corpus.labels))
    return save_checkpoint(model.eval(), root / "ckpt"), root / "emoset"


@pytest.fixture
def terminal(monkeypatch) -> io.StringIO:
    """rich's global console, as progress bars use it, made a terminal writing to a buffer."""
    import rich
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    monkeypatch.setattr(rich, "_console", console)
    assert rich.get_console() is console
    return buffer


def test_matrix_shows_progress_on_a_terminal_only_when_asked(two_heads, terminal, tmp_path):
    from emonet.evaluate.crosscorpus import cross_corpus_matrix

    checkpoint, emoset = two_heads
    quiet = cross_corpus_matrix(checkpoint, emoset, out=tmp_path / "q", show_progress=False)
    assert terminal.getvalue() == ""  # a quiet run prints no bar
    loud = cross_corpus_matrix(checkpoint, emoset, out=tmp_path / "l", show_progress=True)
    shown = terminal.getvalue()
    assert "cross-corpus: toy-ur head on toy-de" in shown  # the scoring bar, cell by cell
    assert "decode toy-de/test" in shown  # the decoding bars get show_progress too
    pd.testing.assert_frame_equal(quiet, loud)
    assert list(quiet.index) == ["toy-de", "toy-ur"] and quiet.notna().all().all()
    assert (tmp_path / "q" / "report.md").is_file()


def test_no_bar_off_a_terminal(two_heads, capsys, tmp_path):
    from emonet.evaluate.crosscorpus import cross_corpus_matrix

    checkpoint, emoset = two_heads
    cross_corpus_matrix(checkpoint, emoset, out=tmp_path, show_progress=True)
    captured = capsys.readouterr()
    assert "cross-corpus" not in captured.out + captured.err
