"""Reports that explain themselves: n, chance level, devel vs test, interval vs McNemar, legends
and stage boundaries on the training curves (issue 14 item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_compare import fake_run

from emonet.evaluate.compare import CorpusComparison, agreement, compare_runs
from emonet.evaluate.crosscorpus import meaning as cross_meaning
from emonet.evaluate.runner import meaning as eval_meaning
from emonet.results.explain import (
    Scored,
    chance_uar,
    describe,
    devel_test_note,
    one_item_step,
    partition_note,
)
from emonet.results.metrics import classification_metrics
from emonet.results.plots import curves_figure, curves_png, stage_boundaries

LABELS = ["anger", "neutral", "sadness"]


def metrics_for(recalls: list[int], per_class: int = 5) -> dict:
    """metrics.json of ``per_class`` items per class with ``recalls[k]`` of class k right."""
    y, pred = [], []
    for k, right in enumerate(recalls):
        y += [k] * per_class
        pred += [k] * right + [(k + 1) % len(recalls)] * (per_class - right)
    return classification_metrics(y, pred, LABELS[: len(recalls)])


# --- numbers -------------------------------------------------------------------------------


def test_chance_step_and_margin_follow_the_counts():
    assert chance_uar(4) == 0.25 and np.isnan(chance_uar(0))
    # one item of the smallest class (3 items) among 2 classes moves UAR by 1 / (2 · 3)
    assert one_item_step([3, 10, 0]) == pytest.approx(1 / 6)
    scored = Scored.from_metrics(metrics_for([2, 2, 2]))
    assert (scored.n, scored.classes, scored.counts) == (15, 3, (5, 5, 5))
    assert scored.uar == pytest.approx(0.4) and scored.chance == pytest.approx(1 / 3)
    assert scored.step == pytest.approx(1 / 15)
    big = Scored(0.4, (500, 500, 500), (0.4, 0.4, 0.4))
    assert 0 < big.margin < scored.margin < 0.5


def test_describe_says_n_chance_and_one_items_weight():
    text = describe("toy-de, test", Scored.from_metrics(metrics_for([2, 2, 2])))
    for part in ("n = 15 items", "3 classes", "5 per class", "chance UAR 1/3 = 0.333",
                 "one item moves UAR by up to 0.067", "UAR 0.400"):  # fmt: skip
        assert part in text, text


def test_large_devel_test_gap_with_small_n_is_pointed_out():
    devel = Scored.from_metrics(metrics_for([5, 5, 4]))  # 0.933
    test = Scored.from_metrics(metrics_for([2, 2, 2]))  # 0.400
    note = devel_test_note("toy-de", devel, test)
    assert note is not None
    assert "devel UAR 0.933 vs test 0.400" in note and "n = 15 devel, 15 test" in note
    assert "chosen on devel" in note and "optimistic" in note
    assert "one item moves UAR by up to 0.067" in note and "likely more than noise" in note
    # the same gap can be noise on tiny partitions; small gaps are not pointed out
    tiny_d = Scored(0.75, (2, 2), (1.0, 0.5))
    tiny_t = Scored(0.5, (2, 2), (0.5, 0.5))
    assert "within noise" in devel_test_note("x", tiny_d, tiny_t)
    assert devel_test_note("x", test, Scored.from_metrics(metrics_for([2, 2, 3]))) is None
    flipped = devel_test_note("x", test, devel)
    assert "Test above devel" in flipped


def test_partition_note_says_which_partition_chose_the_checkpoint():
    both = partition_note(["devel", "test"])
    assert "chosen on devel" in both and "optimistic" in both and "test UAR is the estimate" in both
    assert "NOT chosen on devel" in partition_note(["test"], selected_on_devel=False)


def test_evaluation_meaning_names_partitions_n_chance_and_gaps():
    results = {"toy-de": {"devel": metrics_for([5, 5, 4]), "test": metrics_for([2, 2, 2])}}
    text = eval_meaning(results)
    assert "chosen on devel" in text
    assert "toy-de, devel: UAR 0.933 on n = 15 items" in text
    assert "toy-de, test: UAR 0.400 on n = 15 items" in text and "chance UAR 1/3" in text
    assert "devel UAR 0.933 vs test 0.400" in text
    calm = eval_meaning({"c": {"devel": metrics_for([2, 2, 2]), "test": metrics_for([2, 2, 2])}})
    assert "vs test" not in calm


# --- compare -------------------------------------------------------------------------------


def discordant_scenario(root: Path, a_only: int, b_only: int, n_per_class: int = 30):
    """One corpus where A alone is right on ``a_only`` items and B alone on ``b_only``."""
    y = np.repeat([0, 1, 2], n_per_class)
    a = y.copy()
    a[::4] = (y[::4] + 1) % 3  # both models wrong on these
    b = a.copy()
    right = np.flatnonzero(a == y)
    b[right[:a_only]] = (y[right[:a_only]] + 1) % 3
    wrong = np.flatnonzero(a != y)
    a[wrong[:b_only]], b[wrong[:b_only]] = (y[wrong[:b_only]] + 2) % 3, y[wrong[:b_only]]
    fake_run(root / "A", "c", y, a)
    fake_run(root / "B", "c", y, b)


def test_compare_writes_one_report_that_explains_a_disagreement(tmp_path):
    discordant_scenario(tmp_path, a_only=9, b_only=2)
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "compare.md").write_text("stale table of an earlier version\n")
    res = compare_runs(tmp_path / "A", tmp_path / "B", out=out, n_boot=2000)
    row = res["corpora"][0]
    # the situation of the issue: interval excludes 0, McNemar not significant
    assert row["delta_high"] < 0 and row["p_exact"] > 0.05, row
    assert row["class_counts"] == [30, 30, 30]
    assert sorted(p.name for p in out.iterdir()) == ["compare.json", "report.md"]
    report = (out / "report.md").read_text()
    assert "| c | 90 |" in report  # the per-corpus table that compare.md held
    assert res["summary"] in report
    assert "n = 90 test items in 3 classes" in report and "chance UAR 1/3 = 0.333" in report
    assert "one item moves a UAR (and so ΔUAR) by up to 0.011" in report
    assert "chosen on devel" in report
    assert "c: ΔUAR" in report and "excludes 0" in report and "They disagree" in report
    assert "11 items exactly one model got right (A only 9, B only 2" in report
    assert "class-balanced" in report and "only the items on which exactly one model" in report


def test_agreement_reads_each_case():
    base = dict(corpus="c", n=100, uar_a=0.5, uar_b=0.6, chi2=0.0, p_chi2=1.0,
                class_counts=[50, 50])  # fmt: skip
    agree = CorpusComparison(**base, delta=0.1, delta_low=0.02, delta_high=0.2, a_only=2,
                             b_only=12, p_exact=0.01, p_holm=0.01)  # fmt: skip
    assert "They agree" in agreement([agree], 0.05, ("A", "B"))
    lopsided = CorpusComparison(**base, delta=0.02, delta_low=-0.01, delta_high=0.06, a_only=2,
                                b_only=12, p_exact=0.01, p_holm=0.02)  # fmt: skip
    text = agreement([lopsided], 0.05, ("A", "B"))
    assert "includes 0" in text and "lopsided" in text and "They agree" not in text
    holm = CorpusComparison(**base, delta=0.1, delta_low=0.02, delta_high=0.2, a_only=2,
                            b_only=12, p_exact=0.03, p_holm=0.06)  # fmt: skip
    assert "not after the Holm adjustment" in agreement([holm], 0.05, ("A", "B"))


# --- cross-corpus --------------------------------------------------------------------------


def test_cross_corpus_meaning_gives_n_and_chance_per_cell():
    cells = [
        {"head": "a", "corpus": "a", "uar": 0.8, "n": 40, "class_counts": [10] * 4,
         "chance": 0.25, "emotions": []},
        {"head": "a", "corpus": "b", "uar": 0.4, "n": 12, "class_counts": [6, 6],
         "chance": 0.5, "emotions": []},
        {"head": "b", "corpus": "a", "uar": float("nan"), "n": 0, "class_counts": [],
         "chance": float("nan"), "emotions": []},
        {"head": "b", "corpus": "b", "uar": 0.9, "n": 12, "class_counts": [6, 6],
         "chance": 0.5, "emotions": []},
    ]  # fmt: skip
    text = cross_meaning(cells, ["a", "b"], "test")
    assert "chosen on" in text and "1 / (number of shared emotions)" in text
    assert "| a | 40 / 0.25 | 12 / 0.50 |" in text and "| b | – | 12 / 0.50 |" in text
    assert "12–40 items" in text and "one item moves UAR by up to 0.083" in text
    assert "1 of 3 cells are at or below their chance level: a on b" in text


# --- training curves -----------------------------------------------------------------------


def history(stages: list[int], corpora=("toy-de", "toy-en")) -> pd.DataFrame:
    """metrics.csv rows as the training loop writes them (through MetricsLog)."""
    rows = []
    for epoch, stage in enumerate(stages, start=1):
        for k, c in enumerate(corpora):
            rows.append({"epoch": epoch, "stage": stage, "corpus": c, "train_loss": 1 / epoch + k,
                         "devel_loss": 1.2 / epoch + k, "devel_uar": 0.3 + 0.05 * epoch})  # fmt: skip
    return pd.DataFrame(rows)


def test_metrics_log_has_the_stage_column_the_curves_use(tmp_path):
    from emonet.train.state import MetricsLog

    log = MetricsLog(tmp_path, enabled=False)
    assert "stage" in log.COLUMNS and "epoch" in log.COLUMNS
    log.enabled = True  # the CSV only, no TensorBoard writer
    for row in history([1, 1, 2, 3, 3]).to_dict("records"):
        log.log(row)
    assert stage_boundaries(pd.read_csv(tmp_path / "metrics.csv")) == [2.5, 3.5]


def test_curves_have_legends_on_every_panel_and_stage_lines():
    fig = curves_figure(history([1, 1, 1, 2, 2, 3]), "training", {"toy-de": 1 / 3, "toy-en": 0.25})
    loss, uar = fig.axes[:2]
    for ax in (loss, uar):
        legend = ax.get_legend()
        assert legend is not None, ax.get_ylabel()
        texts = [t.get_text() for t in legend.get_texts()]
        assert {"toy-de", "toy-en", "stage boundary"} <= set(texts), texts
        stage_lines = [ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == ":"]
        assert stage_lines == [3.5, 5.5]
    loss_texts = [t.get_text() for t in loss.get_legend().get_texts()]
    assert "training (solid)" in loss_texts and "devel (dashed)" in loss_texts
    uar_texts = [t.get_text() for t in uar.get_legend().get_texts()]
    assert "chance 0.250 (toy-en)" in uar_texts and "chance 0.333 (toy-de)" in uar_texts


def test_single_stage_runs_get_no_stage_lines_but_keep_legends(tmp_path):
    frame = history([1, 1, 1], corpora=("toy-de",)).drop(columns=["devel_uar"])
    assert stage_boundaries(frame) == [] and stage_boundaries(frame.drop(columns="stage")) == []
    fig = curves_figure(frame)
    for ax in fig.axes[:2]:
        assert ax.get_legend() is not None
        assert not [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    path = curves_png(history([1, 2]), tmp_path / "curves.png", "training")
    assert path.is_file() and path.stat().st_size > 1000


# --- experiment and demo -------------------------------------------------------------------


def write_metrics(run: Path, corpus: str, part: str, metrics: dict) -> None:
    path = run / "eval" / corpus / part / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))


def test_experiment_meaning_names_n_chance_and_gaps(tmp_path):
    from emonet.recipes.experiment import ExperimentConfig, meaning

    cfg = ExperimentConfig(corpora=["toy-de", "toy-ur"], settings=["scratch"], baselines=[])
    folder = {"scratch": {c: tmp_path / c for c in cfg.corpora}}
    for c in cfg.corpora:
        write_metrics(tmp_path / c, c, "devel", metrics_for([5, 5, 4]))
        write_metrics(
            tmp_path / c, c, "test", metrics_for([2, 2, 2] if c == "toy-de" else [4, 5, 4])
        )
    text = meaning(cfg, folder)
    assert "chosen on devel" in text and "toy-de (scratch, test): UAR 0.400 on n = 15" in text
    assert "chance UAR 1/3 = 0.333" in text and "Holm" in text
    assert "toy-de (scratch): devel UAR 0.933 vs test 0.400" in text
    assert "toy-ur (scratch): devel" not in text


def test_demo_scores_section_explains_the_toy_numbers(tmp_path):
    from emonet.demo import scores_section

    write_metrics(tmp_path / "s", "toy-de", "devel", metrics_for([5, 5, 4]))
    write_metrics(tmp_path / "s", "toy-de", "test", metrics_for([2, 2, 2]))
    for c in ("toy-de", "toy-en"):
        write_metrics(tmp_path / "m", c, "test", metrics_for([3, 3, 3]))
    text = scores_section({"scratch-toy-de": tmp_path / "s", "multi": tmp_path / "m"},
                          ["toy-de", "toy-en"])  # fmt: skip
    assert "| toy-de | 15 | 0.333 | 0.933 | 0.400 | – | 0.600 |" in text
    assert "| toy-en | 15 | 0.333 | – | – | – | 0.600 |" in text
    assert "n = 15 items" in text and "one item moves UAR by up to 0.067" in text
    assert "toy-de (scratch-toy-de): devel UAR 0.933 vs test 0.400" in text
    assert "chosen on devel" in text
