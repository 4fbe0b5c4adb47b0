"""The paper's experiment as one recipe: scratch vs. multi-corpus vs. transfer, with statistics.

For a list of corpora it trains (a) ``scratch`` per corpus, (b) one ``multi`` adapter model on all
of them, (c) per corpus a ``multi`` model on the others followed by ``adapters``, ``finetune`` and
``last-layer`` transfer to it; evaluates every run on the test partition; and writes the table of
test UAR per corpus and setting with McNemar significance against ``scratch`` (Holm over corpora),
win/loss counts and trainable parameters. Every run is resumable: finished runs are reused.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from emonet.config import ConfigError, build, read_yaml, set_key
from emonet.evaluate.compare import compare_corpus
from emonet.evaluate.runner import evaluate
from emonet.evaluate.stats import holm
from emonet.results.explain import Scored, bullets, describe, devel_test_note, partition_note
from emonet.results.predictions import atomic_write_text, write_json
from emonet.results.report import md_table, write_report
from emonet.runtime import torch_device
from emonet.train.config import TrainConfig, config_from_dict

if TYPE_CHECKING:
    from emonet.baselines import BaselineConfig

BASELINES = ("eGeMAPSv02-svm", "ComParE_2016-svm")
SETTINGS = ("scratch", "multi", "adapters", "finetune", "last-layer")
TRANSFER = ("adapters", "finetune", "last-layer")


@dataclass
class ExperimentConfig:
    """What to run: corpora, settings, and training keys shared by or specific to the settings."""

    emoset: str = "emoset"
    """EmoSet folder with the prepared corpora."""
    corpora: list[str] = field(default_factory=list)
    """Corpora of the comparison (at least two)."""
    out: str = "runs/experiment"
    """Folder of all runs and the final report."""
    settings: list[str] = field(default_factory=lambda: list(SETTINGS))
    """Columns of the table: scratch, multi, adapters, finetune, last-layer."""
    partition: str = "test"
    """Partition the table reports (model selection is always on devel)."""
    alpha: float = 0.05
    """Significance level on Holm-adjusted McNemar p-values."""
    train: dict[str, Any] = field(default_factory=dict)
    """Training keys for every run (e.g. model, optim, engine, seed)."""
    scratch: dict[str, Any] = field(default_factory=dict)
    """Training keys for scratch runs, over `train`."""
    multi: dict[str, Any] = field(default_factory=dict)
    """Training keys for multi-corpus runs, over `train`."""
    transfer: dict[str, Any] = field(default_factory=dict)
    """Training keys for the transfer runs, over `train`."""
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    """openSMILE baselines as extra columns, `<feature set>-<classifier>` (empty: none)."""
    baseline: dict[str, Any] = field(default_factory=dict)
    """Keys of the baseline configuration (see configs/baseline.yaml), e.g. grid or limit."""


def load_experiment(path: Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Read and check an experiment YAML (``--set`` style overrides allowed).

    The baseline keys are checked (which needs openSMILE) only when ``baselines`` lists any.
    """
    data = read_yaml(path)
    for assignment in overrides or []:
        set_key(data, assignment)
    try:
        cfg = build(ExperimentConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if len(cfg.corpora) < 2:
        raise ConfigError(f"{path}: corpora: list at least two corpora")
    unknown = [s for s in cfg.settings if s not in SETTINGS]
    if unknown:
        raise ConfigError(f"{path}: settings: unknown {unknown}; known: {list(SETTINGS)}")
    for name in cfg.baselines:
        _split_baseline(name, str(path))
    if cfg.baselines:
        baseline_settings(cfg)  # checks the baseline keys
    return cfg


def _split_baseline(name: str, where: str = "") -> tuple[str, str]:
    """``"ComParE_2016-svm"`` → ``("ComParE_2016", "svm")``, checked against the registries."""
    from emonet.baselines import CLASSIFIERS, FEATURE_SETS

    features, _, classifier = name.rpartition("-")
    if features not in FEATURE_SETS or classifier not in CLASSIFIERS:
        raise ConfigError(
            f"{where}: baselines: {name!r} is not <feature set>-<classifier> with feature sets "
            f"{list(FEATURE_SETS)} and classifiers {list(CLASSIFIERS)}"
        )
    return features, classifier


def baseline_settings(cfg: ExperimentConfig) -> BaselineConfig:
    """The baseline configuration of the experiment (its runs live in ``<out>/baselines``)."""
    from emonet.baselines import baseline_config

    data = _merge(cfg.baseline, {"emoset": cfg.emoset, "corpora": list(cfg.corpora),
                                 "out": str(Path(cfg.out) / "baselines")})  # fmt: skip
    return baseline_config(data, "experiment baseline")


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


@dataclass(frozen=True)
class Run:
    """One training run of the experiment."""

    name: str
    mode: str
    corpora: tuple[str, ...]
    init: str | None = None


def plan(cfg: ExperimentConfig) -> list[Run]:
    """Every run the requested settings need, in an order that respects dependencies."""
    runs: list[Run] = []
    if "scratch" in cfg.settings:
        runs += [Run(f"scratch/{c}", "scratch", (c,)) for c in cfg.corpora]
    if "multi" in cfg.settings:
        runs.append(Run("multi/all", "multi", tuple(cfg.corpora)))
    for c in cfg.corpora:
        wanted = [s for s in TRANSFER if s in cfg.settings]
        if not wanted:
            break
        others = tuple(x for x in cfg.corpora if x != c)
        source = f"multi/without-{c}"
        runs.append(Run(source, "multi", others))
        runs += [Run(f"{s}/{c}", s, (c,), f"{source}/checkpoints/best") for s in wanted]
    return runs


def train_config(cfg: ExperimentConfig, run: Run) -> TrainConfig:
    """The training configuration of one run."""
    section = {"scratch": cfg.scratch, "multi": cfg.multi}.get(run.mode, cfg.transfer)
    data = _merge(cfg.train, section)
    out = Path(cfg.out) / run.name
    data = _merge(
        data,
        {
            "mode": run.mode,
            "out": str(out),
            "data": {"emoset": cfg.emoset, "corpora": list(run.corpora)},
        },
    )
    if run.init:
        data["init"] = str(Path(cfg.out) / run.init)
    return config_from_dict(data, f"experiment run {run.name}")


def run_experiment(cfg: ExperimentConfig, show_progress: bool = True) -> dict:
    """Train and evaluate every run (reusing finished ones), then write the table and report.

    Each run is scored on the device it trained on (its ``engine.accelerator``). openSMILE is
    imported only if ``baselines`` lists any.
    """
    from emonet.train.loop import train

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "experiment.yaml", yaml.safe_dump(asdict(cfg), sort_keys=False))
    for run in plan(cfg):
        folder = out / run.name
        trained = (folder / "DONE.json").is_file()
        scored = (folder / "eval" / run.corpora[0] / cfg.partition / "metrics.json").is_file()
        if trained and scored:
            continue
        config = train_config(cfg, run)
        if not trained:
            resume = (folder / "checkpoints" / "last" / "trainer_state.json").is_file()
            train(config, resume=resume, show_progress=show_progress)
        if not scored:
            parts = ("devel", cfg.partition)
            device = torch_device(config.engine.accelerator)
            evaluate(
                folder,
                Path(cfg.emoset),
                list(run.corpora),
                parts,
                show_progress=show_progress,
                device=device,
            )
    if cfg.baselines:
        from emonet.baselines import run_one

        bcfg = baseline_settings(cfg)
        for name in cfg.baselines:
            features, classifier = _split_baseline(name)
            for c in cfg.corpora:
                run_one(bcfg, c, features, classifier, show_progress=show_progress)
    return summarise(cfg)


