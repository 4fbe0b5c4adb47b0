"""The ``emonet`` Typer application that every command module registers itself on.

It is the one place that formats help: arguments show as upper-case names (``CONFIG``, ``RUN``),
option values as upper-case kinds (``PATH``, ``INTEGER``, ``TEXT``), flags as nothing, in place of
Typer's ``{config}`` and ``<list[str]>`` tags (:class:`EmoNetCommand`, which every
``@app.command`` gets).

It is also the one place where user errors become what the user sees: an
:class:`~emonet.errors.EmoNetError` from the library, a usage error from the argument parser, or
an ``OSError`` naming a file (a path the user gave that the system refuses: missing, not
writable, a folder where a file is expected) is printed as one ``error: …`` line on stderr and
exits with code 2. Every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

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


# One spelling, short form, help text and default for the options several commands share
# (tests/test_cli_options.py checks that they stay alike).
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
"""``--quiet``/``-q``: no progress bars (default off)."""
Device = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="torch device: cpu, cuda or cuda:N (default: cuda when available, else cpu).",
    ),
]
"""``--device``: None means cuda when available, else cpu (:func:`emonet.runtime.torch_device`)."""
EmoSet = Annotated[
    Path, typer.Argument(metavar="EMOSET", help="EmoSet folder with the prepared corpora.")
]
"""The ``EMOSET`` argument of the commands that score a model on prepared corpora."""
Corpora = Annotated[
    list[str] | None,
    typer.Option(
        "--corpus", "-c", help="Only these corpora (repeatable; default: all the model knows)."
    ),
]
"""``--corpus``/``-c``: restrict scoring to these corpora (None: every corpus of the model)."""
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, help="Audio clips per forward pass.")
]
"""``--batch-size``: clips (utterances or segments) per forward pass; default 32 everywhere."""
BATCH_SIZE = 32
"""The default of every ``--batch-size``."""
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="Worker processes for decoding (default: CPU cores, at most 8)."
    ),
]
"""``--workers``: None means the CPU cores, at most 8."""

_KIND_NAMES = {int: "INTEGER", float: "FLOAT", str: "TEXT", bool: "BOOLEAN"}
"""Upper-case names of option value types, as click spells them."""


class EmoNetArgument(TyperArgument):
    """An argument shown by its upper-case name (``CONFIG``), without a type tag."""

    @property
    def display_name_raw(self) -> str:
        """``metavar``, else the upper-case parameter name."""
        return self.metavar or (self.name or "").upper()

    def _usage_display_name(self) -> str:
        """``NAME`` (required), ``[NAME]`` (optional), ``NAME...`` (several) on the usage line."""
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Any) -> str | None:
        """Nothing: the help text says what an argument is."""
        return None


class EmoNetOption(TyperOption):
    """An option whose value shows as an upper-case kind (``PATH``); flags show nothing."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """See :func:`value_metavar`."""
        return value_metavar(self)


def value_metavar(option: TyperOption) -> str | None:
    """What an option's value looks like in help: its metavar, ``[a|b]`` for choices, ``PATH``,
    ``INTEGER``, ``FLOAT``, ``TEXT`` (the element's kind for repeatable options); None for flags."""
    if option.metavar is not None:
        return option.metavar
    if option.is_flag or option.count:
        return None
    desc = option.type_descriptor
    if desc.choices is not None:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices) + "]"
    if desc.is_path:
        return {"file": "FILE", "dir": "FOLDER"}.get(desc.path_type, "PATH")
    tp = desc.annotation
    if desc.is_list:
        (tp,) = getattr(tp, "__args__", (str,))
    return _KIND_NAMES.get(tp, getattr(tp, "__name__", "VALUE").upper())


def _restyle(param: Any) -> Any:
    """Give a Typer parameter the help display of :class:`EmoNetArgument`/:class:`EmoNetOption`."""
    if type(param) is TyperArgument:
        param.__class__ = EmoNetArgument
    elif type(param) is TyperOption:
        param.__class__ = EmoNetOption
    return param


class _Restyled:
    """Mixin: parameters and the lazily made ``--help`` option get EmoNet's help display."""

    params: list[Any]

    def get_help_option(self, ctx: Any) -> Any:
        """Click's ``--help`` flag, shown without a type tag."""
        option = super().get_help_option(ctx)  # type: ignore[misc]
        return _restyle(option) if option is not None else None


class EmoNetCommand(_Restyled, TyperCommand):
    """A command whose help shows ``NAME`` for arguments and ``KIND`` for option values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _restyle(param)


class EmoNetTyper(typer.Typer):
    """A Typer app whose commands are :class:`EmoNetCommand` unless told otherwise."""

    def command(self, name: str | None = None, *, cls: Any = None, **kwargs: Any) -> Any:
        """``typer.Typer.command`` with ``cls`` defaulting to :class:`EmoNetCommand`."""
        return super().command(name, cls=cls or EmoNetCommand, **kwargs)


class EmoNetGroup(_Restyled, TyperGroup):
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


app = EmoNetTyper(
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
