"""Progress bars: one look for every long job, and none where no one watches (a log file gets no
bar fragments; callers that run long print a line per step instead)."""

from __future__ import annotations

from rich import get_console
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_bar(
    show: bool = True,
    *,
    transient: bool = True,
    console: Console | None = None,
    description: str = "[bold]{task.description}",
) -> Progress:
    """A bar showing what runs, done / total, time elapsed and time left; disabled unless
    ``show`` and ``console`` (default: rich's) is a terminal."""
    console = console or get_console()
    columns = (
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    enabled = show and console.is_terminal
    return Progress(*columns, disable=not enabled, transient=transient, console=console)


__all__ = ["progress_bar"]
