"""``emonet prepare``: turn a corpus in its official layout into an EmoSet corpus folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from emonet.cli.app import Quiet, Workers, app, fail


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``key=value`` strings into a dict; the EmoNetError names the bad entry."""
    from emonet.errors import EmoNetError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise EmoNetError(f"--option expects key=value, got {pair!r}")
        out[key.strip()] = value
    return out


@app.command("prepare")
def prepare_command(
    corpus: Annotated[str, typer.Argument(help="Registered corpus name (see `emonet corpora`).")],
    source_dir: Annotated[Path, typer.Argument(help="The corpus as distributed (any nesting).")],
    emoset_dir: Annotated[
        Path, typer.Argument(metavar="EMOSET", help="EmoSet folder to write into.")
    ],
    name: Annotated[
        str | None, typer.Option(help="Name of the corpus inside EmoSet (default: CORPUS).")
    ] = None,
    audio_format: Annotated[
        str, typer.Option("--format", help="Audio format: flac or wav.")
    ] = "flac",
    workers: Workers = None,
    strict: Annotated[bool, typer.Option(help="Fail if any source file is skipped.")] = False,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="Parser option key=value (repeatable)."),
    ] = None,
    quiet: Quiet = False,
    wait: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds to wait while another run prepares the same corpus (default: refuse).",
        ),
    ] = 0.0,
) -> None:
    """Parse, validate, decode/resample in parallel, split by speaker and write atomically."""
    from emonet.corpora.prepare import prepare
    from emonet.locking import LockedError

    console = Console()
    try:
        result = prepare(
            corpus,
            source_dir,
            emoset_dir,
            name=name,
            audio_format=audio_format,
            workers=workers,
            strict=strict,
            options=parse_options(option or []),
            show_progress=not quiet,
            wait=wait,
        )
    except LockedError as exc:  # the command-line way out is an option of this command
        raise fail(f"{exc}, or pass --wait SECONDS") from None
    info = result.info
    state = (
        "already up to date"
        if result.up_to_date
        else (f"{result.converted} files converted, {result.reused} reused from an interrupted run")
    )
    console.print(f"[bold green]{result.folder}[/]: {state}")
    if info is not None:
        parts = ", ".join(f"{k} {v}" for k, v in info.counts["partitions"].items())
        console.print(
            f"{info.counts['items']} items, {len(info.labels)} labels, "
            f"{info.counts['speakers']} speakers, {info.counts['hours']:.2f} h; {parts}; "
            f"protocol: {info.protocol}"
        )
    if result.skipped:
        console.print(
            f"[yellow]{len(result.skipped)} source files skipped[/] (reasons in "
            f"{result.folder / 'skipped.csv'})"
        )
