"""openSMILE + classifier baselines on the real EmoDB: accuracy, cache, failures, config, compare."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, real_corpus

import emonet.baselines.features as features_mod
from emonet.baselines import BaselineConfig, baseline_config, corpus_features, run_baseline
from emonet.baselines.classifiers import CLASSIFIERS, probabilities
from emonet.baselines.run import baseline_partitions, load_baseline_config
from emonet.config import ConfigError
from emonet.corpora.emoset import TABLES, open_corpus, sha256_file, subset
from emonet.results.metrics import uar

pytest.importorskip("opensmile")


@pytest.fixture(scope="module")
def emoset(tmp_path_factory) -> Path:
    """The full real EmoDB (535 files) as an EmoSet."""
    from emonet.corpora.prepare import prepare

    out = tmp_path_factory.mktemp("emoset")
    prepare("emodb", real_corpus("emodb"), out, workers=2, show_progress=False)
    return out


@pytest.fixture(scope="module")
def runs(emoset, tmp_path_factory) -> tuple[BaselineConfig, dict]:
    """eGeMAPS + SVM and eGeMAPS + logistic regression on full EmoDB (2 extraction workers)."""
    cfg = BaselineConfig(
        emoset=str(emoset),
        corpora=["emodb"],
        out=str(tmp_path_factory.mktemp("baseline")),
        feature_sets=["eGeMAPSv02"],
        classifiers=["svm", "logreg"],
        workers=2,
    )
    return cfg, run_baseline(cfg, show_progress=False)


def test_baselines_beat_chance_on_emodb_and_choose_c_on_devel(runs, emoset):
    cfg, result = runs
    corpus = open_corpus(emoset / "emodb")
    for row in result["results"]:
        # chance is 1/7; measured 0.67 (svm) and 0.73 (logreg) devel, 0.56 / 0.61 test
        assert row["devel_uar"] >= 0.4, row
        assert row["test_uar"] >= 0.35, row
        grid = [g["devel_uar"] for g in row["grid"]]
        assert len(grid) == len(CLASSIFIERS[row["classifier"]].grid)
        assert row["devel_uar"] == max(grid)
        assert row["chosen"] == row["grid"][int(np.argmax(grid))]["C"]
        folder = Path(row["run"]) / "eval" / "emodb"
        for part in ("devel", "test"):
            pred = pd.read_csv(folder / part / "predictions.csv")
            expected = corpus.partition(part)
            assert list(pred["file"]) == list(expected["file"])
            assert list(pred["label"]) == list(expected["label"])
            assert list(pred.columns) == [
                "file", "label", "prediction", *(f"p_{lab}" for lab in corpus.labels)
            ]  # fmt: skip
            probs = pred[[f"p_{lab}" for lab in corpus.labels]].to_numpy()
            assert np.allclose(probs.sum(1), 1, atol=1e-5)
            metrics = json.loads((folder / part / "metrics.json").read_text())
            index = {lab: i for i, lab in enumerate(corpus.labels)}
            assert metrics["uar"] == pytest.approx(
                uar(pred["label"].map(index), pred["prediction"].map(index))
            )
            assert metrics["complexity"]["chosen"] == row["chosen"]
            assert (folder / part / "confusion.png").stat().st_size > 1000
        assert metrics["uar"] == row["test_uar"]
        assert pd.read_csv(folder / "failed.csv").empty
    report = (Path(cfg.out) / "report.md").read_text()
    assert "| emodb | eGeMAPSv02 | svm |" in report and "C=0.001" in report


def test_one_report_per_folder_with_the_table_on_top(runs, emoset):
    cfg, _ = runs
    corpus = open_corpus(emoset / "emodb")
    n = {p: len(corpus.partition(p)) for p in ("devel", "test")}
    grid = len(CLASSIFIERS["svm"].grid)
    assert grid == len(CLASSIFIERS["logreg"].grid)
    out = Path(cfg.out)
    assert sorted(p.name for p in out.glob("*.md")) == ["report.md"]
    report = (out / "report.md").read_text()
    sections = re.findall(r"^## (.+)$", report, flags=re.M)
    assert sections[:2] == ["Results", "What the numbers mean"]
    assert f"emodb: devel n = {n['devel']}, test n = {n['test']} items in 7 classes" in report
    assert "chance UAR 1/7 = 0.143" in report and f"C was chosen among {grid} values" in report
    for run in ("eGeMAPSv02-svm", "eGeMAPSv02-logreg"):
        assert sorted(p.name for p in (out / run).rglob("*.md")) == ["report.md"]


def test_run_report_explains_partition_n_chance_and_the_devel_choice(runs, emoset):
    _, result = runs
    corpus = open_corpus(emoset / "emodb")
    n = {p: len(corpus.partition(p)) for p in ("devel", "test")}
    for row in result["results"]:
        report = (Path(row["run"]) / "eval" / "report.md").read_text()
        meaning = report.split("## What the numbers mean")[1].split("\n## ")[0]
        grid = len(CLASSIFIERS[row["classifier"]].grid)
        assert f"C was chosen among {grid} values by the devel UAR" in meaning
        assert "Devel scores are therefore optimistic" in meaning
        assert "test UAR is the estimate for new speakers" in meaning
        assert "emodb: devel is EmoSet's own devel partition." in meaning
        for part in ("devel", "test"):
            metrics = json.loads(
                (Path(row["run"]) / "eval/emodb" / part / "metrics.json").read_text()
            )
            assert f"emodb, {part}: UAR {metrics['uar']:.3f} on n = {n[part]} items" in meaning
        assert meaning.count("chance UAR 1/7 = 0.143") == 2
        assert "| chance UAR |" in report and "| 0.143 |" in report


def test_cached_features_equal_direct_opensmile(runs, emoset, tmp_path):
    import opensmile

    cfg, _ = runs
    corpus = open_corpus(emoset / "emodb")
    files = list(corpus.partition("test")["file"][:3])
    cached = corpus_features(corpus.root, files, "eGeMAPSv02", cfg.cache_dir("emodb", "eGeMAPSv02"))
    assert cached.extracted == 0  # filled by the 2-worker run of the fixture
    direct = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    for f, row in zip(files, cached.values, strict=True):
        expected = direct.process_file(str(corpus.path(f))).to_numpy()[0]
        np.testing.assert_allclose(row, expected, rtol=1e-6, atol=1e-7)
    assert cached.names == list(direct.feature_names)
    # ComParE through two spawned worker processes
    compare = corpus_features(corpus.root, files[:2], "ComParE_2016", tmp_path, workers=2)
    assert compare.values.shape == (2, 6373) and compare.extracted == 2
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.ComParE_2016,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    for f, row in zip(files[:2], compare.values, strict=True):
        expected = smile.process_file(str(corpus.path(f))).to_numpy()[0]
        np.testing.assert_allclose(row, expected, rtol=1e-6, atol=1e-7)


def test_second_run_reuses_the_cache(runs, emoset, monkeypatch, tmp_path):
    cfg, first = runs

    def boom(*args, **kwargs):
        raise AssertionError("features were extracted again")

    monkeypatch.setattr(features_mod, "run_extraction", boom)
    again = run_baseline(cfg, show_progress=False)
    assert [r["test_uar"] for r in again["results"]] == [r["test_uar"] for r in first["results"]]
    cache = cfg.cache_dir("emodb", "eGeMAPSv02")
    index = json.loads((cache / "index.json").read_text())
    assert len(index["rows"]) == 535 and index["opensmile"] == features_mod.opensmile_version()
    # a file whose mtime changes is extracted again, and only that one (on a copy of the cache)
    cache = shutil.copytree(cache, tmp_path / "cache")
    corpus = open_corpus(emoset / "emodb")
    files = list(corpus.table()["file"])
    calls: list[list[str]] = []
    monkeypatch.setattr(
        features_mod,
        "run_extraction",
        lambda paths, fs, workers, show: (
            calls.append(list(paths)) or [(np.zeros(88, np.float32), None) for _ in paths]
        ),
    )
    path = corpus.path(files[5])
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        feats = corpus_features(corpus.root, files, "eGeMAPSv02", cache)
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert calls == [[str(path)]]
    assert feats.extracted == 1 and feats.reused == 534


def test_broken_file_is_reported_and_the_rest_continues(emoset, tmp_path, capsys):
    shutil.copytree(emoset / "emodb", tmp_path / "emoset" / "emodb")
    corpus = open_corpus(tmp_path / "emoset" / "emodb")
    broken = subset(corpus.partition("test"), 20)["file"].iloc[3]  # inside the limit below
    corpus.path(broken).write_bytes(b"this is not a FLAC file" * 100)
    cfg = baseline_config(
        {
            "emoset": str(tmp_path / "emoset"),
            "out": str(tmp_path / "out"),
            "feature_sets": ["eGeMAPSv02"],
            "classifiers": ["svm"],
            "limit": 20,
            "workers": 1,
        }
    )
    result = run_baseline(cfg, show_progress=False)
    folder = tmp_path / "out" / "eGeMAPSv02-svm" / "eval" / "emodb"
    failed = pd.read_csv(folder / "failed.csv")
    assert list(failed["file"]) == [broken] and list(failed["partition"]) == ["test"]
    assert "decode" in failed["error"].iloc[0]
    test = pd.read_csv(folder / "test" / "predictions.csv")
    assert len(test) == 19 and broken not in set(test["file"])
    assert len(pd.read_csv(folder / "devel" / "predictions.csv")) == 20
    assert result["results"][0]["failed_files"] == 1
    report = (folder.parent / "report.md").read_text()
    assert "emodb: 1 file failed feature extraction and is not scored" in report
    assert "emodb, test: UAR" in report and "on n = 19 items" in report
    err = capsys.readouterr().err
    assert "1 of 60 files failed" in " ".join(err.split()) and broken in err
    cached = pd.read_csv(cfg.cache_dir("emodb", "eGeMAPSv02") / "failed.csv")
    assert list(cached["file"]) == [broken]


def test_corpus_without_devel_gets_a_speaker_independent_devel(emoset, tmp_path):
    src = emoset / "emodb"
    dst = tmp_path / "emodb"
    dst.mkdir()
    shutil.copy(src / "corpus.json", dst / "corpus.json")
    train = pd.concat([pd.read_csv(src / "train.csv"), pd.read_csv(src / "devel.csv")])
    train.to_csv(dst / "train.csv", index=False)
    train.iloc[:0].to_csv(dst / "devel.csv", index=False)
    shutil.copy(src / "test.csv", dst / "test.csv")
    shutil.copy(src / "skipped.csv", dst / "skipped.csv")
    info = json.loads((dst / "corpus.json").read_text())  # tables edited on purpose: record them
    info["checksums"] = {t: sha256_file(dst / t) for t in TABLES}
    (dst / "corpus.json").write_text(json.dumps(info))
    parts = baseline_partitions(open_corpus(dst), devel_fraction=0.2)
    tr, dv = parts.tables["train"], parts.tables["devel"]
    assert len(tr) + len(dv) == len(train) and 0.1 < len(dv) / len(train) < 0.3
    assert not set(tr["speaker"]) & set(dv["speaker"])
    assert "speaker-independent" in parts.devel_protocol


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"classifiers": ["svm", "forest"]}, "classifiers[1]"),
        ({"feature_sets": ["eGeMAPSv02", "MFCC"]}, "feature_sets[1]"),
        ({"grid": {"svm": [0.1, "x"]}}, "grid.svm[1]"),
        ({"grid": {"knn": [1.0]}}, "grid.knn"),
        ({"class_weight": "auto"}, "class_weight"),
        ({"workers": "two"}, "workers"),
        ({"devel_fraction": 1.5}, "devel_fraction"),
        ({"limit": 0}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_config_errors_name_the_key(data, key):
    with pytest.raises(ConfigError, match=rf"(^|\s){re.escape(key)}"):
        baseline_config(data)


def test_config_file_and_overrides(tmp_path):
    cfg = load_baseline_config(
        REPO / "configs" / "baseline.yaml", ["corpora=[emodb]", "grid.svm=[1e-3, 0.01]"]
    )
    assert cfg.corpora == ["emodb"] and cfg.grid_of("svm") == [1e-3, 0.01]
    assert cfg.class_weight == "balanced" and cfg.feature_sets == ["eGeMAPSv02", "ComParE_2016"]
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "baseline", str(REPO / "configs" / "baseline.yaml"),
         "--set", "classifiers=[svm, tree]"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "classifiers[1]" in proc.stderr


def test_cli_and_compare_on_two_baseline_runs(runs, tmp_path):
    cfg, _ = runs
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "baseline", str(REPO / "configs" / "baseline.yaml"),
         "--set", f"emoset={cfg.emoset}", "--set", f"out={out}", "--set", "corpora=[emodb]",
         "--set", "feature_sets=[eGeMAPSv02]", "--set", "classifiers=[svm]",
         "--set", "grid.svm=[0.01, 0.1]", "--set", "refit=true", "--quiet"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "| emodb | eGeMAPSv02 | svm |" in proc.stdout
    assert sorted(p.name for p in out.glob("*.md")) == ["report.md"]
    report = (out / "report.md").read_text()
    assert "emonet baseline" in report and "| emodb | eGeMAPSv02 | svm |" in report
    # refit: devel is scored by a classifier trained on it, and the reports say so
    assert "no devel–test gaps are judged" in report
    run_report = (out / "eGeMAPSv02-svm/eval/report.md").read_text()
    assert "retrained on train + devel" in run_report and "optimistic" not in run_report
    assert "emodb, devel (items the classifier was trained on): UAR" in run_report
    metrics = json.loads((out / "eGeMAPSv02-svm/eval/emodb/test/metrics.json").read_text())
    assert metrics["refit_on_train_devel"] is True and metrics["features"]["extracted"] == 0
    run_a, run_b = Path(cfg.out) / "eGeMAPSv02-svm", Path(cfg.out) / "eGeMAPSv02-logreg"
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "compare", str(run_a), str(run_b)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "| emodb | 107 |" in proc.stdout
    report = run_b / "compare-eGeMAPSv02-svm" / "report.md"
    assert "eGeMAPSv02-logreg vs eGeMAPSv02-svm" in report.read_text()


def test_svm_scores_are_a_softmax_whose_argmax_is_the_prediction():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 5))
    for k in (2, 4):
        y = rng.integers(0, k, 90)
        x[np.arange(90), y] += 2.0
        for name in ("svm", "logreg"):
            model = CLASSIFIERS[name].make(1.0, "balanced", 0).fit(x, y)
            p = probabilities(model, x, k + 1)  # one label never seen in training
            assert p.shape == (90, k + 1) and np.allclose(p.sum(1), 1) and (p[:, k] == 0).all()
            assert (p.argmax(1) == model.predict(x)).all()


def test_training_in_the_span_of_the_training_vectors_changes_nothing():
    from emonet.baselines.classifiers import span_basis

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 120)
    x = rng.normal(size=(120, 400))
    x[np.arange(120), y] += 1.5
    train, test = slice(0, 80), slice(80, 120)
    basis = span_basis(x[train])
    assert basis.shape == (400, 80) and span_basis(x[:, :50]) is None
    for name, atol in (("svm", 1e-9), ("logreg", 1e-3)):
        full = CLASSIFIERS[name].make(0.01, "balanced", 0).fit(x[train], y[train])
        small = CLASSIFIERS[name].make(0.01, "balanced", 0)
        if name == "svm":
            small.set_params(dual=True)  # as the runner does: same dual problem, same Gram matrix
        small.fit(x[train] @ basis, y[train])
        p_full = probabilities(full, x[test], 3)
        p_small = probabilities(small, x[test] @ basis, 3)
        np.testing.assert_allclose(p_small, p_full, atol=atol)
        assert (p_small.argmax(1) == p_full.argmax(1)).all()
