"""``emonet baseline``: openSMILE functionals + SVM/other classifiers on EmoSet partitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import Quiet, app


@app.command("baseline")
def baseline_command(
    config: Annotated[Path, typer.Argument(help="Baseline YAML (see configs/baseline.yaml).")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s", help="Override a key, e.g. --set corpora=emodb,urdu (repeatable)."
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Functionals + classifiers per corpus; complexity chosen on devel; runs like EmoNet's."""
    from emonet.baselines.run import load_baseline_config, results_table, run_baseline
    from emonet.results.report import command_line

    cfg = load_baseline_config(config, set_ or [])
    result = run_baseline(cfg, show_progress=not quiet, command=command_line())
    typer.echo(results_table(result["results"]))
    typer.echo(f"report: {Path(cfg.out) / 'report.md'}")
