"""``emonet train``: train a model from a YAML configuration with ``--set key=value`` overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import Quiet, app


@app.command("train")
def train_command(
    config: Annotated[Path, typer.Argument(help="YAML configuration (see configs/).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a key, e.g. --set optim.lr=0.01 (repeatable)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue the run in `out` from checkpoints/last.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Train in one of the modes scratch, multi, finetune, last-layer, adapters."""
    import json

    from emonet.train.config import load_config
    from emonet.train.loop import train

    cfg = load_config(config, set_ or [])  # user errors: one line, exit 2 (cli/app.py)
    run = train(cfg, resume=resume, show_progress=not quiet)
    done = json.loads((run / "DONE.json").read_text())
    typer.echo(f"run folder: {run}")
    typer.echo(f"best devel UAR: {done['best_devel_uar']:.3f} ({run / 'checkpoints' / 'best'})")
    typer.echo(f"next: emonet evaluate {run} {cfg.data.emoset}")
