"""The paper's experiment as one recipe: scratch vs. multi-corpus vs. transfer, with statistics.

For a list of corpora it trains (a) ``scratch`` per corpus, (b) one ``multi`` adapter model on all
of them, (c) per corpus a ``multi`` model on the others followed by ``adapters``, ``finetune`` and
``last-layer`` transfer to it, (d) ``distilled``: per corpus a scratch model that also learns the
averaged predictions of every seed's ``scratch`` model (one model distilled from the seed
ensemble); evaluates every run on the test partition; and writes the table of
test UAR per corpus and setting with McNemar significance against ``scratch`` (Holm over corpora),
win/loss counts and trainable parameters. Every run is resumable: finished runs are reused.

With several ``seeds`` every EmoNet run is trained once per seed (in ``<run>/seed-<k>``); the
table gives mean ± sample standard deviation over the seeds, and each seed is tested against
``scratch`` of the same seed, so a cell says on how many seeds the difference was significant.
A separate table gives each setting's seed ensemble (the seeds' probabilities averaged), written
as evaluation folders in ``ensembles/<setting>``: a system of n models, kept out of the main table.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import mean, stdev
from typing import TYPE_CHECKING, Any, Literal

import yaml

from emonet.config import ConfigError, build, read_yaml, set_key
from emonet.evaluate.compare import compare_corpus
from emonet.evaluate.ensemble import ensemble_corpus
from emonet.evaluate.runner import evaluate
from emonet.evaluate.stats import holm
from emonet.files import write_json, write_text
from emonet.progress import progress_bar
from emonet.results.explain import Scored, bullets, describe, devel_test_note, partition_note
from emonet.results.report import md_table, write_report
from emonet.runtime import torch_device
from emonet.train.config import TrainConfig, config_from_dict
from emonet.train.run_folder import RunFolder
from emonet.train.setup import checkpoint_window

if TYPE_CHECKING:
    from emonet.baselines import BaselineConfig

BASELINES = ("eGeMAPSv02-svm", "ComParE_2016-svm")
SETTINGS = ("scratch", "multi", "adapters", "finetune", "last-layer", "distilled")
TRANSFER = ("adapters", "finetune", "last-layer")
SETTING_MODE = {"distilled": "scratch"}
"""The training mode of a setting whose name is not a mode."""


@dataclass
class ExperimentConfig:
    """What to run: corpora, settings, and training keys shared by or specific to the settings."""

    emoset: str = "emoset"
    """EmoSet folder with the prepared corpora."""
    corpora: list[str] = field(default_factory=list)
    """Corpora of the comparison (at least two)."""
    out: str = "runs/experiment"
    """Folder of all runs and the final report."""
    settings: list[str] = field(default_factory=lambda: list(SETTINGS[:5]))
    """Columns of the table: scratch, multi, adapters, finetune, last-layer, distilled (scratch
    with the seeds' scratch models as teachers; needs scratch)."""
    seeds: list[int] = field(default_factory=lambda: [0])
    """Training seeds: every EmoNet run once per seed (its train.seed); the table gives mean ± sd.
    One seed keeps the runs in `<setting>/<corpus>`; several put them in `.../seed-<k>`."""
    partition: str = "test"
    """Partition the table reports."""
    checkpoint: Literal["best", "last"] = "best"
    """Checkpoint of every EmoNet run that is scored: best (highest devel UAR, the reference's
    choice; scores in `<run>/eval`) or last (the end of training, chosen on nothing; scores in
    `<run>/eval-last`). Transfer runs start from their source's best checkpoint either way."""
    alpha: float = 0.05
    """Significance level on Holm-adjusted McNemar p-values."""
    jobs: int = 1
    """Runs trained at once, each in a process of its own (a transfer run waits for its source
    model). Pays where one run leaves the machine idle: small corpora on a GPU, which the runs
    share. CPU threads per run: `train.engine.threads`, else the cores divided by `jobs`."""
    train: dict[str, Any] = field(default_factory=dict)
    """Training keys for every run (e.g. model, optim, engine; the seed comes from `seeds`)."""
    scratch: dict[str, Any] = field(default_factory=dict)
    """Training keys for scratch runs, over `train`."""
    multi: dict[str, Any] = field(default_factory=dict)
    """Training keys for multi-corpus runs, over `train`."""
    transfer: dict[str, Any] = field(default_factory=dict)
    """Training keys for the transfer runs, over `train`."""
    distilled: dict[str, Any] = field(default_factory=dict)
    """Training keys for the distilled runs, over `train` and `scratch` (e.g. distill: {weight:
    0.5, temperature: 2.0}); their teachers are the scratch runs of every seed."""
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
    if "distilled" in cfg.settings and "scratch" not in cfg.settings:
        raise ConfigError(
            f"{path}: settings: distilled learns from the scratch runs' models; list scratch too"
        )
    _check_seeds(cfg, str(path))
    _check_jobs(cfg, str(path))
    for name in cfg.baselines:
        _split_baseline(name, str(path))
    if cfg.baselines:
        baseline_settings(cfg)  # checks the baseline keys
    return cfg


def _check_seeds(cfg: ExperimentConfig, where: str) -> None:
    """At least one seed, none twice, none negative; no ``seed`` key beside ``seeds``."""
    if not cfg.seeds:
        raise ConfigError(f"{where}: seeds: list at least one seed, e.g. [0]")
    twice = sorted({k for k in cfg.seeds if cfg.seeds.count(k) > 1})
    if twice:
        raise ConfigError(f"{where}: seeds: {twice[0]} is listed twice")
    if min(cfg.seeds) < 0:
        raise ConfigError(f"{where}: seeds: {min(cfg.seeds)} is negative; seeds are >= 0")
    for section in ("train", "scratch", "multi", "transfer", "distilled"):
        if "seed" in getattr(cfg, section):
            raise ConfigError(
                f"{where}: {section}.seed: an experiment takes its seeds from `seeds` (e.g. "
                f"seeds: [{getattr(cfg, section)['seed']}] or [0, 1, 2]), which sets every run's "
                f"seed; remove {section}.seed"
            )


def _check_jobs(cfg: ExperimentConfig, where: str) -> None:
    """``jobs`` is positive, and above 1 only for runs on one device each."""
    if cfg.jobs < 1:
        raise ConfigError(f"{where}: jobs: must be at least 1, got {cfg.jobs}")
    engine = cfg.train.get("engine", {})
    if cfg.jobs > 1 and (engine.get("devices", 1) != 1 or engine.get("num_nodes", 1) != 1):
        raise ConfigError(
            f"{where}: jobs: {cfg.jobs} runs at once need one device per run, but "
            f"train.engine asks for devices {engine.get('devices', 1)} × nodes "
            f"{engine.get('num_nodes', 1)}; use jobs: 1 for distributed runs"
        )


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
    seed: int = 0
    teachers: tuple[str, ...] = ()
    """Runs (names under ``out``) whose models teach this one (distilled)."""


def run_name(cfg: ExperimentConfig, base: str, seed: int) -> str:
    """Folder of a run under ``out``: ``base`` (e.g. ``scratch/emodb``) with one seed, else
    ``base/seed-<k>``."""
    return base if len(cfg.seeds) == 1 else f"{base}/seed-{seed}"


def setting_run(setting: str, corpus: str) -> str:
    """The run (before any seed folder) whose predictions fill a setting's cell of a corpus."""
    return "multi/all" if setting == "multi" else f"{setting}/{corpus}"


def plan(cfg: ExperimentConfig) -> list[Run]:
    """Every run the requested settings need, seed by seed, in an order that respects
    dependencies (an interrupted experiment has whole seeds done first; the distilled runs,
    which learn from every seed's scratch model, come last)."""
    runs: list[Run] = []
    for seed in cfg.seeds:
        name = lambda base, seed=seed: run_name(cfg, base, seed)  # noqa: E731
        if "scratch" in cfg.settings:
            runs += [Run(name(f"scratch/{c}"), "scratch", (c,), seed=seed) for c in cfg.corpora]
        if "multi" in cfg.settings:
            runs.append(Run(name("multi/all"), "multi", tuple(cfg.corpora), seed=seed))
        for c in cfg.corpora:
            wanted = [s for s in TRANSFER if s in cfg.settings]
            if not wanted:
                break
            others = tuple(x for x in cfg.corpora if x != c)
            source = name(f"multi/without-{c}")
            runs.append(Run(source, "multi", others, seed=seed))
            runs += [
                Run(name(f"{s}/{c}"), s, (c,), f"{source}/checkpoints/best", seed) for s in wanted
            ]
    if "distilled" in cfg.settings:
        for seed in cfg.seeds:
            runs += [
                Run(
                    run_name(cfg, f"distilled/{c}", seed),
                    "scratch",
                    (c,),
                    seed=seed,
                    teachers=tuple(run_name(cfg, f"scratch/{c}", k) for k in cfg.seeds),
                )
                for c in cfg.corpora
            ]
    return runs


def train_config(cfg: ExperimentConfig, run: Run) -> TrainConfig:
    """The training configuration of one run."""
    section = {"scratch": cfg.scratch, "multi": cfg.multi}.get(run.mode, cfg.transfer)
    data = _merge(cfg.train, section)
    if run.teachers:
        data = _merge(data, cfg.distilled)
        teachers = [str(Path(cfg.out) / t) for t in run.teachers]
        data = _merge(data, {"distill": {"teachers": teachers}})
    out = Path(cfg.out) / run.name
    data = _merge(
        data,
        {
            "mode": run.mode,
            "seed": run.seed,
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
    todo = [run for run in plan(cfg) if not _finished(cfg, run)]  # refuses other settings
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "experiment.yaml", yaml.safe_dump(asdict(cfg), sort_keys=False))
    if cfg.jobs > 1 and len(todo) > 1:
        _run_in_processes(cfg, todo, show_progress)
    else:
        for run in todo:
            train_and_score(cfg, run, show_progress)
    if cfg.baselines:
        from emonet.baselines import run_one

        bcfg = baseline_settings(cfg)
        for name in cfg.baselines:
            features, classifier = _split_baseline(name)
            for c in cfg.corpora:
                run_one(bcfg, c, features, classifier, show_progress=show_progress)
    return summarise(cfg)


def _finished(cfg: ExperimentConfig, run: Run) -> bool:
    """Whether a run is trained (with the plan's settings: else ConfigError) and scored."""
    folder = Path(cfg.out) / run.name
    trained = (folder / "DONE.json").is_file()
    if trained:
        _check_trained_settings(cfg, run, folder)
    scores = scores_folder(folder, cfg.checkpoint)
    return trained and (scores / run.corpora[0] / cfg.partition / "metrics.json").is_file()


def train_and_score(
    cfg: ExperimentConfig, run: Run, show_progress: bool = True, threads: int | None = None
) -> None:
    """Train (or resume) one run of the experiment and score its devel and reported partitions,
    skipping whichever of the two is done. ``threads``: torch CPU threads for this process."""
    from emonet.train.loop import train

    if threads:
        import torch

        torch.set_num_threads(threads)
    folder = Path(cfg.out) / run.name
    config = train_config(cfg, run)
    if not (folder / "DONE.json").is_file():
        resume = (folder / "checkpoints" / "last" / "trainer_state.json").is_file()
        train(config, resume=resume, show_progress=show_progress)
    scores = scores_folder(folder, cfg.checkpoint)
    if not (scores / run.corpora[0] / cfg.partition / "metrics.json").is_file():
        evaluate(
            folder if cfg.checkpoint == "best" else folder / "checkpoints" / "last",
            Path(cfg.emoset),
            list(run.corpora),
            ("devel", cfg.partition),
            out=scores,
            show_progress=show_progress,
            device=torch_device(config.engine.accelerator),
        )


def _needs(run: Run) -> set[str]:
    """The runs whose models this one needs: a transfer run's source, a distilled run's
    teachers."""
    source = {Path(run.init).parent.parent.as_posix()} if run.init else set()
    return source | set(run.teachers)


def _run_in_processes(cfg: ExperimentConfig, runs: list[Run], show_progress: bool) -> None:
    """Train and score ``runs`` ``cfg.jobs`` at a time, in plan order, each in a spawned process;
    a transfer run starts once its source model is trained, a distilled run once its teachers
    are. The first failed run's error is raised after the runs already started have ended."""
    import multiprocessing
    import os
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    engine = cfg.train.get("engine", {})
    threads = engine.get("threads") or max(1, (os.cpu_count() or 1) // cfg.jobs)
    waiting = {run.name for run in runs}  # runs not finished yet
    pending = list(runs)
    running: dict[Future, Run] = {}
    ctx = multiprocessing.get_context("spawn")
    with (
        progress_bar(show_progress, description="experiment: {task.description}") as progress,
        ProcessPoolExecutor(max_workers=cfg.jobs, mp_context=ctx) as pool,
    ):
        task = progress.add_task(f"{cfg.jobs} runs at a time", total=len(runs))
        while pending or running:
            ready = [r for r in pending if not _needs(r) & waiting]
            for run in ready[: cfg.jobs - len(running)]:
                pending.remove(run)
                running[pool.submit(train_and_score, cfg, run, False, threads)] = run
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                run = running.pop(future)
                if future.exception() is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise future.exception()  # type: ignore[misc]
                waiting.discard(run.name)
                progress.advance(task)
                if show_progress and progress.disable:
                    print(f"experiment: {run.name} done ({len(runs) - len(waiting)}/{len(runs)})",
                          flush=True)  # fmt: skip


def _check_trained_settings(cfg: ExperimentConfig, run: Run, folder: Path) -> None:
    """Refuse to reuse a finished run that was trained with other settings than the plan's (a
    seed, a learning rate, a schedule, another source model, other teachers or none) or from
    checkpoints retrained since. Where the experiment folder lives may differ, and so may what
    training resolved: ``precision: auto`` and a transfer run's window (that of its source's
    avgpool head)."""
    if not (folder / "config.yaml").is_file():
        return
    planned = train_config(cfg, run)
    if planned.init and Path(planned.init).is_dir():
        planned.data.window = checkpoint_window(planned.init) or planned.data.window
    run_folder = RunFolder(folder)
    sources = run_folder.changed_sources(planned)  # the checkpoints where they are now
    root = _trained_root(folder, run)
    ignore = set()
    if root is not None:  # runs named under out compare by their place in the experiment
        _rebase(planned, Path(cfg.out), root)
    else:
        ignore = {"out", "init", "distill.teachers"}
    if planned.engine.precision == "auto":
        ignore.add("engine.precision")
    changed = run_folder.changed_settings(planned, "experiment", frozenset(ignore))
    changed = "; ".join(filter(None, [changed, sources]))
    if changed:
        raise ConfigError(
            f"experiment: {folder} holds a finished run trained with other settings "
            f"({changed}); use another out, or move that run away"
        )


def _trained_root(folder: Path, run: Run) -> Path | None:
    """The experiment folder a finished run was trained in (from the ``out`` it recorded; None
    if that does not end in the run's name, e.g. a run copied in from elsewhere)."""
    try:
        saved = read_yaml(folder / "config.yaml").get("out")
    except ConfigError:
        return None  # changed_settings names the unreadable file
    depth = len(Path(run.name).parts)
    if not isinstance(saved, str) or Path(saved).parts[-depth:] != Path(run.name).parts:
        return None
    return Path(*Path(saved).parts[:-depth])


def _rebase(planned: TrainConfig, root: Path, trained_root: Path) -> None:
    """Name the runs ``planned`` names under ``root`` (out, init, teachers) under
    ``trained_root`` instead, where the finished run recorded them."""

    def move(path: str) -> str:
        p = Path(path)
        return str(trained_root / p.relative_to(root)) if p.is_relative_to(root) else path

    planned.out = move(planned.out)
    planned.init = move(planned.init) if planned.init else planned.init
    planned.distill.teachers = [move(t) for t in planned.distill.teachers]


def scores_folder(run: Path, checkpoint: str = "best") -> Path:
    """Where a run's scores live: ``<run>/eval`` (best checkpoint; baselines) or ``eval-last``."""
    return run / ("eval-last" if checkpoint == "last" else "eval")


def _uar(folder: Path, corpus: str, partition: str, checkpoint: str = "best") -> float:
    import json

    path = scores_folder(folder, checkpoint) / corpus / partition / "metrics.json"
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


def _scored(run: Path, corpus: str, partition: str, checkpoint: str = "best") -> Scored | None:
    import json

    path = scores_folder(run, checkpoint) / corpus / partition / "metrics.json"
    return Scored.from_metrics(json.loads(path.read_text())) if path.is_file() else None


def meaning(
    cfg: ExperimentConfig,
    folder: dict[str, dict[str, Path]],
    by_seed: dict[int, dict[str, dict[str, Path]]] | None = None,
) -> str:
    """What the table's numbers mean: partition, n, chance UAR per corpus, devel-test gaps.

    ``folder`` holds the run of each setting and corpus (the first seed's); with several seeds,
    ``by_seed`` holds every seed's, and each seed's devel-test gaps are named with it.
    """
    first = [*cfg.settings, *cfg.baselines][0]
    lines = [partition_note(cfg.partition, selected_on_devel=cfg.checkpoint == "best")]
    for c in cfg.corpora:
        scored = _scored(folder[first][c], c, cfg.partition, _checkpoint(cfg, first))
        if scored is not None:
            lines.append(describe(f"{c} ({first}, {cfg.partition})", scored))
    if by_seed and len(by_seed) > 1:
        lines.append(
            f"{len(by_seed)} training seeds: a ± is the standard deviation over seeds, the spread "
            "that training randomness alone causes (every seed is scored on the same items); the "
            "sampling noise of the test items comes on top of it."
        )
        lines.append(
            "A ▲k/n says that on k of the n seeds McNemar's test against scratch of the same "
            "seed held after the Holm adjustment; with few items even a large ΔUAR can miss it "
            "(see `emonet compare` for intervals). A difference significant on most seeds is one "
            "that does not hang on one lucky training run."
        )
    else:
        lines.append(
            "A ▲/▼ needs McNemar's test to hold after the Holm adjustment; with few items even a "
            "large ΔUAR can miss it (see `emonet compare` for intervals)."
        )
    gaps = []
    if cfg.partition != "devel":
        runs: dict[int | None, dict[str, dict[str, Path]]] = (
            dict(by_seed) if by_seed and len(by_seed) > 1 else {None: folder}
        )
        for seed, where in runs.items():
            for s in cfg.settings:
                for c in cfg.corpora:
                    devel = _scored(where[s][c], c, "devel", cfg.checkpoint)
                    test = _scored(where[s][c], c, cfg.partition, cfg.checkpoint)
                    label = f"{c} ({s})" if seed is None else f"{c} ({s}, seed {seed})"
                    if devel is not None and test is not None:
                        gaps.append(devel_test_note(label, devel, test))
    return bullets(lines) + ("\n" + bullets(gaps) if any(gaps) else "")


def _checkpoint(cfg: ExperimentConfig, column: str) -> str:
    """The checkpoint a column's scores come from (baselines have one model: "best")."""
    return cfg.checkpoint if column in cfg.settings else "best"


def _count(x: float) -> str:
    """A count averaged over seeds: ``2`` when whole, else ``2.3``."""
    return str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def _legend(cfg: ExperimentConfig) -> str:
    """What the table's cells, marks and rows are."""
    n, k = len(cfg.seeds), len(cfg.corpora)
    choice = (
        "model selection on devel"
        if cfg.checkpoint == "best"
        else "EmoNet: the last checkpoint of every run, chosen on nothing"
    )
    test = f"McNemar exact test, Holm-adjusted over the {k} corpora"
    if n == 1:
        seeds = (
            f"One training seed ({cfg.seeds[0]}): at these test-set sizes a difference of a few "
            "points can be training noise; `seeds: [0, 1, 2]` gives mean ± sd over seeds. "
            f"▲/▼: significantly better/worse than scratch on that corpus ({test}, "
            f"α = {cfg.alpha})."
        )
    else:
        seeds = (
            f"EmoNet cells: mean ± standard deviation (sample, n − 1) of UAR over the {n} "
            f"training seeds {list(cfg.seeds)}; the ± is the spread from training randomness "
            "alone (every seed is scored on the same items); the mean row's ± is the standard "
            f"deviation over seeds of the corpus average. ▲j/{n} (▼j/{n}): on j of the {n} seeds "
            f"significantly better (worse) than scratch of the same seed ({test} within each "
            f"seed, α = {cfg.alpha}). Baselines are deterministic: one number, tested against "
            "scratch of every seed. Wins / losses: corpora above / below scratch (significantly, "
            "in parentheses), averaged over the seeds."
        )
    return (
        f"UAR on the {cfg.partition} partition ({choice}). {seeds} multi: one "
        "model for all corpora. adapters/finetune/last-layer: transfer to the corpus from a "
        "multi model trained on the other corpora. distilled: scratch training that also learns "
        "the averaged predictions of the scratch models of every seed (one model). Trainable "
        "parameters are those of the first corpus's run (multi: the whole shared model; "
        "baselines: weights and biases of the classifier). Baseline columns are openSMILE "
        "functionals with a linear classifier whose complexity was chosen on devel."
    )


def _predictions(run: Path, corpus: str, partition: str, checkpoint: str = "best") -> Path:
    return scores_folder(run, checkpoint) / corpus / partition / "predictions.csv"


def _seed_ensembles(
    cfg: ExperimentConfig, folders: dict[int, dict[str, dict[str, Path]]]
) -> dict[str, dict[str, float]]:
    """UAR of each setting's seed ensemble per corpus; its folders go to ``ensembles/<setting>``."""
    return {
        s: {
            c: ensemble_corpus(
                [_predictions(f[s][c], c, cfg.partition, cfg.checkpoint) for f in folders.values()],
                Path(cfg.out) / "ensembles" / s / c / cfg.partition,
                c,
                cfg.partition,
            ).uar
            for c in cfg.corpora
        }
        for s in cfg.settings
    }


def _ensemble_section(
    cfg: ExperimentConfig, ensembles: dict[str, dict[str, float]], uars: dict[str, dict[str, float]]
) -> str:
    """The seed ensembles' table beside the single models' mean, and what it is."""
    names = list(ensembles)
    body: list[list[object]] = [[c, *(ensembles[s][c] for s in names)] for c in cfg.corpora]
    body.append(["mean", *(mean(ensembles[s].values()) for s in names)])
    body.append(["mean of single models", *(mean(uars[s].values()) for s in names)])
    n = len(cfg.seeds)
    return (
        md_table(["corpus", *names], body)
        + f"\nUAR on {cfg.partition} of each setting's {n} seeds predicting together: the mean "
        f"of their class probabilities (soft voting). A system of {n} models, {n} times the "
        "compute at inference, so it is kept out of the table above; compare it with the "
        "baselines with `emonet compare` on its folder "
        f"(`{Path(cfg.out) / 'ensembles' / names[0]}`).\n"
    )


def summarise(cfg: ExperimentConfig) -> dict:
    """Table of test UAR per corpus and setting (mean ± sd over seeds), significance against
    scratch seed by seed, win/loss counts, parameters; writes ``results.json`` and ``report.md``.

    Returns what ``results.json`` holds (``uar``: means over seeds, baselines their one value;
    ``uar_sd``; ``uar_per_seed`` and ``tests`` as lists in the order of ``seeds``;
    ``significant``: seeds significantly better/worse per cell) plus ``table`` (markdown).
    """
    out = Path(cfg.out)
    seeds = list(cfg.seeds)
    several = len(seeds) > 1
    columns = [*cfg.settings, *cfg.baselines]
    folders: dict[int, dict[str, dict[str, Path]]] = {}
    for k in seeds:
        folders[k] = {
            s: {c: out / run_name(cfg, setting_run(s, c), k) for c in cfg.corpora}
            for s in cfg.settings
        }
        for b in cfg.baselines:
            folders[k][b] = dict.fromkeys(cfg.corpora, out / "baselines" / b)
    first = folders[seeds[0]]
    per_seed = {
        s: {
            c: [_uar(folders[k][s][c], c, cfg.partition, cfg.checkpoint) for k in seeds]
            for c in cfg.corpora
        }
        for s in cfg.settings
    }
    uars = {s: {c: mean(v) for c, v in per.items()} for s, per in per_seed.items()}
    for b in cfg.baselines:
        uars[b] = {c: _uar(first[b][c], c, cfg.partition) for c in cfg.corpora}
    sds = {
        s: {c: (stdev(v) if several else None) for c, v in per.items()}
        for s, per in per_seed.items()
    }
    tests: dict[str, dict[str, list[dict]]] = {}
    if "scratch" in cfg.settings:
        for s in (x for x in columns if x != "scratch"):
            tests[s] = {c: [] for c in cfg.corpora}
            for k in seeds:
                rows = [
                    compare_corpus(
                        c,
                        _predictions(folders[k]["scratch"][c], c, cfg.partition, cfg.checkpoint),
                        _predictions(folders[k][s][c], c, cfg.partition, _checkpoint(cfg, s)),
                    )
                    for c in cfg.corpora
                ]
                for r, p in zip(rows, holm([r.p_exact for r in rows]), strict=True):
                    r.p_holm = p
                    tests[s][r.corpus].append(asdict(r))
    significant = {
        s: {
            c: {
                "better": sum(t["delta"] > 0 and t["p_holm"] < cfg.alpha for t in ts),
                "worse": sum(t["delta"] < 0 and t["p_holm"] < cfg.alpha for t in ts),
                "seeds": len(ts),
            }
            for c, ts in per.items()
        }
        for s, per in tests.items()
    }
    ensembles = _seed_ensembles(cfg, folders) if several else {}
    params = {}
    for b in cfg.baselines:
        params[b] = _baseline_parameters(first[b][cfg.corpora[0]], cfg.corpora[0], cfg.partition)
    for s in cfg.settings:
        if s == "multi":
            params[s] = _trainable(first[s][cfg.corpora[0]], "multi", list(cfg.corpora))
        else:
            c = cfg.corpora[0]
            params[s] = _trainable(first[s][c], SETTING_MODE.get(s, s), c)

    def cell(s: str, c: str) -> str:
        text = f"{uars[s][c]:.3f}"
        if several and s in sds:
            text += f" ± {sds[s][c]:.3f}"
        if s in significant:
            sig = significant[s][c]
            if several:
                text += f" ▲{sig['better']}/{len(seeds)}" if sig["better"] else ""
                text += f" ▼{sig['worse']}/{len(seeds)}" if sig["worse"] else ""
            else:
                text += " ▲" if sig["better"] else " ▼" if sig["worse"] else ""
        return text

    def mean_cell(s: str) -> str:
        if not (several and s in per_seed):
            return f"{mean(uars[s].values()):.3f}"
        averages = [mean(per_seed[s][c][i] for c in cfg.corpora) for i in range(len(seeds))]
        return f"{mean(averages):.3f} ± {stdev(averages):.3f}"

    def wins_cell(s: str) -> str:
        if s not in tests:
            return "–"
        counts = []
        for i in range(len(seeds)):
            t = [tests[s][c][i] for c in cfg.corpora]
            sig = [x["p_holm"] < cfg.alpha for x in t]
            counts.append((
                sum(x["delta"] > 0 for x in t),
                sum(x["delta"] > 0 and g for x, g in zip(t, sig, strict=True)),
                sum(x["delta"] < 0 for x in t),
                sum(x["delta"] < 0 and g for x, g in zip(t, sig, strict=True)),
            ))  # fmt: skip
        w, sw, los, sl = (_count(mean(col)) for col in zip(*counts, strict=True))
        return f"{w} ({sw}) / {los} ({sl})"

    headers = ["corpus", *columns]
    body: list[list[object]] = [[c, *(cell(s, c) for s in columns)] for c in cfg.corpora]
    mean_row: list[object] = ["mean", *(mean_cell(s) for s in columns)]
    wins = "wins / losses vs scratch (significant)" + (", mean over seeds" if several else "")
    wl: list[object] = [wins, *(wins_cell(s) for s in columns)]
    par: list[object] = ["trainable parameters"] + [f"{params[s]:,}" for s in columns]
    table = md_table(headers, [*body, mean_row, wl, par])
    result = {
        "config": asdict(cfg),
        "seeds": seeds,
        "uar": uars,
        "uar_sd": sds,
        "uar_per_seed": per_seed,
        "tests": tests,
        "significant": significant,
        "trainable_parameters": params,
        "ensemble_uar": ensembles,
    }
    write_json(out / "results.json", result)
    (out / "results.md").unlink(missing_ok=True)  # earlier versions wrote the table there too
    write_report(
        out / "report.md",
        "Multi-corpus EmoNet against single-corpus training",
        [
            ("Results", table + "\n" + _legend(cfg)),
            *([("Seed ensembles", _ensemble_section(cfg, ensembles, uars))] if ensembles else []),
            ("What the numbers mean", meaning(cfg, first, folders if several else None)),
            ("Configuration", f"```yaml\n{yaml.safe_dump(asdict(cfg), sort_keys=False)}```"),
            (
                "Runs",
                "\n".join(
                    f"- `{r.name}`: {r.mode} on {', '.join(r.corpora)}, seed {r.seed}"
                    for r in plan(cfg)
                ),
            ),
        ],
    )
    return {**result, "table": table}
