"""The classic baselines on EmoSet partitions: openSMILE functionals, standardised, + a classifier.

Per corpus, feature set and classifier: the scaler is fitted on train only, the classifier is
trained on train for every value of its complexity grid, the value with the best devel UAR is
kept (ties: the smaller, more regularised value), and devel and test are scored with that
train-fitted model (``refit: true`` instead retrains on train + devel before scoring test). The
results land in a run folder laid out like a trained EmoNet run's evaluation, so ``emonet
compare`` and the experiment recipe treat a baseline like any other run::

    <out>/<feature_set>-<classifier>/eval/<corpus>/<partition>/{predictions.csv,metrics.json,
                                                                confusion.png}
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from emonet.baselines.classifiers import (
    CLASSIFIERS,
    get_classifier,
    parameter_count,
    probabilities,
    span_basis,
)
from emonet.baselines.features import FEATURE_SETS, Features, corpus_features, known_feature_sets
from emonet.config import ConfigError, build, read_yaml, set_key
from emonet.corpora.emoset import EmoSetCorpus, EmoSetError, open_emoset, subset
from emonet.files import write_json, write_text
from emonet.results.explain import Scored, bullets, describe, devel_test_note
from emonet.results.metrics import classification_metrics, uar
from emonet.results.plots import confusion_png
from emonet.results.predictions import predictions_table, write_predictions
from emonet.results.report import md_table, write_report

RUN_VERSION = 1
"""Version of the training procedure; part of the fingerprint that decides whether a finished
run can be reused (bump it when the procedure changes results)."""


@dataclass
class BaselineConfig:
    """openSMILE + classifier baselines: which corpora, features, classifiers and grid."""

    emoset: str = "emoset"
    """EmoSet folder with the prepared corpora."""
    corpora: list[str] = field(default_factory=list)
    """Corpora to run (default: every corpus in the EmoSet)."""
    out: str = "runs/baseline"
    """Output folder: one run folder <feature_set>-<classifier> per combination, and report.md."""
    feature_sets: list[str] = field(default_factory=lambda: list(FEATURE_SETS))
    """openSMILE feature sets (functionals), e.g. eGeMAPSv02, ComParE_2016."""
    classifiers: list[str] = field(default_factory=lambda: ["svm", "logreg"])
    """Registered classifiers: svm (linear SVM), logreg (logistic regression)."""
    grid: dict[str, list[float]] = field(default_factory=dict)
    """Complexity grid (C) per classifier, overriding the registry default, e.g. {svm: [0.001, 0.01]}."""
    class_weight: Literal["balanced"] | None = "balanced"
    """Class weights inversely proportional to training frequency (balanced) or none (null)."""
    refit: bool = False
    """Retrain on train + devel at the chosen complexity before scoring test (EmoNet never does)."""
    devel_fraction: float = 0.2
    """Share of train speakers held out as devel for corpora whose official split has no devel."""
    limit: int | None = None
    """Use only the first N items of each partition (quick runs and tests)."""
    workers: int | None = None
    """Feature extraction processes (default: the CPU count, at most 8)."""
    cache: str | None = None
    """Feature cache root (default: <emoset>/.features); holds <corpus>/<feature_set>/."""
    seed: int = 0
    """Seed of the classifiers' solvers."""

    def validate(self) -> BaselineConfig:
        """Check values the types cannot express; errors name the key. Returns self."""
        if not self.feature_sets:
            raise ConfigError("feature_sets: list at least one openSMILE feature set")
        known = known_feature_sets()
        for i, fs in enumerate(self.feature_sets):
            if fs not in known:
                raise ConfigError(f"feature_sets[{i}]: unknown feature set {fs!r}; known: {known}")
        if not self.classifiers:
            raise ConfigError("classifiers: list at least one classifier")
        for i, name in enumerate(self.classifiers):
            if name not in CLASSIFIERS:
                raise ConfigError(
                    f"classifiers[{i}]: unknown classifier {name!r}; known: {sorted(CLASSIFIERS)}"
                )
        for name, values in self.grid.items():
            if name not in CLASSIFIERS:
                raise ConfigError(f"grid.{name}: unknown classifier; known: {sorted(CLASSIFIERS)}")
            if not isinstance(values, list) or not values:
                raise ConfigError(f"grid.{name}: expected a non-empty list of numbers")
            parsed = []
            for k, v in enumerate(values):
                try:
                    number = float(v) if not isinstance(v, bool) else float("nan")
                except (TypeError, ValueError):
                    number = float("nan")
                if not number > 0:
                    raise ConfigError(f"grid.{name}[{k}]: expected a positive number, got {v!r}")
                parsed.append(number)
            self.grid[name] = sorted(parsed)
        if not 0 < self.devel_fraction < 1:
            raise ConfigError(f"devel_fraction: must lie in (0, 1), got {self.devel_fraction}")
        if self.limit is not None and self.limit <= 0:
            raise ConfigError(f"limit: must be positive, got {self.limit}")
        if self.workers is not None and self.workers <= 0:
            raise ConfigError(f"workers: must be positive, got {self.workers}")
        return self

    def grid_of(self, classifier: str) -> list[float]:
        """The complexity values searched for ``classifier``."""
        return list(self.grid.get(classifier) or get_classifier(classifier).grid)

    def n_workers(self) -> int:
        """Extraction processes to use."""
        return self.workers or min(os.cpu_count() or 1, 8)

    def cache_dir(self, corpus: str, feature_set: str) -> Path:
        """Feature cache folder of one corpus and feature set."""
        root = Path(self.cache) if self.cache else Path(self.emoset) / ".features"
        return root / corpus / feature_set


