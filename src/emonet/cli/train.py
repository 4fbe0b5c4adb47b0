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
    import json

    from emonet.audio import AudioError
    from emonet.corpora.emoset import EmoSetError
    from emonet.locking import LockedError
    from emonet.model.checkpoint import CheckpointError
    from emonet.train.config import ConfigError, load_config
    from emonet.train.loop import TrainingError, train

    user_errors = (
        ConfigError,
        TrainingError,
        EmoSetError,
        LockedError,
        CheckpointError,
        AudioError,
    )
    try:
        cfg = load_config(config, set_ or [])
        run = train(cfg, resume=resume, show_progress=not quiet)
    except user_errors as exc:  # one clear line; anything else is a bug and keeps its traceback
        raise fail(str(exc)) from None
    done = json.loads((run / "DONE.json").read_text())
    typer.echo(f"run folder: {run}")
    typer.echo(f"best devel UAR: {done['best_devel_uar']:.3f} ({run / 'checkpoints' / 'best'})")
    typer.echo(f"next: emonet evaluate {run} {cfg.data.emoset}")
