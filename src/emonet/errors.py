"""EmoNet's one error family: every user error is an :class:`EmoNetError`.

A user error is bad input, a bad configuration or a bad file; its message names the file or
setting and the problem. The ``emonet`` command prints it as one ``error: …`` line on stderr and
exits with code 2; any other exception is a bug and keeps its traceback. Each package defines its
own kinds (``ConfigError``, ``AudioError``, ``CheckpointError``, …) as subclasses, keeping the
built-in base they always had (``ValueError``, ``RuntimeError``, …) so that existing ``except``
clauses still catch them. This module is the bottom layer: it imports nothing from EmoNet.
"""

from __future__ import annotations

USER_ERROR_EXIT_CODE = 2
"""Exit code of the ``emonet`` command for a user error."""


class EmoNetError(Exception):
    """A user error: bad input, bad config, bad file; the CLI prints it as one line and exits 2."""


class UnknownNameError(EmoNetError, KeyError):
    """A name (corpus, model, classifier, …) that is not registered; the message lists the known
    ones. A ``KeyError`` too, for callers that caught the plain one, but printed without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


def one_line(message: str) -> str:
    """A message as one line: its lines joined with ``; `` (a user error is one line)."""
    parts = [p.strip() for p in str(message).splitlines()]
    return "; ".join(p for p in parts if p)


__all__ = ["USER_ERROR_EXIT_CODE", "EmoNetError", "UnknownNameError", "one_line"]
