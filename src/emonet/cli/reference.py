"""Reference pages generated from the code, so that the docs cannot drift from it.

``docs/cli.md`` comes from the command-line definitions and ``docs/config.md`` from the typed
training configuration; tests compare the files with what these functions produce.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument

from emonet.cli.app import app


def _default(param: Any) -> str:
    """The default column of a parameter: empty for none, on/off for flags."""
    value = param.default
    if value is None or value == () or (isinstance(param, TyperArgument) and param.required):
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{value}`"


def _usage_name(arg: TyperArgument) -> str:
    """``NAME``, ``[NAME]`` when optional, ``NAME...`` when it takes several values."""
    name = arg.display_name_raw + ("..." if arg.nargs != 1 else "")
    return name if arg.required else f"[{name}]"


def cli_markdown() -> str:
    """Every ``emonet`` command with its arguments and options, as markdown."""
    group = typer.main.get_command(app)
    lines = [
        "# Command-line reference",
        "",
        "Generated from the code by `emonet.cli.reference.cli_markdown()`; "
        "`emonet COMMAND --help` shows the same.",
        "",
    ]
    for name, cmd in sorted(group.commands.items()):
        args = [p for p in cmd.params if isinstance(p, TyperArgument)]
        usage = " ".join(["emonet", name, *map(_usage_name, args), "[OPTIONS]"])
        lines += [f"## `emonet {name}`", "", (cmd.help or "").strip(), "", f"`{usage}`", ""]
        rows = []
        for p in cmd.params:
            if p.name == "help" or getattr(p, "hidden", False):
                continue
            if isinstance(p, TyperArgument):
                what = f"`{p.display_name_raw}`"
            else:
                what = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            text = (getattr(p, "help", None) or "").replace("|", "\\|")
            rows.append(f"| {what} | {text} | {_default(p)} |")
        if rows:
            lines += ["| argument / option | meaning | default |", "|---|---|---|", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


def config_markdown() -> str:
    """Every training configuration key with its type, default and meaning, as markdown."""
    from emonet.train.config import describe

    lines = [
        "# Training configuration reference",
        "",
        "Generated from the typed configuration (`emonet.train.config.TrainConfig`) by "
        "`emonet.cli.reference.config_markdown()`. Set keys in a YAML file (nested sections) "
        "or on the command line with `--set section.key=value`.",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for key, tp, default, meaning in describe():
        tp, meaning = tp.replace("|", "\\|"), meaning.replace("|", "\\|")
        lines.append(f"| `{key}` | `{tp}` | `{default}` | {meaning} |")
    return "\n".join(lines) + "\n"
