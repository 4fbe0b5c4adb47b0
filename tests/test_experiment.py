"""The paper's experiment recipe (emonet.recipes): plan, configuration checks, a whole small run
on two toy corpora without openSMILE, and the command reusing it."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from emonet.config import ConfigError
from emonet.recipes import experiment as recipe
from emonet.recipes.experiment import (
    ExperimentConfig,
    _finished,
    load_experiment,
    plan,
    run_experiment,
)
from emonet.results.metrics import uar
from emonet.runtime import DeviceError, torch_device

TINY = {
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
    assert {r.seed for r in plan(cfg)} == {0}  # the default seeds: [0], today's folders


def test_plan_with_seeds_trains_each_seed_in_its_own_folders():
    cfg = ExperimentConfig(corpora=["a", "b"], settings=["scratch", "adapters"], seeds=[3, 0])
    runs = [(r.name, r.init, r.seed) for r in plan(cfg)]
    assert runs == [
        ("scratch/a/seed-3", None, 3),
        ("scratch/b/seed-3", None, 3),
        ("multi/without-a/seed-3", None, 3),
        ("adapters/a/seed-3", "multi/without-a/seed-3/checkpoints/best", 3),
        ("multi/without-b/seed-3", None, 3),
        ("adapters/b/seed-3", "multi/without-b/seed-3/checkpoints/best", 3),
        ("scratch/a/seed-0", None, 0),
        ("scratch/b/seed-0", None, 0),
        ("multi/without-a/seed-0", None, 0),
        ("adapters/a/seed-0", "multi/without-a/seed-0/checkpoints/best", 0),
        ("multi/without-b/seed-0", None, 0),
        ("adapters/b/seed-0", "multi/without-b/seed-0/checkpoints/best", 0),
    ]
    config = recipe.train_config(cfg, plan(cfg)[1])
    assert config.seed == 3 and config.out.endswith("scratch/b/seed-3")


def test_plan_puts_distilled_runs_after_every_seed_of_their_teachers():
    cfg = ExperimentConfig(corpora=["a", "b"], settings=["scratch", "distilled"], seeds=[3, 0],
                           distilled={"distill": {"weight": 0.7}})  # fmt: skip
    runs = [(r.name, r.mode, r.teachers) for r in plan(cfg)]
    teachers = {c: (f"scratch/{c}/seed-3", f"scratch/{c}/seed-0") for c in "ab"}
    assert runs[4:] == [
        ("distilled/a/seed-3", "scratch", teachers["a"]),
        ("distilled/b/seed-3", "scratch", teachers["b"]),
        ("distilled/a/seed-0", "scratch", teachers["a"]),
        ("distilled/b/seed-0", "scratch", teachers["b"]),
    ]
    assert [r.name for r in plan(cfg)[:4]] == [
        f"scratch/{c}/seed-{k}" for k in (3, 0) for c in "ab"
    ]
    config = recipe.train_config(cfg, plan(cfg)[5])
    assert config.distill.weight == 0.7 and config.seed == 3
    assert config.distill.teachers == [str(Path(cfg.out) / t) for t in teachers["b"]]
    assert recipe._needs(plan(cfg)[5]) == set(teachers["b"])


@pytest.mark.parametrize(
    ("keys", "overrides", "message"),
    [
        ({"corpora": ["a"]}, [], "at least two corpora"),
        ({"settings": ["scratch", "magic"]}, [], r"unknown \['magic'\]"),
        ({}, ["baselines=[eGeMAPSv02-forest]"], "eGeMAPSv02-forest"),
        ({}, ["alpha=high"], "alpha: expected float"),
        ({}, ["nonsense=1"], "unknown key nonsense"),
        ({"seeds": []}, [], "seeds: list at least one seed"),
        ({"seeds": [0, 1, 0]}, [], "seeds: 0 is listed twice"),
        ({"seeds": [-1]}, [], "seeds: -1 is negative"),
        ({}, ["seeds=[0, x]"], r"seeds\[1\]: expected int"),
        ({"train": {"seed": 1}}, [], r"train.seed: .*seeds: \[1\]"),
        ({"seeds": [0, 1]}, ["multi.seed=2"], "multi.seed: an experiment takes its seeds"),
        ({"jobs": 0}, [], "jobs: must be at least 1, got 0"),
        ({"settings": ["multi", "distilled"]}, [], "distilled learns from the scratch runs"),
        ({"seeds": [0, 1]}, ["distilled.seed=2"], "distilled.seed: an experiment takes"),
        ({"jobs": 2, "train": {"engine": {"devices": 2}}}, [], "jobs: 2 runs at once need one"),
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
    for (t,) in tests.values():  # one seed: one test per corpus
        assert 0.0 <= t["p_exact"] <= t["p_holm"] <= 1.0
    assert result["trainable_parameters"]["multi"] > result["trainable_parameters"]["scratch"]
    # seeds: [0] (the default) keeps one run per folder, as before seeds existed
    assert cfg.seeds == [0] and not list(out.rglob("seed-*"))
    for run in ("scratch/toy-de", "scratch/toy-ur", "multi/all"):
        assert (out / run / "DONE.json").is_file()
        assert yaml.safe_load((out / run / "config.yaml").read_text())["seed"] == 0
    assert sorted(p.name for p in out.glob("*.md")) == ["report.md"]  # one report, no results.md
    assert "wins / losses vs scratch (significant) |" in result["table"]
    assert "±" not in result["table"] and result["uar_sd"]["multi"] == dict.fromkeys(tests)
    report = (out / "report.md").read_text()
    assert result["table"] in report and "One training seed (0)" in report
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
    assert result["table"] in proc.stdout  # the table, from the returned result
    assert json.loads((Path(cfg.out) / "results.json").read_text())["uar"] == result["uar"]
    bad = subprocess.run([sys.executable, "-m", "emonet", "experiment", str(path), "--quiet",
                          "--set", "baselines=[eGeMAPSv02-svm]"],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert bad.returncode == 2 and "pip install" in bad.stderr, bad.stderr[-3000:]


def test_a_finished_run_of_other_settings_is_not_reused(finished, tmp_path):
    """A finished run is reused only if the plan would train it the same way: another seed,
    learning rate or teachers is refused with the key named (and experiment.yaml left as it
    was); threads, ``precision: auto`` (which training resolves) and where the experiment folder
    lives do not count."""
    path, _, _, _ = finished
    written = (Path(load_experiment(path).out) / "experiment.yaml").read_text()
    cfg = load_experiment(path, ["seeds=[5]"])  # same folders (one seed), other seed
    with pytest.raises(ConfigError, match=r"scratch/toy-de holds a finished run .*seed: 0 -> 5"):
        run_experiment(cfg, show_progress=False)
    cfg = load_experiment(path, ["scratch.optim.lr=0.5"])
    with pytest.raises(ConfigError, match=r"scratch/toy-de .*optim\.lr: .* -> 0\.5"):
        run_experiment(cfg, show_progress=False)
    assert (Path(cfg.out) / "experiment.yaml").read_text() == written  # left as it was
    cfg = load_experiment(path, ["train.engine.threads=1"])
    assert all(_finished(cfg, run) for run in plan(cfg))
    cfg = load_experiment(path, ["train.engine.precision=auto"])  # resolves to what was used
    assert all(_finished(cfg, run) for run in plan(cfg))
    teacher = Path(cfg.out) / "multi" / "all"  # a run under out, named as the recipe names them
    cfg = load_experiment(path, [f"scratch.distill.teachers=[{teacher}]"])
    with pytest.raises(ConfigError, match=r"scratch/toy-de .*distill\.teachers: \[\] -> \["):
        _finished(cfg, plan(cfg)[0])
    moved = tmp_path / "moved"
    shutil.copytree(cfg.out, moved)
    cfg = load_experiment(path, [f"out={moved}"])
    assert all(_finished(cfg, run) for run in plan(cfg))


def test_jobs_train_runs_at_once_and_give_the_same_models(toy_emoset, tmp_path):
    """Four runs at a time in spawned processes give bit-identical models and the same table as
    one run after another, with the same threads; the two transfer runs are among the first four
    of the plan and must wait for their source models (else: init checkpoint not found)."""
    import torch
    from safetensors.torch import load_file

    models, tables = {}, {}
    for jobs in (1, 4):
        path = write_config(tmp_path / f"jobs-{jobs}.yaml", emoset=str(toy_emoset),
                            corpora=["toy-de", "toy-ur"], out=str(tmp_path / f"jobs-{jobs}"),
                            settings=["scratch", "adapters"], jobs=jobs,
                            train={**TINY, "engine": {"threads": 1}})  # fmt: skip
        cfg = load_experiment(path)
        tables[jobs] = run_experiment(cfg, show_progress=False)["table"]
        models[jobs] = {  # tensors only: the header names the run's folder
            p.relative_to(cfg.out).as_posix(): load_file(p)
            for p in sorted(Path(cfg.out).rglob("best/model.safetensors"))
        }
    assert sorted(models[4]) == sorted(models[1]) and len(models[1]) == 6
    for name, weights in models[1].items():
        assert models[4][name].keys() == weights.keys(), name
        assert all(torch.equal(models[4][name][k], w) for k, w in weights.items()), name
    assert tables[4] == tables[1]


@pytest.fixture(scope="module")
def two_seeds(toy_emoset, tmp_path_factory):
    """The experiment (scratch, multi, distilled) on the toy corpora with seeds 0 and 7."""
    out = tmp_path_factory.mktemp("seeds")
    path = write_config(out / "experiment.yaml", emoset=str(toy_emoset), out=str(out / "runs"),
                        corpora=["toy-de", "toy-ur"], settings=["scratch", "multi", "distilled"],
                        seeds=[0, 7], train=TINY)  # fmt: skip
    cfg = load_experiment(path)
    return cfg, run_experiment(cfg, show_progress=False)


def test_a_distilled_run_whose_teachers_changed_is_not_reused(two_seeds):
    """A finished run records its teachers' weights digests; if a teacher is not the one it
    learnt from (here: its record says another digest), the experiment names it and refuses."""
    cfg, _ = two_seeds
    distilled = [run for run in plan(cfg) if run.teachers]
    assert distilled and all(_finished(cfg, run) for run in distilled)
    record = Path(cfg.out) / "distilled/toy-de/seed-0/sources.json"
    kept = record.read_text()
    sources = json.loads(kept)
    assert len(sources["distill.teachers"]) == 2 and all(sources["distill.teachers"])
    sources["distill.teachers"][1] = "0" * 64
    record.write_text(json.dumps(sources))
    try:
        with pytest.raises(ConfigError, match=r"distilled/toy-de/seed-0 holds a finished run "
                           r".*distill\.teachers\[1\] .*scratch/toy-de/seed-7: SHA-256 000000"):  # fmt: skip
            run_experiment(cfg, show_progress=False)
    finally:
        record.write_text(kept)
    assert all(_finished(cfg, run) for run in distilled)


def test_two_seeds_give_a_folder_per_seed_and_mean_sd(two_seeds, monkeypatch):
    cfg, result = two_seeds
    out = Path(cfg.out)
    runs = ["scratch/toy-de", "scratch/toy-ur", "multi/all", "distilled/toy-de", "distilled/toy-ur"]
    weights = {}
    for run in runs:
        assert not (out / run / "DONE.json").exists()
        for k in (0, 7):
            folder = out / run / f"seed-{k}"
            assert (folder / "DONE.json").is_file(), folder
            assert yaml.safe_load((folder / "config.yaml").read_text())["seed"] == k
            weights[run, k] = (folder / "checkpoints" / "best" / "model.safetensors").read_bytes()
        assert weights[run, 0] != weights[run, 7]  # the seeds really trained different models
    for corpus in ("toy-de", "toy-ur"):  # one model per seed, taught by every seed's scratch model
        for k in (0, 7):
            config = yaml.safe_load((out / f"distilled/{corpus}/seed-{k}/config.yaml").read_text())
            assert config["mode"] == "scratch" and config["seed"] == k
            assert config["distill"]["teachers"] == [
                str(out / f"scratch/{corpus}/seed-{j}") for j in (0, 7)
            ]
            assert weights[f"distilled/{corpus}", k] != weights[f"scratch/{corpus}", k]
    saved = json.loads((out / "results.json").read_text())
    assert saved == {k: v for k, v in result.items() if k != "table"} and saved["seeds"] == [0, 7]
    for setting, per in saved["uar_per_seed"].items():
        for corpus, values in per.items():
            run = out / recipe.setting_run(setting, corpus)
            assert values == [
                json.loads((run / f"seed-{k}" / "eval" / corpus / "test" / "metrics.json")
                           .read_text())["uar"] for k in (0, 7)]  # fmt: skip
            assert saved["uar"][setting][corpus] == pytest.approx(statistics.mean(values))
            assert saved["uar_sd"][setting][corpus] == pytest.approx(statistics.stdev(values))
    for corpus, per_seed in saved["tests"]["multi"].items():
        assert len(per_seed) == 2
        better = sum(t["delta"] > 0 and t["p_holm"] < cfg.alpha for t in per_seed)
        worse = sum(t["delta"] < 0 and t["p_holm"] < cfg.alpha for t in per_seed)
        assert saved["significant"]["multi"][corpus] == {"better": better, "worse": worse,
                                                         "seeds": 2}  # fmt: skip
    cells = {line.split(" | ")[0].lstrip("| "): line.rstrip(" |").split(" | ")[1:]
             for line in result["table"].splitlines()[2:]}  # fmt: skip
    for corpus in ("toy-de", "toy-ur"):
        scratch, multi, _ = cells[corpus]
        assert re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}", scratch), scratch
        assert re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}( ▲[12]/2)?( ▼[12]/2)?", multi), multi
        mean, sd = saved["uar"]["multi"][corpus], saved["uar_sd"]["multi"][corpus]
        assert multi.startswith(f"{mean:.3f} ± {sd:.3f}")
    assert re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}", cells["mean"][1])
    assert "wins / losses vs scratch (significant), mean over seeds" in cells
    assert sorted(p.name for p in out.glob("*.md")) == ["report.md"]
    report = (out / "report.md").read_text()
    assert result["table"] in report and "2 training seeds [0, 7]" in report
    assert "mean ± standard deviation" in report and "`multi/all/seed-7`" in report
    for setting, per in saved["ensemble_uar"].items():  # the seeds' probabilities, averaged
        for corpus, value in per.items():
            run = out / recipe.setting_run(setting, corpus)
            tables = [pd.read_csv(run / f"seed-{k}" / "eval" / corpus / "test" / "predictions.csv")
                      for k in (0, 7)]  # fmt: skip
            cols = [c for c in tables[0].columns if c.startswith("p_")]
            vote = np.mean([t[cols].to_numpy() for t in tables], axis=0).argmax(1)
            truth = tables[0]["label"].map({c[2:]: i for i, c in enumerate(cols)}).to_numpy()
            assert value == pytest.approx(uar(truth, vote))
    # finished seeds are reused: nothing is trained or scored again
    monkeypatch.setattr(recipe, "evaluate", lambda *a, **k: pytest.fail("scored again"))
    import emonet.train.loop

    monkeypatch.setattr(emonet.train.loop, "train", lambda *a, **k: pytest.fail("trained again"))
    assert run_experiment(cfg, show_progress=False)["uar"] == result["uar"]


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


# --- the table over seeds, on made-up predictions ----------------------------------------------

ITEMS = [f"f{i:02d}.wav" for i in range(40)]
TRUTH = ["anger"] * 20 + ["sadness"] * 20


def fake_scored(run: Path, corpus: str, right: bool, parameters: int = 0) -> None:
    """Test predictions of ``run`` on ``corpus``: all right, or 'anger' for every item."""
    from emonet.results.metrics import classification_metrics

    guess = TRUTH if right else ["anger"] * len(TRUTH)
    where = run / "eval" / corpus / "test"
    where.mkdir(parents=True, exist_ok=True)
    lines = ["file,label,prediction,p_anger,p_sadness"] + [
        f"{f},{t},{g},{0.9 if g == 'anger' else 0.1},{0.1 if g == 'anger' else 0.9}"
        for f, t, g in zip(ITEMS, TRUTH, guess, strict=True)
    ]
    (where / "predictions.csv").write_text("\n".join(lines) + "\n")
    labels = ["anger", "sadness"]
    metrics = classification_metrics([labels.index(t) for t in TRUTH],
                                     [labels.index(g) for g in guess], labels)  # fmt: skip
    (where / "metrics.json").write_text(json.dumps({**metrics, "parameters": parameters}))


# which seeds' runs are all right (else they guess 'anger' only: UAR 0.5), per setting and corpus
RIGHT = {
    "scratch": {"x": (2,), "y": (0, 1, 2)},
    "multi": {"x": (0, 1), "y": (1, 2)},
}


@pytest.mark.parametrize("seeds", [[0, 1, 2], [0]])
def test_table_gives_mean_sd_and_seeds_significant_over_seeds(tmp_path, monkeypatch, seeds):
    cfg = ExperimentConfig(corpora=["x", "y"], settings=["scratch", "multi"], seeds=seeds,
                           baselines=["eGeMAPSv02-svm"], out=str(tmp_path))  # fmt: skip
    for setting, per in RIGHT.items():
        for corpus, right in per.items():
            for k in seeds:
                run = tmp_path / recipe.run_name(cfg, recipe.setting_run(setting, corpus), k)
                fake_scored(run, corpus, k in right)
    for corpus in ("x", "y"):
        fake_scored(tmp_path / "baselines" / "eGeMAPSv02-svm", corpus, True, parameters=42)
    monkeypatch.setattr(recipe, "_trainable", lambda *args: 7)
    result = recipe.summarise(cfg)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:]
            for line in result["table"].splitlines()[2:]}  # fmt: skip
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved == {k: v for k, v in result.items() if k != "table"}
    assert not (tmp_path / "results.md").exists()
    report = (tmp_path / "report.md").read_text()
    assert report.index("## Results") < report.index("## What the numbers mean")
    assert result["table"] in report
    if seeds == [0]:  # one seed: today's table, no ±, plain marks
        assert rows["x"] == ["0.500", "1.000 ▲", "1.000 ▲ |"]
        assert rows["y"] == ["1.000", "0.500 ▼", "1.000 |"]
        assert rows["mean"] == ["0.750", "0.750", "1.000 |"]
        assert rows["wins / losses vs scratch (significant)"] == ["–", "1 (1) / 1 (1)",
                                                                 "1 (1) / 0 (0) |"]  # fmt: skip
        assert "±" not in result["table"] and "One training seed (0)" in report
        assert saved["uar_per_seed"]["multi"] == {"x": [1.0], "y": [0.5]}
        assert saved["uar_sd"]["multi"] == {"x": None, "y": None}
        assert saved["ensemble_uar"] == {} and "Seed ensembles" not in report
        return
    sd = statistics.stdev([1.0, 1.0, 0.5])  # also that of scratch on x: 0.5, 0.5, 1.0
    assert saved["seeds"] == [0, 1, 2]
    assert saved["uar_per_seed"]["multi"] == {"x": [1.0, 1.0, 0.5], "y": [0.5, 1.0, 1.0]}
    assert saved["uar"]["multi"] == pytest.approx({"x": 2.5 / 3, "y": 2.5 / 3})
    assert saved["uar_sd"]["multi"] == pytest.approx({"x": sd, "y": sd})
    assert saved["uar"]["eGeMAPSv02-svm"] == {"x": 1.0, "y": 1.0}
    assert "eGeMAPSv02-svm" not in saved["uar_per_seed"]  # deterministic: one number
    assert [len(t) for t in saved["tests"]["multi"].values()] == [3, 3]
    # seed by seed against scratch of the same seed: on x multi wins seeds 0, 1 and loses seed 2
    assert saved["significant"]["multi"] == {"x": {"better": 2, "worse": 1, "seeds": 3},
                                             "y": {"better": 0, "worse": 1, "seeds": 3}}  # fmt: skip
    assert saved["significant"]["eGeMAPSv02-svm"]["x"] == {"better": 2, "worse": 0, "seeds": 3}
    assert rows["x"] == [f"0.667 ± {sd:.3f}", f"0.833 ± {sd:.3f} ▲2/3 ▼1/3", "1.000 ▲2/3 |"]
    assert rows["y"] == ["1.000 ± 0.000", f"0.833 ± {sd:.3f} ▼1/3", "1.000 |"]
    mean_sd = statistics.stdev([0.75, 1.0, 0.75])  # of the corpus averages, seed by seed
    assert rows["mean"] == [f"0.833 ± {mean_sd:.3f}", f"0.833 ± {mean_sd:.3f}", "1.000 |"]
    # multi: seed 0 wins x, loses y; seed 1 wins x; seed 2 loses x (all significantly)
    assert rows["wins / losses vs scratch (significant), mean over seeds"] == [
        "–", "0.7 (0.7) / 0.7 (0.7)", "0.7 (0.7) / 0 (0) |"]  # fmt: skip
    assert rows["trainable parameters"] == ["7", "7", "42 |"]
    assert "3 training seeds [0, 1, 2]" in report and "mean ± standard deviation" in report
    assert "on j of the 3 seeds" in report and "toy" not in report
    # seed ensembles: scratch on x is right on seed 2 only, so the vote says anger (0.5);
    # multi on x is right on two seeds of three, and the vote is right (1.0)
    assert saved["ensemble_uar"] == {"scratch": {"x": 0.5, "y": 1.0}, "multi": {"x": 1.0, "y": 1.0}}
    assert "## Seed ensembles" in report and "| mean | 0.750 | 1.000 |" in report
    ensemble = tmp_path / "ensembles" / "multi" / "x" / "test" / "metrics.json"
    assert json.loads(ensemble.read_text())["member_uar"] == [1.0, 1.0, 0.5]


@pytest.mark.parametrize("name", ["experiment.yaml", "experiment-gpu.yaml"])
def test_shipped_experiment_configs_plan_valid_runs(name):
    """The CPU and the full-size GPU recipe load, and every run's training config is valid."""
    cfg = load_experiment(Path(__file__).parents[1] / "configs" / name, ["baselines=[]"])
    runs = plan(cfg)
    assert len(runs) == 16 * len(cfg.seeds)
    for run in runs:
        if run.init is None:  # transfer runs need their source trained first
            recipe.train_config(cfg, run)


