"""``emonet train``: train a model from a YAML configuration with ``--set key=value`` overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import app, fail


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
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Train in one of the modes scratch, multi, finetune, last-layer, adapters."""
    from emonet.train.config import ConfigError, load_config
    from emonet.train.loop import describe_failure, train

    try:
        cfg = load_config(config, set_ or [])
    except ConfigError as exc:
        raise fail(str(exc)) from None
    try:
        run = train(cfg, resume=resume, show_progress=not quiet)
    except Exception as exc:  # every failure gets one clear line; tracebacks are for bugs
        from emonet.train.loop import TrainingError

        if isinstance(exc, (ConfigError, TrainingError)) or "EmoSet" in type(exc).__name__:
            raise fail(describe_failure(exc)) from None
        raise
    typer.echo(f"run folder: {run}")
