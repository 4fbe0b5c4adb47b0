"""The ``emonet`` Typer application that every command module registers itself on.

It is also the one place where user errors become what the user sees: an
:class:`~emonet.errors.EmoNetError` from the library, a usage error from the argument parser, or
an ``OSError`` naming a file (a path the user gave that the system refuses: missing, not
writable, a folder where a file is expected) is printed as one ``error: …`` line on stderr and
exits with code 2. Every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from emonet.errors import USER_ERROR_EXIT_CODE, EmoNetError, one_line

_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
"""Click's UsageError (typer vendors click in newer releases, so it is found, not imported)."""


def fail(message: str, code: int = USER_ERROR_EXIT_CODE) -> typer.Exit:
    """Print ``error: message`` as one line on stderr and return the Exit (code 2) to raise."""
    from rich.console import Console
    from rich.markup import escape

    text = escape(one_line(message))
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {text}", highlight=False)
    return typer.Exit(code)


def os_error_message(exc: OSError) -> str:
    """``FILE: problem`` for an OSError about a file (``FILE -> OTHER`` for a rename)."""
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    problem = exc.strerror or type(exc).__name__
    if isinstance(exc, IsADirectoryError):
        problem += " (a folder where a file is expected)"
    return f"{where}: {problem}"


class EmoNetGroup(TyperGroup):
    """The command group: runs a command and turns user errors into one line and exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; user errors end in :func:`fail`, bugs raise with their traceback."""
        try:
            return super().invoke(ctx)
        except EmoNetError as exc:
            _user_error(str(exc))
        except OSError as exc:
            if exc.filename is None:  # not about a path the user gave: a bug
                raise
            _user_error(os_error_message(exc))
        except _UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # shows the help, not an error
                raise
            command = exc.ctx.command_path if exc.ctx is not None else "emonet"
            _user_error(f"{exc.format_message()} (see '{command} --help')")


def _user_error(message: str) -> NoReturn:
    raise fail(message) from None


app = typer.Typer(
    name="emonet",
    cls=EmoNetGroup,
    help="EmoNet: multi-corpus speech emotion recognition with parallel residual adapters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """EmoNet: multi-corpus speech emotion recognition with parallel residual adapters."""
