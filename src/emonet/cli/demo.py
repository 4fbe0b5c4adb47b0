"""``emonet demo``: the whole pipeline on generated toy corpora, offline, in a few minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import Quiet, app


@app.command("demo")
def demo_command(
    out: Annotated[
        Path, typer.Option(help="Output folder for the toy corpora, runs and report.")
    ] = Path("emonet-demo"),
    sources_only: Annotated[
        bool, typer.Option(help="Only write the toy corpora (in importer layouts) to OUT/sources.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Synthesise toy corpora, then prepare, train, evaluate, compare, predict and export."""
    if sources_only:
        from emonet.demo_data import write_toy_corpora

        for name, folder in write_toy_corpora(out / "sources").items():
            typer.echo(f"{name}: {folder}")
        return
    from emonet.demo import run_demo

    report = run_demo(out, show_progress=not quiet)
    typer.echo(f"report: {report}")
