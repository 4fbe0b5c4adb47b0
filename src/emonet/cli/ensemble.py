"""``emonet ensemble RUN RUN... --out DIR``: average the runs' class probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import app


@app.command("ensemble")
def ensemble_command(
    runs: Annotated[
        list[Path], typer.Argument(metavar="RUN...", help="Runs (or eval folders), two or more.")
    ],
    out: Annotated[Path, typer.Option(help="Output folder: an evaluation folder of its own.")],
    partition: Annotated[
        list[str] | None,
        typer.Option(
            "--partition", "-p", help="Partitions to combine (repeatable; default: devel and test)."
        ),
    ] = None,
    corpus: Annotated[
        list[str] | None,
        typer.Option(
            "--corpus", "-c", help="Only these corpora (repeatable; default: all every run scored)."
        ),
    ] = None,
    weight: Annotated[
        list[float] | None,
        typer.Option("--weight", "-w", help="One weight per run, in order (default: equal)."),
    ] = None,
) -> None:
    """Soft-vote several runs: the mean of their probabilities, scored like a run."""
    from emonet.evaluate.ensemble import EnsembleScore, ensemble_markdown, ensemble_runs

    result = ensemble_runs(
        runs, out, tuple(partition or ("devel", "test")), corpus or None, weight or None
    )
    rows = [EnsembleScore(**{k: v for k, v in s.items() if k != "gain"}) for s in result["scores"]]
    typer.echo(ensemble_markdown(rows))
    for s in result["skipped"]:
        typer.echo(f"skipped {s['corpus']} {s['partition']}: {s['reason']}", err=True)
    typer.echo(f"report: {out / 'report.md'}")
