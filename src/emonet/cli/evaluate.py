"""``emonet evaluate RUN EMOSET``: predictions, metrics, plots, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import BATCH_SIZE, BatchSize, Corpora, Device, EmoSet, Quiet, app


@app.command("evaluate")
def evaluate_command(
    target: Annotated[
        Path,
        typer.Argument(
            metavar="RUN", help="Run folder (uses checkpoints/best) or checkpoint folder."
        ),
    ],
    emoset: EmoSet,
    corpus: Corpora = None,
    partition: Annotated[
        list[str] | None,
        typer.Option(
            "--partition", "-p", help="Partitions to score (repeatable; default: devel and test)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: <run>/eval).")] = None,
    batch_size: BatchSize = BATCH_SIZE,
    device: Device = None,
    quiet: Quiet = False,
) -> None:
    """Score a trained model on EmoSet partitions and write predictions, metrics and plots."""
    import contextlib
    import io

    from emonet.evaluate.runner import evaluate, resolve

    if out is None:  # evaluate's default, to name the report; evaluate() prints any notice
        with contextlib.redirect_stderr(io.StringIO()):
            where = resolve(target)
        out = (where.run or where.checkpoint) / "eval"
    parts = tuple(partition or ("devel", "test"))
    results = evaluate(
        target,
        emoset,
        corpus or None,
        parts,
        out,
        batch_size,
        show_progress=not quiet,
        device=device,
    )
    for c, per in results.items():
        for part, m in per.items():
            typer.echo(
                f"{c:>12} {part:<6} n={m['n']:<5} UAR {m['uar']:.3f}  acc {m['accuracy']:.3f}"
            )
    typer.echo(f"report: {out / 'report.md'}")
