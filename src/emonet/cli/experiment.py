"""``emonet experiment CONFIG.yaml``: the paper's comparison (scratch, multi, transfer) as a recipe;
``emonet cross-corpus``: every head of a multi-corpus model on every corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import app


@app.command("experiment")
def experiment_command(
    config: Annotated[Path, typer.Argument(help="Experiment YAML (see configs/experiment.yaml).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a key, e.g. --set train.seed=1 (repeatable)."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Train and evaluate every setting on every corpus; write the UAR table with significance.

    Runs are scored on the device they trained on (train.engine.accelerator).
    """
    from emonet.recipes.experiment import load_experiment, run_experiment

    cfg = load_experiment(config, set_ or [])
    run_experiment(cfg, show_progress=not quiet)
    typer.echo((Path(cfg.out) / "results.md").read_text())
    typer.echo(f"report: {Path(cfg.out) / 'report.md'}")


@app.command("cross-corpus")
def cross_corpus_command(
    target: Annotated[Path, typer.Argument(help="Multi-corpus run folder or checkpoint.")],
    emoset: Annotated[Path, typer.Argument(help="EmoSet folder with the prepared corpora.")],
    partition: Annotated[str, typer.Option(help="Partition to score.")] = "test",
    label_map: Annotated[
        Path | None,
        typer.Option(
            help="YAML {corpus: {label: shared emotion or null}} overriding the defaults."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <run>/cross-corpus).")
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="torch device, e.g. cpu or cuda (default: cuda when available, else cpu)."
        ),
    ] = None,
) -> None:
    """Score every corpus head on every other corpus over shared emotions: an N×N UAR matrix."""
    from emonet.evaluate.crosscorpus import cross_corpus_matrix, read_label_map
    from emonet.evaluate.runner import resolve

    where = resolve(target)
    out = out or (where.run or where.checkpoint) / "cross-corpus"
    overrides = read_label_map(label_map) if label_map else None
    table = cross_corpus_matrix(
        where.checkpoint, emoset, None, partition, overrides, out, device=device
    )
    typer.echo(table.round(3).to_string())
    typer.echo(f"report: {out / 'report.md'}")
