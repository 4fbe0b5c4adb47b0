"""The ``emonet`` command line: thin wrappers over the library, one module per command."""

from __future__ import annotations

from emonet.cli import baseline as _baseline  # noqa: F401
from emonet.cli import check as _check  # noqa: F401
from emonet.cli import compare as _compare  # noqa: F401  (registers the command)
from emonet.cli import corpora as _corpora  # noqa: F401
from emonet.cli import demo as _demo  # noqa: F401
from emonet.cli import ensemble as _ensemble  # noqa: F401
from emonet.cli import evaluate as _evaluate  # noqa: F401
from emonet.cli import experiment as _experiment  # noqa: F401
from emonet.cli import export as _export  # noqa: F401
from emonet.cli import model_info as _model_info  # noqa: F401
from emonet.cli import predict as _predict  # noqa: F401
from emonet.cli import prepare as _prepare  # noqa: F401
from emonet.cli import train as _train  # noqa: F401
from emonet.cli.app import app


def main() -> None:
    """Entry point of the ``emonet`` console script."""
    app()


__all__ = ["app", "main"]
