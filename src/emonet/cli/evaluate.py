"""``emonet evaluate RUN_OR_CHECKPOINT EMOSET_DIR``: predictions, metrics, plots, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import app


@app.command("evaluate")
def evaluate_command(
    target: Annotated[
        Path, typer.Argument(help="Run folder (uses checkpoints/best) or checkpoint.")
    ],
    emoset: Annotated[Path, typer.Argument(help="EmoSet folder with the prepared corpora.")],
    corpus: Annotated[
        list[str] | None,
        typer.Option("--corpus", "-c", help="Only these corpora (default: all the model knows)."),
    ] = None,
    partition: Annotated[
        list[str] | None,
        typer.Option("--partition", "-p", help="Partitions to score (default: devel and test)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: <run>/eval).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Utterances per forward pass.")] = 32,
    device: Annotated[
        str | None,
        typer.Option(
            help="torch device, e.g. cpu or cuda (default: cuda when available, else cpu)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Score a trained model on EmoSet partitions and write predictions, metrics and plots."""
    from emonet.evaluate.runner import evaluate

    parts = tuple(partition or ("devel", "test"))
    results = evaluate(target, emoset, corpus or None, parts, out, batch_size, not quiet, device)
    for c, per in results.items():
        for part, m in per.items():
            typer.echo(
                f"{c:>12} {part:<6} n={m['n']:<5} UAR {m['uar']:.3f}  acc {m['accuracy']:.3f}"
            )
