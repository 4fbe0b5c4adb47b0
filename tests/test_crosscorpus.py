"""Cross-corpus scoring over shared emotions: label maps and pooled head probabilities."""

from __future__ import annotations

import numpy as np
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
