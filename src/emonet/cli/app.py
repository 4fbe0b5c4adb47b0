"""The ``emonet`` Typer application that every command module registers itself on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="emonet",
    help="EmoNet: multi-corpus speech emotion recognition with parallel residual adapters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error in red on stderr and return the Exit to raise."""
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.callback()
def _root() -> None:
    """EmoNet: multi-corpus speech emotion recognition with parallel residual adapters."""