def _uar(folder: Path, corpus: str, partition: str) -> float:
    import json

    path = folder / "eval" / corpus / partition / "metrics.json"
    return float(json.loads(path.read_text())["uar"])


def _baseline_parameters(run: Path, corpus: str, partition: str) -> int:
    import json

    path = run / "eval" / corpus / partition / "metrics.json"
    return int(json.loads(path.read_text()).get("parameters", 0))


def _trainable(run_dir: Path, mode: str, corpus: str | list[str]) -> int:
    from emonet.model import load_checkpoint

    model = load_checkpoint(run_dir / "checkpoints" / "best")
    model.set_mode(mode, corpus)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _scored(run: Path, corpus: str, partition: str) -> Scored | None:
    import json

    path = run / "eval" / corpus / partition / "metrics.json"
    return Scored.from_metrics(json.loads(path.read_text())) if path.is_file() else None


def meaning(cfg: ExperimentConfig, folder: dict[str, dict[str, Path]]) -> str:
    """What the table's numbers mean: partition, n, chance UAR per corpus, devel-test gaps."""
    first = [*cfg.settings, *cfg.baselines][0]
    lines = [partition_note(cfg.partition)]
    for c in cfg.corpora:
        scored = _scored(folder[first][c], c, cfg.partition)
        if scored is not None:
            lines.append(describe(f"{c} ({first}, {cfg.partition})", scored))
    lines.append(
        "A ▲/▼ needs McNemar's test to hold after the Holm adjustment; with few items even a "
        "large ΔUAR can miss it (see `emonet compare` for intervals)."
    )
    gaps = []
    if cfg.partition != "devel":
        for s in cfg.settings:
            for c in cfg.corpora:
                devel = _scored(folder[s][c], c, "devel")
                test = _scored(folder[s][c], c, cfg.partition)
                if devel is not None and test is not None:
                    gaps.append(devel_test_note(f"{c} ({s})", devel, test))
    return bullets(lines) + ("\n" + bullets(gaps) if any(gaps) else "")


