"""``emonet corpora``: list the supported corpora."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from emonet.cli.app import app
from emonet.corpora import list_corpora


@app.command("corpora")
def corpora_command() -> None:
    """List supported corpora: language, labels, speakers, expected items and licence."""
    table = Table(title="EmoNet corpora", show_lines=False)
    for col in ("name", "language", "labels", "speakers", "items", "licence"):
        table.add_column(col, overflow="fold")
    for spec in list_corpora():
        labels = ", ".join(spec.labels) if spec.labels else "(from the data)"
        table.add_row(
            spec.name,
            spec.language,
            labels,
            "?" if spec.speakers is None else str(spec.speakers),
            "?" if spec.items is None else str(spec.items),
            spec.license,
        )
    Console(width=200).print(table)
