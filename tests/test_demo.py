"""`emonet demo`, the README's main command, runs end to end offline and leaves its report."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from emonet.demo_data import TOY_CORPORA, write_corpus


def test_toy_corpora_layouts_and_sizes(tmp_path):
    spec = TOY_CORPORA[2]
    folder = write_corpus(spec, tmp_path)
    tables = {p: pd.read_csv(folder / f"{p}.csv") for p in ("train", "devel", "test")}
    assert sum(len(t) for t in tables.values()) == spec.speakers * spec.per_label * len(spec.labels)
    assert list(tables["train"].columns) == ["file", "label"]
    assert set(tables["test"]["label"]) == set(spec.labels)
    assert all((folder / f).is_file() for f in tables["devel"]["file"])


def test_demo_runs_the_whole_pipeline(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "emonet", "demo", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"report: {out / 'report.md'}" in proc.stdout
    report = (out / "report.md").read_text()
    for part in ("Test UAR", "Scratch vs multi", "Predictions", "Export"):
        assert part in report
    for name in ("toy-de", "toy-en", "toy-ur"):
        assert (out / "emoset" / name / "corpus.json").is_file()
        assert (out / "runs" / "multi" / "eval" / name / "test" / "predictions.csv").is_file()
    assert (out / "compare" / "report.md").is_file()
    assert (out / "emonet-toy-de.onnx").stat().st_size > 10_000
    predictions = pd.read_csv(out / "predictions.csv")
    assert len(predictions) >= 5 and predictions["error"].isna().all()
