"""``emonet predict RUN PATH… --corpus C``: emotion probabilities for files and folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emonet.cli.app import BATCH_SIZE, BatchSize, Device, Quiet, app, fail

FAILED_EXIT_CODE = 2
"""Exit code when at least one file could not be decoded (the other rows are still written)."""

SHOWN_FLAGGED = 3
"""Flagged files named in the warning line; the rest are counted."""


@app.command("predict")
def predict_command(
    checkpoint: Annotated[
        Path,
        typer.Argument(
            metavar="RUN", help="Run folder (uses checkpoints/best) or checkpoint folder."
        ),
    ],
    paths: Annotated[
        list[Path], typer.Argument(help="Audio files and folders (searched recursively).")
    ],
    corpus: Annotated[
        str | None,
        typer.Option(
            "--corpus", "-c", help="Label set to predict (needed if the model has several)."
        ),
    ] = None,
    window: Annotated[
        float | None, typer.Option(help="Cut files into segments of this many seconds.")
    ] = None,
    hop: Annotated[
        float | None, typer.Option(help="Seconds between segment starts (default: --window).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the table to .csv, .jsonl or .parquet."),
    ] = None,
    embeddings: Annotated[
        Path | None,
        typer.Option(help="Also write pooled features to .npy (+ .index.csv) or .parquet."),
    ] = None,
    batch_size: BatchSize = BATCH_SIZE,
    device: Device = None,
    quiet: Quiet = False,
    progress: Annotated[
        bool, typer.Option(hidden=True, help="Deprecated: --no-progress is --quiet.")
    ] = True,
) -> None:
    """Predict emotions for audio files and folders; exit code 2 if any file could not be read."""
    # rows whose probabilities mean little are flagged (silent, too short; a folder without audio
    # gets a row flagged no audio) and one warning line on stderr says so
    from emonet.files import TABLE_SUFFIXES, write_table
    from emonet.infer.predictor import (
        NO_AUDIO,
        Predictor,
        check_output_file,
        collect_audio_files,
    )
    from emonet.runtime import torch_device

    progress = progress and not quiet  # a progress bar for more than one file

    if output is not None and output.suffix.lower() not in TABLE_SUFFIXES:
        raise fail(f"--output {output}: use {', '.join(TABLE_SUFFIXES)}")
    if embeddings is not None and embeddings.suffix.lower() not in (".npy", ".parquet"):
        raise fail(f"--embeddings {embeddings}: use .npy or .parquet")
    for path, what in ((output, "--output table"), (embeddings, "--embeddings file")):
        if path is not None:
            check_output_file(path, what)  # before any work, not after it
    predictor = Predictor(
        checkpoint,
        corpus,
        device=torch_device(device),
        batch_size=batch_size,
        window=window,
        hop=hop,
    )
    files = collect_audio_files(paths, keep_empty=True)
    if all(f.is_dir() for f in files):
        raise fail("no audio files found in " + ", ".join(map(str, paths)))

    table = _with_progress(predictor.predict_files, files, progress and len(files) > 1, "predict")
    if embeddings is not None:
        emb = _with_progress(
            lambda fs, progress: predictor.embed_files(
                fs, per_segment=predictor.segmented, progress=progress
            ),
            files,
            progress and len(files) > 1,
            "embed",
        )
        emb.save(embeddings)
    if output is not None:
        write_table(output, table)
    else:
        _print_table(table)
    failed = table.loc[table["error"] != "", ["file", "error"]].drop_duplicates()
    file_rows = table[table["level"] == "file"] if "level" in table else table
    n_files = int((file_rows["flag"] != NO_AUDIO).sum())  # folders without audio aside
    if len(failed) == 1 and n_files == 1:  # the only file: its error is the one line
        raise fail(f"{failed['file'].iloc[0]}: {failed['error'].iloc[0]}")
    for f, e in failed.itertuples(index=False):
        typer.echo(f"failed: {f}: {e}", err=True)
    _warn_flagged(table)
    where = f" → {output}" if output is not None else ""
    typer.echo(f"{n_files - len(failed)} of {n_files} files predicted{where}", err=True)
    if len(failed):
        raise typer.Exit(FAILED_EXIT_CODE)


def _warn_flagged(table) -> None:
    """One warning line on stderr if any row is flagged (silent, too short, no audio)."""
    flagged = table[table["flag"] != ""]
    if flagged.empty:
        return
    counts = ", ".join(f"{n} {flag}" for flag, n in flagged["flag"].value_counts().items())
    rows = flagged.drop_duplicates("file")[["file", "flag"]]
    named = "; ".join(f"{f} ({g})" for f, g in rows.head(SHOWN_FLAGGED).itertuples(index=False))
    more = f"; … and {len(rows) - SHOWN_FLAGGED} more files" if len(rows) > SHOWN_FLAGGED else ""
    typer.echo(
        f"warning: {len(flagged)} of {len(table)} rows flagged ({counts}); their probabilities "
        f"mean little: {named}{more} (see the flag column)",
        err=True,
    )


def _with_progress(fn, files: list[Path], show: bool, what: str):
    if not show:
        return fn(files, progress=None)
    from rich.console import Console

    from emonet.progress import progress_bar

    with progress_bar(console=Console(stderr=True)) as bar:
        task = bar.add_task(what, total=len(files))
        return fn(files, progress=lambda n: bar.advance(task, n))


def _print_table(table) -> None:
    """A terminal view: file names relative to their common folder, label names as headers; when
    the probabilities do not fit the terminal, only the winning label's (``--output`` has all)."""
    import os

    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    console = Console()
    view = table.copy()
    files = [str(f) for f in view["file"]]
    try:
        root = os.path.commonpath([os.path.dirname(f) for f in files])
    except ValueError:
        root = ""
    if root:
        view["file"] = [os.path.relpath(f, root) for f in files]
    for col in ("flag", "error"):
        if not (view[col] != "").any():
            view = view.drop(columns=col)
    probs = [c for c in view.columns if c.startswith("p_")]
    text = view.map(lambda v: _cell(v, 2))
    width = sum(max(len(c), text[c].str.len().max()) + 3 for c in text.columns)
    if width > console.width:
        p = view[probs].to_numpy()
        best = pd.Series(p.max(1) if len(p) else [], index=view.index)
        keep = [c for c in view.columns if c not in probs]
        view = view[keep].assign(**{"p(prediction)": best})
        view = view[
            [
                *keep[: keep.index("prediction") + 1],
                "p(prediction)",
                *keep[keep.index("prediction") + 1 :],
            ]
        ]
    out = Table(show_edge=False, pad_edge=False)
    for col in view.columns:
        left = col in ("file", "level", "prediction", "flag", "error")
        out.add_column(col.removeprefix("p_"), justify="left" if left else "right")
    for row in view.itertuples(index=False):
        out.add_row(*(_cell(v, 2) for v in row))
    console.print(out)


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.{digits}f}"
    return str(value)
