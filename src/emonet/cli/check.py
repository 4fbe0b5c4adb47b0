"""``emonet check``: verify an EmoSet's tables, checksums and audio before training on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from emonet.cli.app import Quiet, Workers, app, fail
from emonet.progress import progress_bar

SHOWN = 20
"""Problems listed per corpus; the rest are counted."""


@app.command("check")
def check_command(
    emoset_dir: Annotated[
        Path, typer.Argument(metavar="EMOSET", help="EmoSet folder (or one corpus folder in it).")
    ],
    decode: Annotated[
        bool, typer.Option(help="Decode every audio file (off: tables and checksums only).")
    ] = True,
    workers: Workers = None,
    quiet: Quiet = False,
) -> None:
    """Verify tables, checksums and rows of every corpus and decode its audio; exit 2 on problems."""
    from emonet.corpora.emoset import check_emoset

    console = Console()
    bars: dict[str, int] = {}
    with progress_bar(not quiet, description="[bold]check {task.description}") as progress:

        def advance(corpus: str, done: int, total: int) -> None:
            if corpus not in bars:
                bars[corpus] = progress.add_task(corpus, total=total)
            progress.update(bars[corpus], completed=done)

        reports = check_emoset(
            emoset_dir,
            decode=decode,
            workers=workers or min(os.cpu_count() or 1, 8),
            progress=advance,
        )
    bad = 0
    for r in reports:
        audio = f", {r.decoded} decoded ({r.seconds / 3600:.2f} h)" if decode else ""
        if r.ok:
            console.print(f"[green]ok[/] {r.name}: {r.items} items{audio}", highlight=False)
            continue
        bad += 1
        console.print(
            f"[bold red]{len(r.problems)} problems[/] {r.name}: {r.items} items{audio}",
            highlight=False,
        )
        for p in r.problems[:SHOWN]:
            console.print(f"  {p}", highlight=False, soft_wrap=True)
        if len(r.problems) > SHOWN:
            console.print(f"  … and {len(r.problems) - SHOWN} more", highlight=False)
    if bad:
        raise fail(f"{bad} of {len(reports)} corpora in {emoset_dir} have problems")
