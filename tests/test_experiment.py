"""The paper's experiment recipe (emonet.recipes): plan, configuration checks, a whole small run
on two toy corpora without openSMILE, and the command reusing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emonet.config import ConfigError
from emonet.recipes import experiment as recipe
from emonet.recipes.experiment import ExperimentConfig, load_experiment, plan, run_experiment
from emonet.runtime import DeviceError, torch_device

TINY = {
    "seed": 0,
    "model": {"name": "emonet-tiny"},
    "optim": {"max_epochs": 1, "lr_stages": [0.01]},
    "data": {"window": 1.0, "batch_size": 16, "limit": 24},
    "multi": {"steps_per_epoch": 2},
}


@pytest.fixture(scope="module")
def toy_emoset(tmp_path_factory) -> Path:
    """Two generated toy corpora (different labels and layouts), prepared into an EmoSet."""
    from emonet.corpora.prepare import prepare
    from emonet.demo import PREPARE_OPTIONS
    from emonet.demo_data import TOY_CORPORA, write_corpus

    root = tmp_path_factory.mktemp("toy")
    for spec in (TOY_CORPORA[0], TOY_CORPORA[2]):
        source = write_corpus(spec, root / "sources")
        prepare(spec.layout, source, root / "emoset", name=spec.name, workers=2,
                options=PREPARE_OPTIONS[spec.layout], show_progress=False)  # fmt: skip
    return root / "emoset"


def write_config(path: Path, **keys) -> Path:
    data = {"corpora": ["a", "b"], "baselines": [], **keys}
    path.write_text(yaml.safe_dump(data))
    return path


def test_plan_trains_sources_before_their_transfers():
    cfg = ExperimentConfig(corpora=["a", "b"], settings=["scratch", "multi", "adapters"])
    runs = [(r.name, r.mode, r.corpora, r.init) for r in plan(cfg)]
    assert runs == [
        ("scratch/a", "scratch", ("a",), None),
        ("scratch/b", "scratch", ("b",), None),
        ("multi/all", "multi", ("a", "b"), None),
        ("multi/without-a", "multi", ("b",), None),
        ("adapters/a", "adapters", ("a",), "multi/without-a/checkpoints/best"),
        ("multi/without-b", "multi", ("a",), None),
        ("adapters/b", "adapters", ("b",), "multi/without-b/checkpoints/best"),
    ]


@pytest.mark.parametrize(
    ("keys", "overrides", "message"),
    [
        ({"corpora": ["a"]}, [], "at least two corpora"),
        ({"settings": ["scratch", "magic"]}, [], r"unknown \['magic'\]"),
        ({}, ["baselines=[eGeMAPSv02-forest]"], "eGeMAPSv02-forest"),
        ({}, ["alpha=high"], "alpha: expected float"),
        ({}, ["nonsense=1"], "unknown key nonsense"),
    ],
)
def test_bad_experiment_files_name_the_key(tmp_path, keys, overrides, message):
    path = write_config(tmp_path / "exp.yaml", **keys)
    with pytest.raises(ConfigError, match=message):
        load_experiment(path, overrides)
    with pytest.raises(ConfigError, match="not found"):
        load_experiment(tmp_path / "missing.yaml")


def test_baselines_without_opensmile_fail_at_load_as_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)  # `import opensmile` raises ImportError
    path = write_config(tmp_path / "exp.yaml", baselines=["eGeMAPSv02-svm"])
    from emonet.errors import EmoNetError

    with pytest.raises(EmoNetError, match=r"pip install 'emonet\[baselines\]'"):
        load_experiment(path)


def test_accelerator_names_map_to_checked_torch_devices():
    import torch

    assert torch_device("cpu") == "cpu"
    assert (
        torch_device(None)
        == torch_device("auto")
        == ("cuda" if torch.cuda.is_available() else "cpu")
    )
    if torch.cuda.is_available():
        assert torch_device("gpu") == "cuda"
    else:
        with pytest.raises(DeviceError, match="'cuda'"):
            torch_device("gpu")
    with pytest.raises(DeviceError, match="nonsense"):
        torch_device("nonsense")


@pytest.fixture(scope="module")
def finished(toy_emoset, tmp_path_factory):
    """The experiment (scratch and multi) on the toy corpora with openSMILE unimportable."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setitem(sys.modules, "opensmile", None)
    devices = []

    def spy(*args, **kwargs):
        devices.append(kwargs.get("device"))
        return evaluate(*args, **kwargs)

    evaluate = recipe.evaluate
    monkeypatch.setattr(recipe, "evaluate", spy)
    out = tmp_path_factory.mktemp("experiment")
    path = write_config(
        out / "experiment.yaml",
        emoset=str(toy_emoset),
        corpora=["toy-de", "toy-ur"],
        out=str(out / "runs"),
        settings=["scratch", "multi"],
        train=TINY,
    )
    try:
        cfg = load_experiment(path)
        result = run_experiment(cfg, show_progress=False)
    finally:
        monkeypatch.undo()
    return path, cfg, result, devices


