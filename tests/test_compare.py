"""`emonet compare`: paired statistics per corpus from two runs' prediction files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.stats.multitest import multipletests

from emonet.evaluate.compare import compare_runs
from emonet.results.predictions import PredictionsError, predictions_table, write_predictions

LABELS = ["anger", "neutral", "sadness"]


def fake_run(root, corpus, y, pred, partition="test", files=None):
    """A run folder holding one predictions CSV whose argmax is ``pred``."""
    probs = np.full((len(y), len(LABELS)), 0.1)
    probs[np.arange(len(y)), pred] = 0.8
    files = files or [f"audio/{corpus}_{i:03d}.flac" for i in range(len(y))]
    table = predictions_table(files, LABELS, y, probs)
    write_predictions(root / "eval" / corpus / partition / "predictions.csv", table)
    return root


def recall(y, pred):
    """Textbook UAR: the mean over classes of the share of that class predicted right."""
    return np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)])


def scenario(tmp_path):
    """Two corpora: B clearly better on `big`, about equal on `small`."""
    rng = np.random.default_rng(0)
    y_big = rng.integers(0, 3, 300)
    a_big = np.where(rng.random(300) < 0.55, y_big, (y_big + 1) % 3)
    b_big = np.where(rng.random(300) < 0.80, y_big, (y_big + 2) % 3)
    y_small = rng.integers(0, 3, 40)
    a_small = np.where(rng.random(40) < 0.6, y_small, (y_small + 1) % 3)
    a_small[:3] = (y_small[:3] + 1) % 3
    b_small = a_small.copy()
    b_small[:3] = y_small[:3]
    for run, big, small in (("A", a_big, a_small), ("B", b_big, b_small)):
        fake_run(tmp_path / run, "big", y_big, big)
        fake_run(tmp_path / run, "small", y_small, small)
    return (y_big, a_big, b_big), (y_small, a_small, b_small)


def test_compare_statistics_match_independent_computation(tmp_path):
    big, small = scenario(tmp_path)
    res = compare_runs(tmp_path / "A", tmp_path / "B", out=tmp_path / "cmp", n_boot=500)
    rows = {r["corpus"]: r for r in res["corpora"]}
    p_raw = []
    for name, (y, a, b) in (("big", big), ("small", small)):
        r = rows[name]
        n01 = int(np.sum((a == y) & (b != y)))
        n10 = int(np.sum((a != y) & (b == y)))
        assert (r["a_only"], r["b_only"]) == (n01, n10)
        p = binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
        assert r["p_exact"] == pytest.approx(p, rel=1e-12)
        assert r["delta"] == pytest.approx(recall(y, b) - recall(y, a), abs=1e-12)
        assert r["delta_low"] <= r["delta"] <= r["delta_high"]
        p_raw.append(p)
    holm = multipletests(p_raw, method="holm")[1]
    assert [rows["big"]["p_holm"], rows["small"]["p_holm"]] == pytest.approx(list(holm))
    assert rows["big"]["p_holm"] < 0.05 and rows["small"]["p_holm"] > 0.05
    assert res["summary"].startswith("B beats A on 2 of 2 corpora, significantly on 1; A ")
    assert "significantly better on 0" in res["summary"]
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert saved["summary"] == res["summary"]
    report = (tmp_path / "cmp" / "report.md").read_text()
    assert "| big |" in report and "Holm" in report and "```bash" in report
    assert "n = 300 test items in 3 classes; chance UAR 1/3 = 0.333" in report
    assert "Bootstrap interval and McNemar" in report
    assert [p.name for p in (tmp_path / "cmp").glob("*.md")] == ["report.md"]


def test_compare_refuses_different_items(tmp_path):
    y = np.array([0, 1, 2, 0])
    fake_run(tmp_path / "A", "c", y, y)
    fake_run(tmp_path / "B", "c", y, y, files=["x1", "x2", "x3", "x4"])
    with pytest.raises(PredictionsError, match="different items: 4 only in"):
        compare_runs(tmp_path / "A", tmp_path / "B")


def test_compare_refuses_different_labels(tmp_path):
    y = np.array([0, 1, 2, 0])
    fake_run(tmp_path / "A", "c", y, y)
    fake_run(tmp_path / "B", "c", np.array([1, 1, 2, 0]), y)
    with pytest.raises(PredictionsError, match=r"c_000\.flac: label 'anger'"):
        compare_runs(tmp_path / "A", tmp_path / "B")


def test_compare_without_predictions_says_what_to_do(tmp_path):
    (tmp_path / "A").mkdir()
    with pytest.raises(PredictionsError, match="emonet evaluate"):
        compare_runs(tmp_path / "A", tmp_path / "A")


def test_compare_cli(tmp_path):
    scenario(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "compare", str(tmp_path / "A"), str(tmp_path / "B")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "B beats A on 2 of 2 corpora" in proc.stdout
    assert (tmp_path / "B" / "compare-A" / "report.md").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "emonet", "compare", str(tmp_path / "A"), str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no predictions found" in bad.stderr
