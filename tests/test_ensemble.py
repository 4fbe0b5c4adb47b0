"""`emonet ensemble`: soft voting over runs' prediction files, scored like a run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emonet.evaluate.compare import compare_runs
from emonet.evaluate.ensemble import ensemble_runs
from emonet.results.predictions import PredictionsError, predictions_table, write_predictions

LABELS = ["anger", "neutral", "sadness"]


def recall(y, pred):
    """Textbook UAR: the mean over classes of the share of that class predicted right."""
    return np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)])


def member(root, corpus, y, probs, partition="test", shuffle=None):
    """A run folder with one predictions CSV (rows optionally in another order)."""
    files = [f"audio/{corpus}_{i:03d}.flac" for i in range(len(y))]
    table = predictions_table(files, LABELS, y, probs)
    if shuffle is not None:
        table = table.sample(frac=1.0, random_state=shuffle).reset_index(drop=True)
    write_predictions(root / "eval" / corpus / partition / "predictions.csv", table)
    return root


def noisy_members(tmp_path, n=3, items=90, corpora=("big", "small")):
    """n runs whose probabilities are the truth plus independent noise: each is often wrong."""
    rng = np.random.default_rng(1)
    truth, probs = {}, {}
    for c in corpora:
        truth[c] = rng.integers(0, 3, items)
        for k in range(n):
            logits = 1.2 * np.eye(3)[truth[c]] + rng.normal(0, 1, (items, 3))
            p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
            probs[c, k] = np.round(p, 6)
            member(tmp_path / f"run{k}", c, truth[c], p, shuffle=k or None)
    return truth, probs


def test_ensemble_is_the_mean_of_probabilities_item_by_item(tmp_path):
    truth, probs = noisy_members(tmp_path)
    runs = [tmp_path / f"run{k}" for k in range(3)]
    result = ensemble_runs(runs, tmp_path / "ens", partitions=("test",))
    assert [s["corpus"] for s in result["scores"]] == ["big", "small"] and not result["skipped"]
    for s in result["scores"]:
        c, y = s["corpus"], truth[s["corpus"]]
        mean = np.mean([probs[c, k] for k in range(3)], axis=0)
        assert s["uar"] == pytest.approx(recall(y, mean.argmax(1)))
        assert s["member_uar"] == pytest.approx(
            [recall(y, probs[c, k].argmax(1)) for k in range(3)]
        )
        assert s["gain"] == pytest.approx(s["uar"] - np.mean(s["member_uar"]))
        table = pd.read_csv(tmp_path / "ens" / c / "test" / "predictions.csv")
        assert table[[f"p_{lab}" for lab in LABELS]].to_numpy() == pytest.approx(mean, abs=1e-6)
        metrics = json.loads((tmp_path / "ens" / c / "test" / "metrics.json").read_text())
        assert metrics["uar"] == s["uar"] and len(metrics["ensemble"]) == 3
        assert (tmp_path / "ens" / c / "test" / "confusion.png").stat().st_size > 0
    assert result["scores"][0]["gain"] > 0  # independent errors: averaging helps
    report = (tmp_path / "ens" / "report.md").read_text()
    assert "soft voting" in report and "members' mean" in report
    # the folder is an evaluation folder: compare tests it against a member
    compared = compare_runs(runs[0], tmp_path / "ens")
    assert compared["corpora"][0]["uar_b"] == pytest.approx(result["scores"][0]["uar"])


def test_weights_move_the_vote(tmp_path):
    truth, probs = noisy_members(tmp_path, n=2, corpora=("c",))
    runs = [tmp_path / "run0", tmp_path / "run1"]
    only_first = ensemble_runs(runs, tmp_path / "w", partitions=("test",), weights=[1.0, 0.0])
    assert only_first["weights"] == [1.0, 0.0]
    assert only_first["scores"][0]["uar"] == pytest.approx(
        recall(truth["c"], probs["c", 0].argmax(1))
    )
    mixed = ensemble_runs(runs, tmp_path / "m", partitions=("test",), weights=[3, 1])
    mean = 0.75 * probs["c", 0] + 0.25 * probs["c", 1]
    assert mixed["scores"][0]["uar"] == pytest.approx(recall(truth["c"], mean.argmax(1)))


@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0], "1 weights for 2 members"), ([1.0, -1.0], "≥ 0"), ([0.0, 0.0], "not all 0")],
)
def test_bad_weights_are_refused(tmp_path, weights, message):
    noisy_members(tmp_path, n=2, corpora=("c",))
    with pytest.raises(PredictionsError, match=message):
        ensemble_runs([tmp_path / "run0", tmp_path / "run1"], tmp_path / "e", weights=weights)


def test_members_that_do_not_match_are_refused_with_the_file(tmp_path):
    y = np.array([0, 1, 2, 0])
    p = np.eye(3)[y]
    member(tmp_path / "A", "c", y, p)
    member(tmp_path / "B", "c", np.array([1, 1, 2, 0]), p)
    with pytest.raises(PredictionsError, match=r"c_000\.flac: label 'anger'"):
        ensemble_runs([tmp_path / "A", tmp_path / "B"], tmp_path / "e")
    member(tmp_path / "C", "c", y, p)
    csv = tmp_path / "C" / "eval" / "c" / "test" / "predictions.csv"
    table = pd.read_csv(csv)
    table.loc[2, "p_neutral"] = float("nan")
    table.to_csv(csv, index=False)
    with pytest.raises(PredictionsError, match=r"predictions\.csv: p_neutral of 'audio/c_002"):
        ensemble_runs([tmp_path / "A", tmp_path / "C"], tmp_path / "e")
    table.drop(columns=["p_neutral"]).to_csv(csv, index=False)
    with pytest.raises(PredictionsError, match="members must share one label set"):
        ensemble_runs([tmp_path / "A", tmp_path / "C"], tmp_path / "e")
    with pytest.raises(PredictionsError, match="two runs or more"):
        ensemble_runs([tmp_path / "A"], tmp_path / "e")
    with pytest.raises(PredictionsError, match="would be overwritten"):
        ensemble_runs([tmp_path / "A", tmp_path / "C"], tmp_path / "A" / "eval")


def test_a_corpus_only_some_members_scored_is_skipped_and_listed(tmp_path):
    noisy_members(tmp_path, n=2, corpora=("c",))
    y = np.array([0, 1, 2])
    member(tmp_path / "run0", "extra", y, np.eye(3)[y])
    runs = [tmp_path / "run0", tmp_path / "run1"]
    result = ensemble_runs(runs, tmp_path / "e", partitions=("test",))
    assert [s["corpus"] for s in result["scores"]] == ["c"]
    assert result["skipped"] == [
        {
            "corpus": "extra",
            "partition": "test",
            "reason": f"no predictions in {[str(tmp_path / 'run1' / 'eval')]}",
        }
    ]
    assert "## Skipped" in (tmp_path / "e" / "report.md").read_text()
    with pytest.raises(PredictionsError, match=r"corpora \['extra'\] lack test predictions"):
        ensemble_runs(runs, tmp_path / "e", partitions=("test",), corpora=["extra"])


def emonet(*args):
    return subprocess.run([sys.executable, "-m", "emonet", *args], capture_output=True, text=True)


def test_ensemble_cli(tmp_path):
    noisy_members(tmp_path, n=2, corpora=("c",))
    runs = [str(tmp_path / "run0"), str(tmp_path / "run1")]
    ok = emonet("ensemble", *runs, "--out", str(tmp_path / "e"), "-p", "test", "-w", "2", "-w", "1")
    assert ok.returncode == 0, ok.stderr
    assert "| c | test | 90 |" in ok.stdout and "report:" in ok.stdout
    assert json.loads((tmp_path / "e" / "ensemble.json").read_text())["weights"] == pytest.approx(
        [2 / 3, 1 / 3]
    )
    bad = emonet("ensemble", runs[0], str(tmp_path / "none"), "--out", str(tmp_path / "f"))
    assert bad.returncode == 2 and "no predictions found" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