def summarise(cfg: ExperimentConfig) -> dict:
    """Table of test UAR per corpus and setting, significance against scratch, parameters."""
    out = Path(cfg.out)
    columns = [*cfg.settings, *cfg.baselines]
    folder = {
        s: {c: out / ("multi/all" if s == "multi" else f"{s}/{c}") for c in cfg.corpora}
        for s in cfg.settings
    }
    for b in cfg.baselines:
        folder[b] = dict.fromkeys(cfg.corpora, out / "baselines" / b)
    uars = {s: {c: _uar(folder[s][c], c, cfg.partition) for c in cfg.corpora} for s in columns}
    tests: dict[str, dict[str, dict]] = {}
    for s in columns:
        if s == "scratch" or "scratch" not in cfg.settings:
            continue
        rows = [
            compare_corpus(
                c,
                folder["scratch"][c] / "eval" / c / cfg.partition / "predictions.csv",
                folder[s][c] / "eval" / c / cfg.partition / "predictions.csv",
            )
            for c in cfg.corpora
        ]
        for r, p in zip(rows, holm([r.p_exact for r in rows]), strict=True):
            r.p_holm = p
        tests[s] = {r.corpus: asdict(r) for r in rows}
    params = {}
    for b in cfg.baselines:
        params[b] = _baseline_parameters(folder[b][cfg.corpora[0]], cfg.corpora[0], cfg.partition)
    for s in cfg.settings:
        if s == "multi":
            params[s] = _trainable(folder[s][cfg.corpora[0]], "multi", list(cfg.corpora))
        else:
            c = cfg.corpora[0]
            params[s] = _trainable(folder[s][c], s, c)
    headers = ["corpus", *columns]
    body = []
    for c in cfg.corpora:
        row: list[object] = [c]
        for s in columns:
            mark = ""
            if s in tests:
                t = tests[s][c]
                if t["p_holm"] < cfg.alpha:
                    mark = " ▲" if t["delta"] > 0 else " ▼"
            row.append(f"{uars[s][c]:.3f}{mark}")
        body.append(row)
    mean_row: list[object] = ["mean"] + [
        f"{sum(uars[s].values()) / len(cfg.corpora):.3f}" for s in columns
    ]
    wl: list[object] = ["wins / losses vs scratch (significant)"]
    for s in columns:
        if s not in tests:
            wl.append("–")
            continue
        t = tests[s].values()
        wins = sum(x["delta"] > 0 for x in t)
        losses = sum(x["delta"] < 0 for x in t)
        sw = sum(x["delta"] > 0 and x["p_holm"] < cfg.alpha for x in t)
        sl = sum(x["delta"] < 0 and x["p_holm"] < cfg.alpha for x in t)
        wl.append(f"{wins} ({sw}) / {losses} ({sl})")
    par: list[object] = ["trainable parameters"] + [f"{params[s]:,}" for s in columns]
    table = md_table(headers, [*body, mean_row, wl, par])
    result = {"config": asdict(cfg), "uar": uars, "tests": tests, "trainable_parameters": params}
    write_json(out / "results.json", result)
    atomic_write_text(out / "results.md", table)
    legend = (
        f"UAR on the {cfg.partition} partition (model selection on devel). ▲/▼: significantly "
        f"better/worse than scratch on that corpus (McNemar exact test, Holm-adjusted over the "
        f"{len(cfg.corpora)} corpora, α = {cfg.alpha}). multi: one model for all corpora. "
        "adapters/finetune/last-layer: transfer to the corpus from a multi model trained on the "
        "other corpora. Trainable parameters are those of the first corpus's run (multi: the "
        "whole shared model; baselines: weights and biases of the classifier). Baseline columns "
        "are openSMILE functionals with a linear classifier whose complexity was chosen on devel."
    )
    write_report(
        out / "report.md",
        "Multi-corpus EmoNet against single-corpus training",
        [
            ("Results", table + "\n" + legend),
            ("What the numbers mean", meaning(cfg, folder)),
            ("Configuration", f"```yaml\n{yaml.safe_dump(asdict(cfg), sort_keys=False)}```"),
            (
                "Runs",
                "\n".join(f"- `{r.name}`: {r.mode} on {', '.join(r.corpora)}" for r in plan(cfg)),
            ),
        ],
    )
    return result