def baseline_config(data: dict | None = None, where: str = "") -> BaselineConfig:
    """Type-check and validate a nested dict (as read from YAML) into a :class:`BaselineConfig`."""
    try:
        return build(BaselineConfig, data or {}).validate()
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None


def load_baseline_config(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> BaselineConfig:
    """Read a baseline YAML (or the defaults), apply ``key=value`` overrides, check it."""
    data = read_yaml(path) if path is not None else {}
    for assignment in overrides or []:
        set_key(data, assignment)
    return baseline_config(data, str(path) if path else "")


def run_name(feature_set: str, classifier: str) -> str:
    """Folder name of the run of one feature set and classifier."""
    return f"{feature_set}-{classifier}"


# --------------------------------------------------------------------------- partitions


@dataclass
class Partitions:
    """The train/devel/test tables used for one corpus, and how devel came about."""

    tables: dict[str, pd.DataFrame]
    devel_protocol: str


def baseline_partitions(
    corpus: EmoSetCorpus, limit: int | None = None, devel_fraction: float = 0.2
) -> Partitions:
    """EmoSet partitions of a corpus; without a devel partition, train's speakers are split.

    The held-out devel speakers are chosen by EmoSet's own deterministic speaker-independent
    split (:func:`emonet.corpora.splits.make_split`, falling back as it does for < 3 speakers).
    """
    from emonet.corpora.splits import make_split

    tables = {p: corpus.partition(p) for p in ("train", "devel", "test")}
    protocol = "EmoSet devel partition"
    if len(tables["devel"]) == 0 and len(tables["train"]) > 0:
        train = tables["train"]
        split = make_split(
            list(train["label"]),
            list(train["speaker"]),
            key=f"{corpus.name}:baseline-devel",
            fractions=(1 - devel_fraction, devel_fraction),
        )
        part = np.asarray(split.partition)
        tables["train"] = train[part == "train"].reset_index(drop=True)
        tables["devel"] = train[part == "devel"].reset_index(drop=True)
        protocol = (
            f"no devel partition: {devel_fraction:.0%} of train held out as devel "
            f"({split.protocol})"
        )
    if limit is not None:
        tables = {p: subset(t, limit) for p, t in tables.items()}
    if len(tables["train"]) == 0:
        raise EmoSetError(f"{corpus.root}: the train partition is empty")
    return Partitions(tables, protocol)


# --------------------------------------------------------------------------- one run


def _warn(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold yellow]warning:[/] {message}", highlight=False)


def _fit(
    spec: Any, c: float, cfg: BaselineConfig, x: np.ndarray, y: np.ndarray, in_span: bool
) -> tuple:
    """Fit one estimator (on span coordinates if ``in_span``); (model, converged)."""
    from sklearn.exceptions import ConvergenceWarning

    model = spec.make(c, cfg.class_weight, cfg.seed)
    if in_span and model.get_params().get("dual") == "auto":
        # span coordinates (as many features as items): "auto" would pick liblinear's primal
        # solver, slow at large C; the dual solves the same problem as in the original space.
        model.set_params(dual=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return model, converged


def _standardise(
    xs: dict[str, np.ndarray], fit_on: tuple[str, ...], in_span: bool
) -> tuple[dict[str, np.ndarray], bool]:
    """Z-scores with statistics of the ``fit_on`` partitions only, then (for L2 linear models with
    more features than training items) coordinates in the span of the training vectors."""
    from sklearn.preprocessing import StandardScaler

    fit = np.concatenate([xs[p] for p in fit_on])
    scaler = StandardScaler().fit(fit)
    z = {p: scaler.transform(x) if len(x) else x for p, x in xs.items()}
    basis = span_basis(np.concatenate([z[p] for p in fit_on])) if in_span else None
    if basis is not None:
        z = {p: v @ basis for p, v in z.items()}
    return z, basis is not None


def _fingerprint(cfg: BaselineConfig, classifier: str, feats: Features, parts: Partitions) -> str:
    h = hashlib.sha256(feats.key.encode())
    spec = [RUN_VERSION, classifier, cfg.grid_of(classifier), cfg.class_weight, cfg.refit, cfg.seed]
    h.update(json.dumps(spec).encode())
    for p, t in parts.tables.items():
        h.update(f"\0{p}\0".encode() + "\0".join(t["file"] + "=" + t["label"]).encode())
    return h.hexdigest()


def run_one(
    cfg: BaselineConfig,
    corpus: str,
    feature_set: str,
    classifier: str,
    show_progress: bool = True,
) -> Path:
    """Run one (corpus, feature set, classifier) baseline; returns its run folder.

    Writes ``<out>/<feature_set>-<classifier>/eval/<corpus>/{devel,test}/…`` and refreshes the
    run's ``eval/metrics.json`` and ``eval/report.md``. A finished run with the same inputs
    (features, partitions, classifier settings) is reused, not recomputed.
    """
    cfg.validate()
    sets = open_emoset(cfg.emoset)
    if corpus not in sets:
        raise ConfigError(f"corpora: {corpus!r} is not in EmoSet {cfg.emoset} ({sorted(sets)})")
    data = sets[corpus]
    labels = data.labels
    spec = get_classifier(classifier)
    parts = baseline_partitions(data, cfg.limit, cfg.devel_fraction)
    files = [f for t in parts.tables.values() for f in t["file"]]
    feats = corpus_features(
        data.root,
        files,
        feature_set,
        cfg.cache_dir(corpus, feature_set),
        workers=cfg.n_workers(),
        show_progress=show_progress,
    )
    run = Path(cfg.out) / run_name(feature_set, classifier)
    folder = run / "eval" / corpus
    failed = feats.failed.merge(
        pd.concat([t[["file"]].assign(partition=p) for p, t in parts.tables.items()]),
        on="file",
        how="left",
    )[["file", "partition", "error"]]
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "failed.csv", failed.to_csv(index=False))
    if len(failed):
        _warn(
            f"{corpus} {feature_set}: {len(failed)} of {len(files)} files failed feature "
            f"extraction and are excluded (listed in {folder / 'failed.csv'}); "
            f"e.g. {failed['file'].iloc[0]}: {failed['error'].iloc[0]}"
        )
    fingerprint = _fingerprint(cfg, classifier, feats, parts)
    done = folder / "baseline.json"
    if done.is_file() and json.loads(done.read_text()).get("fingerprint") == fingerprint:
        summarise_run(run)  # cheap; brings a report of an earlier version up to date
        return run

    ok = set(feats.files)
    index = {lab: i for i, lab in enumerate(labels)}
    xs: dict[str, np.ndarray] = {}
    ys: dict[str, np.ndarray] = {}
    names: dict[str, list[str]] = {}
    for p, table in parts.tables.items():
        table = table[table["file"].isin(ok)]
        names[p] = list(table["file"])
        xs[p] = feats.rows(names[p]).astype(np.float64)
        ys[p] = table["label"].map(index).to_numpy(np.int64)
    if len(ys["train"]) == 0:
        raise EmoSetError(f"{corpus}: no training file has features (see {folder / 'failed.csv'})")
    if len(np.unique(ys["train"])) < 2:
        raise EmoSetError(f"{corpus}: train holds only one class; cannot train a classifier")

    z, projected = _standardise(xs, ("train",), spec.in_span)
    grid_rows = []
    best = None
    for c in cfg.grid_of(classifier):
        model, converged = _fit(spec, c, cfg, z["train"], ys["train"], projected)
        score = uar(ys["devel"], model.predict(z["devel"])) if len(ys["devel"]) else float("nan")
        grid_rows.append({spec.parameter: c, "devel_uar": score, "converged": converged})
        if best is None or score > best[1] + 1e-12:
            best = (c, score, model)
    assert best is not None
    chosen, devel_uar, model = best
    if cfg.refit and len(ys["devel"]):
        z, projected = _standardise(xs, ("train", "devel"), spec.in_span)
        z_all = np.concatenate([z["train"], z["devel"]])
        y_all = np.concatenate([ys["train"], ys["devel"]])
        model, _ = _fit(spec, chosen, cfg, z_all, y_all, projected)

    common = {
        "corpus": corpus,
        "feature_set": feature_set,
        "classifier": classifier,
        "classifier_description": spec.description,
        "scores": spec.scores,
        "complexity": {
            "parameter": spec.parameter,
            "chosen": chosen,
            "devel_uar": devel_uar,
            "grid": grid_rows,
        },
        "refit_on_train_devel": cfg.refit,
        "class_weight": cfg.class_weight,
        "parameters": parameter_count(model, len(feats.names)),
        "features": {
            "opensmile": feats.meta["opensmile"],
            "dimensions": len(feats.names),
            "extracted": feats.extracted,
            "reused_from_cache": feats.reused,
            "cache": str(feats.cache),
        },
        "failed_files": len(failed),
        "devel_protocol": parts.devel_protocol,
    }
    for p in ("devel", "test"):
        if len(ys[p]) == 0:
            _warn(f"{corpus}: the {p} partition is empty; nothing to score")
            continue
        probs = probabilities(model, z[p], len(labels))
        out = folder / p
        write_predictions(
            out / "predictions.csv", predictions_table(names[p], labels, ys[p], probs)
        )
        metrics = classification_metrics(ys[p], probs.argmax(1), labels)
        metrics.update(partition=p, **common)
        write_json(out / "metrics.json", metrics)
        confusion_png(
            metrics["confusion"],
            labels,
            out / "confusion.png",
            f"{corpus} {p} ({feature_set} + {classifier})",
        )
    write_json(done, {"fingerprint": fingerprint, **common})
    write_text(
        run / "config.yaml",
        yaml.safe_dump(
            {"feature_set": feature_set, "classifier": classifier, "baseline": asdict(cfg)},
            sort_keys=False,
        ),
    )
    summarise_run(run)
    return run


def summarise_run(run: Path) -> dict:
    """Rewrite ``<run>/eval/metrics.json`` and ``report.md`` from every corpus scored so far."""
    ev = Path(run) / "eval"
    results: dict[str, dict[str, dict]] = {}
    rows, plots = [], []
    for path in sorted(ev.glob("*/*/metrics.json")):
        m = json.loads(path.read_text(encoding="utf-8"))
        corpus, part = path.parent.parent.name, path.parent.name
        results.setdefault(corpus, {})[part] = m
        cx = m["complexity"]
        rows.append(
            [corpus, part, m["n"], m["uar"], Scored.from_metrics(m).chance, m["accuracy"],
             m["macro_f1"], f"{cx['parameter']}={cx['chosen']:g}", m["failed_files"]]
        )  # fmt: skip
        plots.append(f"![{corpus} {part}]({path.parent.relative_to(ev).as_posix()}/confusion.png)")
    write_json(ev / "metrics.json", {"run": str(run), "results": results})
    headers = ["corpus", "partition", "n", "UAR", "chance UAR", "accuracy", "macro-F1", "chosen",
               "failed"]  # fmt: skip
    write_report(
        ev / "report.md",
        f"Baseline evaluation of {run}",
        [
            (
                "Model",
                "openSMILE functionals, standardised on train, and a classifier whose complexity "
                "was chosen on devel UAR (see each metrics.json for the grid).",
            ),
            ("Scores", md_table(headers, rows)),
            ("What the numbers mean", meaning(results)),
            ("Confusion matrices", "\n\n".join(plots)),
        ],
    )
    return results


def choice_note(parameter: str, values: int, refit: bool) -> str:
    """Which partition chose a baseline's complexity and what that makes of devel and test."""
    text = (
        f"The complexity {parameter} was chosen among {values} values by the devel UAR of "
        "classifiers trained on train only (the grid is in each metrics.json)."
    )
    if refit:
        text += (
            f" The classifier was then retrained on train + devel at that {parameter}: its devel "
            "scores are on items it was trained on and estimate nothing; the devel UAR that "
            f"chose {parameter} is the grid's."
        )
    else:
        text += (
            f" Devel scores are therefore optimistic (the best of {values} classifiers on these "
            "very items)."
        )
    return (
        text + " Test items took part in no choice, so test UAR is the estimate for new speakers."
    )


def gap_note(label: str, parameter: str, devel: Scored, test: Scored) -> str | None:
    """:func:`~emonet.results.explain.devel_test_note` worded for a complexity chosen on devel."""
    return devel_test_note(label, devel, test, chosen=parameter)


def devel_origin(protocol: str) -> str:
    """How devel came about, as a clause (from :attr:`Partitions.devel_protocol`)."""
    return (
        "devel is EmoSet's own devel partition"
        if protocol == "EmoSet devel partition"
        else protocol
    )


def meaning(results: Mapping[str, Mapping[str, Mapping]]) -> str:
    """What a baseline run's numbers mean, from its ``{corpus: {partition: metrics}}``.

    Which partition chose the complexity, how devel came about, n, chance level and one item's
    weight per corpus and partition, and a warning where devel and test UAR differ by a lot.
    """
    order = {"devel": 0, "test": 1}
    settings = {}
    for c, per in results.items():
        m = next(iter(per.values()))
        cx = m["complexity"]
        settings[c] = (cx["parameter"], len(cx["grid"]), bool(m["refit_on_train_devel"]))
    if len(set(settings.values())) == 1:
        lines = [choice_note(*next(iter(settings.values())))]
    else:
        lines = [f"{c}: {choice_note(*s)}" for c, s in settings.items()]
    for c, per in results.items():
        m = next(iter(per.values()))
        lines.append(f"{c}: {devel_origin(m['devel_protocol'])}.")
        if k := m["failed_files"]:
            lines.append(
                f"{c}: {k} file{'s' if k > 1 else ''} failed feature extraction and "
                f"{'are' if k > 1 else 'is'} not scored (eval/{c}/failed.csv)."
            )
        for p in sorted(per, key=lambda p: order.get(p, 2)):
            trained_on = p == "devel" and settings[c][2]
            label = f"{c}, {p}" + (" (items the classifier was trained on)" if trained_on else "")
            lines.append(describe(label, Scored.from_metrics(per[p])))
    gaps = [
        gap_note(c, settings[c][0], Scored.from_metrics(per["devel"]),
                 Scored.from_metrics(per["test"]))
        for c, per in results.items()
        if "devel" in per and "test" in per and not settings[c][2]
    ]  # fmt: skip
    return bullets(lines) + ("\n" + bullets(gaps) if any(gaps) else "")


# --------------------------------------------------------------------------- all runs


def run_baseline(cfg: BaselineConfig, show_progress: bool = True, command: str = "") -> dict:
    """Every corpus × feature set × classifier; writes ``<out>/report.md`` and ``results.json``.

    Returns ``{"config": …, "runs": {run name: folder}, "results": [row per corpus, feature set
    and classifier with chosen complexity, devel and test UAR]}``; :func:`results_table` turns
    the rows into the table at the top of the report.
    """
    cfg.validate()
    sets = open_emoset(cfg.emoset)
    corpora = cfg.corpora or sorted(sets)
    for i, c in enumerate(corpora):
        if c not in sets:
            raise ConfigError(f"corpora[{i}]: {c!r} is not in EmoSet {cfg.emoset} ({sorted(sets)})")
    if not corpora:
        raise ConfigError(f"corpora: the EmoSet {cfg.emoset} holds no prepared corpus")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", yaml.safe_dump(asdict(cfg), sort_keys=False))
    runs: dict[str, str] = {}
    results = []
    for corpus in corpora:
        for fs in cfg.feature_sets:
            for clf in cfg.classifiers:
                run = run_one(cfg, corpus, fs, clf, show_progress=show_progress)
                runs[run.name] = str(run)
                info = json.loads((run / "eval" / corpus / "baseline.json").read_text())
                row = {
                    "corpus": corpus,
                    "feature_set": fs,
                    "classifier": clf,
                    "run": str(run),
                    "parameter": info["complexity"]["parameter"],
                    "chosen": info["complexity"]["chosen"],
                    "devel_uar": info["complexity"]["devel_uar"],
                    "grid": info["complexity"]["grid"],
                    "failed_files": info["failed_files"],
                    "devel_protocol": info["devel_protocol"],
                }
                test = run / "eval" / corpus / "test" / "metrics.json"
                row["test_uar"] = (
                    json.loads(test.read_text())["uar"] if test.is_file() else float("nan")
                )
                results.append(row)
    result = {"config": asdict(cfg), "runs": runs, "results": results}
    write_json(out / "results.json", result)
    _write_report(cfg, results, out, command)
    return result


def results_table(results: list[dict]) -> str:
    """The markdown table of :func:`run_baseline`'s result rows (the top of its report)."""
    headers = ["corpus", "features", "classifier", "chosen", "devel UAR", "test UAR", "failed"]
    rows = [
        [r["corpus"], r["feature_set"], r["classifier"], f"{r['parameter']}={r['chosen']:g}",
         r["devel_uar"], r["test_uar"], r["failed_files"]]
        for r in results
    ]  # fmt: skip
    return md_table(headers, rows)


def _scored(row: dict, partition: str) -> Scored | None:
    path = Path(row["run"]) / "eval" / row["corpus"] / partition / "metrics.json"
    return Scored.from_metrics(json.loads(path.read_text())) if path.is_file() else None


def results_meaning(cfg: BaselineConfig, results: list[dict]) -> str:
    """What the table of all runs means: how devel came in, n and chance per corpus, gaps."""
    settings = {c: (get_classifier(c).parameter, len(cfg.grid_of(c))) for c in cfg.classifiers}
    if len(set(settings.values())) == 1:
        lines = [choice_note(*next(iter(settings.values())), cfg.refit)]
    else:
        lines = [f"{c}: {choice_note(*s, cfg.refit)}" for c, s in settings.items()]
    lines[-1] += " The devel UAR column is that of the chosen value."
    if cfg.refit:
        lines.append(
            "With refit, devel UAR (train-only classifier) and test UAR (retrained classifier) "
            "come from different classifiers, so no devel–test gaps are judged here."
        )
    for corpus in dict.fromkeys(r["corpus"] for r in results):
        first = next(r for r in results if r["corpus"] == corpus)
        parts = {p: _scored(first, p) for p in ("devel", "test")}
        sized = [f"{p} n = {s.n}" for p, s in parts.items() if s is not None and s.n]
        if not sized:
            continue
        some = next(s for s in parts.values() if s is not None and s.n)
        steps = " / ".join(f"{s.step:.3f} ({p})" for p, s in parts.items() if s and s.n)
        lines.append(
            f"{corpus}: {', '.join(sized)} items in {some.classes} classes; chance UAR "
            f"1/{some.classes} = {some.chance:.3f}; one item moves UAR by up to {steps}; "
            f"{devel_origin(first['devel_protocol'])}."
        )
    if any(r["failed_files"] for r in results):
        lines.append("Runs with failed files (column failed) score fewer items than these.")
    gaps = []
    if not cfg.refit:
        for r in results:
            devel, test = _scored(r, "devel"), _scored(r, "test")
            if devel is not None and test is not None:
                label = f"{r['corpus']} ({r['feature_set']} + {r['classifier']})"
                gaps.append(gap_note(label, r["parameter"], devel, test))
    return bullets(lines) + ("\n" + bullets(gaps) if any(gaps) else "")


def _write_report(cfg: BaselineConfig, results: list[dict], out: Path, command: str) -> None:
    (out / "results.md").unlink(missing_ok=True)  # written by earlier versions
    grid_sections = []
    for clf in cfg.classifiers:
        grid = cfg.grid_of(clf)
        param = get_classifier(clf).parameter
        body = []
        for r in (r for r in results if r["classifier"] == clf):
            cells: list[object] = [r["corpus"], r["feature_set"]]
            for g in r["grid"]:
                mark = " *" if g[param] == r["chosen"] else ""
                warn = " (nc)" if not g["converged"] else ""
                cells.append(f"{g['devel_uar']:.3f}{mark}{warn}")
            body.append(cells)
        grid_sections.append(
            f"### {clf}: devel UAR per {param}\n\n"
            + md_table(["corpus", "features", *(f"{param}={g:g}" for g in grid)], body)
        )
    protocols = sorted({(r["corpus"], r["devel_protocol"]) for r in results})
    method = (
        "openSMILE functionals (opensmile Python package) per file; features standardised with "
        "statistics of train only; the classifier is trained on train for each complexity value "
        "and the value with the best devel UAR is kept (ties: the smaller value). "
        + (
            "The chosen model is retrained on train + devel before test is scored."
            if cfg.refit
            else "Devel and test are scored with that train-fitted model (no refit on devel), "
            "like EmoNet, whose checkpoint is selected on devel and never trained on it."
        )
        + f" Class weights: {cfg.class_weight or 'none'}. "
        "SVM probabilities (p_<label>) are a softmax of the decision scores (ranking only, not "
        "calibrated); logistic regression gives its own probabilities. Files whose extraction "
        "failed are excluded and listed in each run's eval/<corpus>/failed.csv. "
        "* = chosen value; (nc) = solver did not converge.\n\n"
        + "\n".join(f"- {c}: {p}" for c, p in protocols)
    )
    write_report(
        out / "report.md",
        "openSMILE baselines",
        [
            ("Results", results_table(results)),
            ("What the numbers mean", results_meaning(cfg, results)),
            ("Grid search (devel UAR)", "\n\n".join(grid_sections)),
            ("Method", method),
            ("Configuration", f"```yaml\n{yaml.safe_dump(asdict(cfg), sort_keys=False)}```"),
        ],
        command=command,
    )
