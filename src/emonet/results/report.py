"""Markdown reports: small tables and one ``report.md`` per evaluate/compare/experiment."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from emonet.files import write_text


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; floats are printed with three decimals."""

    def cell(v: object) -> str:
        if isinstance(v, float):
            return "–" if v != v else f"{v:.3f}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def command_line() -> str:
    """The command that is running, as a user would type it."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("emonet", "__main__.py")):
        argv[0] = "emonet"
    return " ".join(shlex.quote(a) for a in argv)


def write_report(
    path: Path, title: str, sections: Sequence[tuple[str, str]], command: str = ""
) -> Path:
    """``report.md`` with a title, the exact command, then (heading, markdown) sections."""
    parts = [f"# {title}\n"]
    parts.append(f"Command:\n\n```bash\n{command or command_line()}\n```\n")
    for heading, body in sections:
        parts.append(f"## {heading}\n\n{body.rstrip()}\n")
    write_text(Path(path), "\n".join(parts))
    return Path(path)
