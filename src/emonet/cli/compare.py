"""``emonet compare RUN_A RUN_B``: per-corpus ΔUAR, McNemar, Holm, bootstrap intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import app


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="Baseline run (or its eval folder).")],
    run_b: Annotated[Path, typer.Argument(help="Run compared against it.")],
    partition: Annotated[
        str, typer.Option("--partition", "-p", help="Partition whose predictions are compared.")
    ] = "test",
    corpus: Annotated[
        list[str] | None,
        typer.Option(
            "--corpus", "-c", help="Only these corpora (repeatable; default: all both runs scored)."
        ),
    ] = None,
    alpha: Annotated[float, typer.Option(help="Significance level (on Holm-adjusted p).")] = 0.05,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the ΔUAR interval.")] = 2000,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: RUN_B/compare-<name of RUN_A>).")
    ] = None,
) -> None:
    """Say, per corpus, whether RUN_B beats RUN_A and whether the difference is significant."""
    from emonet.evaluate.compare import CorpusComparison, compare_runs, comparison_markdown

    out = out or run_b / f"compare-{run_a.resolve().name}"
    names = (run_a.resolve().name, run_b.resolve().name)
    if names[0] == names[1]:
        names = ("A", "B")
    result = compare_runs(
        run_a, run_b, partition, corpus or None, alpha, n_boot, out=out, names=names
    )
    rows = [CorpusComparison(**r) for r in result["corpora"]]
    typer.echo(comparison_markdown(rows, names))
    typer.echo(result["summary"])
    typer.echo(f"report: {out / 'report.md'}")