def test_checkpoint_last_scores_the_end_of_training_beside_the_best(finished):
    """``checkpoint: last`` scores each finished run's last checkpoint into ``eval-last`` without
    retraining, says so in the report, and leaves the best checkpoint's scores in ``eval``."""
    path, cfg, result, _ = finished
    out = Path(cfg.out)
    best_metrics = out / "scratch" / "toy-de" / "eval" / "toy-de" / "test" / "metrics.json"
    before = best_metrics.read_text()
    last = run_experiment(load_experiment(path, ["checkpoint=last"]), show_progress=False)
    for setting, per in last["uar"].items():
        for corpus, value in per.items():
            run = out / ("multi/all" if setting == "multi" else f"scratch/{corpus}")
            scores = run / "eval-last" / corpus / "test" / "metrics.json"
            metrics = json.loads(scores.read_text())
            assert value == metrics["uar"]
            assert Path(metrics["checkpoint"]).resolve() == (run / "checkpoints" / "last").resolve()
    assert best_metrics.read_text() == before
    report = (out / "report.md").read_text()
    assert "last checkpoint of every run, chosen on nothing" in report
    assert "NOT chosen on devel" in report
    again = run_experiment(load_experiment(path), show_progress=False)  # best: nothing retrained
    assert again["uar"] == result["uar"]