def test_experiment_without_baselines_runs_without_opensmile(finished):
    _, cfg, result, devices = finished
    out = Path(cfg.out)
    assert set(result["uar"]) == {"scratch", "multi"}
    for setting, per in result["uar"].items():
        for corpus, value in per.items():
            run = out / ("multi/all" if setting == "multi" else f"scratch/{corpus}")
            metrics = json.loads((run / "eval" / corpus / "test" / "metrics.json").read_text())
            assert value == metrics["uar"] and 0.0 <= value <= 1.0
    tests = result["tests"]["multi"]
    assert set(tests) == {"toy-de", "toy-ur"}
    for t in tests.values():
        assert 0.0 <= t["p_exact"] <= t["p_holm"] <= 1.0
    assert result["trainable_parameters"]["multi"] > result["trainable_parameters"]["scratch"]
    assert "wins / losses vs scratch" in (out / "results.md").read_text()
    report = (out / "report.md").read_text()
    assert "What the numbers mean" in report and "chosen on devel" in report
    assert "toy-de (scratch, test): UAR" in report and "chance UAR 1/" in report
    evaluation = (out / "scratch" / "toy-de" / "eval" / "report.md").read_text()
    assert "| chance UAR |" in evaluation and "toy-de, test: UAR" in evaluation
    assert "toy-de, devel: UAR" in evaluation and "Left: loss per corpus" in evaluation
    assert not (out / "baselines").exists()
    # every run is scored on its training device (train.engine.accelerator, cpu by default)
    assert devices == ["cpu", "cpu", "cpu"]


def test_experiment_command_reuses_finished_runs_without_opensmile(finished, tmp_path):
    path, cfg, result, _ = finished
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "opensmile.py").write_text("raise ImportError('opensmile is not installed')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run([sys.executable, "-m", "emonet", "experiment", str(path), "--quiet"],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"report: {Path(cfg.out) / 'report.md'}" in proc.stdout
    assert json.loads((Path(cfg.out) / "results.json").read_text())["uar"] == result["uar"]
    bad = subprocess.run([sys.executable, "-m", "emonet", "experiment", str(path), "--quiet",
                          "--set", "baselines=[eGeMAPSv02-svm]"],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert bad.returncode == 2 and "pip install" in bad.stderr, bad.stderr[-3000:]


def emonet_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emonet", *args], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_evaluate_and_cross_corpus_take_a_device(finished, toy_emoset, tmp_path):
    _, cfg, result, _ = finished
    multi = Path(cfg.out) / "multi" / "all"
    proc = emonet_cli("evaluate", str(multi), str(toy_emoset), "--partition", "test",
                      "--out", str(tmp_path / "eval"), "--device", "cpu", "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    scored = json.loads((tmp_path / "eval" / "toy-de" / "test" / "metrics.json").read_text())
    assert scored["uar"] == result["uar"]["multi"]["toy-de"]
    proc = emonet_cli("cross-corpus", str(multi), str(toy_emoset), "--device", "cpu",
                      "--out", str(tmp_path / "cross"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    cells = json.loads((tmp_path / "cross" / "cross_corpus.json").read_text())["cells"]
    diagonal = {c["head"]: c["uar"] for c in cells if c["head"] == c["corpus"]}
    assert set(diagonal) == {"toy-de", "toy-ur"} and all(0 <= v <= 1 for v in diagonal.values())
    for c in cells:
        assert sum(c["class_counts"]) == c["n"]
        assert c["chance"] == 1 / len(c["emotions"]) if c["emotions"] else c["n"] == 0
    assert [p.name for p in (tmp_path / "cross").glob("*.md")] == ["report.md"]
    report = (tmp_path / "cross" / "report.md").read_text()
    assert "n items / chance UAR" in report and "1 / (number of shared emotions)" in report
    evaluation = (tmp_path / "eval" / "report.md").read_text()
    assert "toy-de, test: UAR" in evaluation and "toy-de, devel" not in evaluation
    for command in ("evaluate", "cross-corpus"):
        bad = emonet_cli(command, str(multi), str(toy_emoset), "--device", "nonsense")
        assert bad.returncode == 2 and "nonsense" in bad.stderr, bad.stderr[-3000:]
