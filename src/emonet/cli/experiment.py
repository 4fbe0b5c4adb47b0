"""``emonet experiment CONFIG.yaml``: the paper's comparison (scratch, multi, transfer) as a recipe;
``emonet cross-corpus``: every head of a multi-corpus model on every corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import BATCH_SIZE, BatchSize, Corpora, Device, EmoSet, Quiet, app


@app.command("experiment")
def experiment_command(
    config: Annotated[Path, typer.Argument(help="Experiment YAML (see configs/experiment.yaml).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a key, e.g. --set seeds=0,1,2 (repeatable)."),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Train and evaluate every setting on every corpus; write the UAR table with significance.

    With several seeds every EmoNet run is trained once per seed and the table gives mean ± sd.
    Runs are scored on the device they trained on (train.engine.accelerator).
    """
    from emonet.recipes.experiment import load_experiment, run_experiment

    cfg = load_experiment(config, set_ or [])
    result = run_experiment(cfg, show_progress=not quiet)
    typer.echo(result["table"])
    typer.echo(f"report: {Path(cfg.out) / 'report.md'}")


@app.command("cross-corpus")
def cross_corpus_command(
    target: Annotated[
        Path,
        typer.Argument(
            metavar="RUN",
            help="Multi-corpus run folder (uses checkpoints/best) or checkpoint folder.",
        ),
    ],
    emoset: EmoSet,
    corpus: Corpora = None,
    partition: Annotated[
        str, typer.Option("--partition", "-p", help="Partition to score.")
    ] = "test",
    label_map: Annotated[
        Path | None,
        typer.Option(
            help="YAML file mapping each corpus's labels to shared emotions (or null), "
            "overriding the defaults."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <run>/cross-corpus).")
    ] = None,
    batch_size: BatchSize = BATCH_SIZE,
    device: Device = None,
    quiet: Quiet = False,
) -> None:
    """Score every corpus head on every other corpus over shared emotions: an N×N UAR matrix."""
    from emonet.evaluate.crosscorpus import cross_corpus_matrix, read_label_map
    from emonet.evaluate.runner import resolve

    where = resolve(target)
    out = out or (where.run or where.checkpoint) / "cross-corpus"
    overrides = read_label_map(label_map) if label_map else None
    table = cross_corpus_matrix(
        where.checkpoint,
        emoset,
        corpus or None,
        partition,
        overrides,
        out,
        batch_size=batch_size,
        device=device,
        show_progress=not quiet,
    )
    typer.echo(table.round(3).to_string())
    typer.echo(f"report: {out / 'report.md'}")
