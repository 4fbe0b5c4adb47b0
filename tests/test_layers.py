"""The house's layer rule, checked on the source: every import of every module under src/emonet.

Layers, bottom to top (DESIGN.md, "Architecture: the house"): a unit (a package or a top-level
module) may import itself and units of lower layers only; never a unit above it, never another
unit of its own layer, so no two packages import each other and there is no cycle. Imports inside
functions and under ``TYPE_CHECKING`` count like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import REPO

SRC = REPO / "src"

LAYERS: list[tuple[str, ...]] = [
    ("errors",),  # the error family; imports nothing from EmoNet
    # helpers: no audio, no model
    ("locking", "runtime", "config", "files", "progress", "__version__"),
    ("audio",),
    ("corpora", "demo_data"),  # demo_data writes toy corpus sources, like a corpus on disk
    ("data",),
    ("model",),
    ("results",),  # predictions files, metrics, reports, plots: what every stage writes
    ("train", "evaluate", "baselines", "infer"),
    ("recipes", "demo", "emonet"),  # orchestrations; `emonet` is the root's lazy emonet.load
    ("cli",),
    ("__main__",),  # `python -m emonet`
]
"""Units per layer. ``emonet`` is the package root (``emonet/__init__.py``); ``__version__`` is
the root's version string, read by checkpoints (Python has imported the root before any
submodule, so reading it creates no dependency on what the root's functions import)."""

ROOT_NAMES = ("load",)
"""Names the root defines besides ``__version__`` (importing one depends on the root)."""

RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    """``src/emonet/evaluate/runner.py`` → ``emonet.evaluate.runner`` (packages: their name)."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[int, str]]:
    """(line, absolute target) of every ``emonet`` import anywhere in a module's syntax tree."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "emonet":  # `import emonet`: what it reads of the root counts
                    used = root_attributes(tree, alias.asname or "emonet")
                    for name in used or [""]:
                        yield node.lineno, f"emonet.{name}".rstrip(".")
                else:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            if base == "emonet":  # `from emonet import x`: x may be a unit or a root name
                for alias in node.names:
                    yield node.lineno, f"emonet.{alias.name}"
            else:
                yield node.lineno, base


def root_attributes(tree: ast.AST, name: str) -> list[str]:
    """Attributes read from the name the root package was imported as (``emonet.__version__``)."""
    return sorted(
        {
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name
        }
    )


def unit_of(target: str) -> str | None:
    """The unit an ``emonet`` module belongs to (None for third-party modules)."""
    parts = target.split(".")
    if parts[0] != "emonet":
        return None
    if len(parts) == 1:
        return "emonet"
    return "emonet" if parts[1] in ROOT_NAMES else parts[1]


def edges() -> list[tuple[str, int, str, str]]:
    """(file, line, importing unit, imported unit) of every import between different units."""
    out = []
    for path in sorted((SRC / "emonet").rglob("*.py")):
        module = module_name(path)
        source = unit_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, target in imported(tree, module, path.name == "__init__.py"):
            unit = unit_of(target)
            if unit is not None and unit != source:
                out.append((path.relative_to(REPO).as_posix(), line, source, unit))
    return out


def violations(found: list[tuple[str, int, str, str]]) -> list[str]:
    """Each import of a unit that is unknown, above the importer or on the importer's layer."""
    bad = []
    for file, line, source, unit in found:
        where = f"{file}:{line}: {source} imports {unit}"
        if source not in RANK or unit not in RANK:
            bad.append(f"{where}: give {source if source not in RANK else unit} a layer in LAYERS")
        elif RANK[unit] > RANK[source]:
            bad.append(f"{where}, a higher layer")
        elif RANK[unit] == RANK[source]:
            bad.append(f"{where}, on the same layer")
    return bad


def cycles(found: list[tuple[str, int, str, str]]) -> list[list[str]]:
    """Strongly connected groups of more than one unit in the unit import graph (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for _, _, a, b in found:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_every_unit_has_a_layer():
    units = {unit_of(module_name(p)) for p in (SRC / "emonet").rglob("*.py")}
    assert units - set(RANK) == set(), "give new packages and top-level modules a layer"


def test_no_import_goes_up_or_sideways():
    assert violations(edges()) == []


def test_no_package_cycle():
    assert cycles(edges()) == []


@pytest.mark.parametrize(
    ("code", "module", "expected"),
    [
        ("from emonet.evaluate.compare import uar", "emonet.train.loop", "same layer"),
        ("def f():\n    from emonet.recipes import x", "emonet.baselines.run", "higher layer"),
        ("import emonet.cli.app", "emonet.model.emonet", "higher layer"),
        ("from emonet import demo", "emonet.data.cache", "higher layer"),
        ("from ..infer import predictor", "emonet.evaluate.runner", "same layer"),
        ("from emonet import nowhere", "emonet.audio", "give nowhere a layer"),
        ("from emonet.data import x\nfrom emonet.errors import E", "emonet.model.x", None),
        ("from emonet import __version__", "emonet.model.checkpoint", None),
        ("import emonet\nv = emonet.__version__", "emonet.corpora.prepare", None),
        ("import emonet\nm = emonet.load('x')", "emonet.corpora.prepare", "higher layer"),
    ],
)
def test_the_checker_catches_what_it_should(code, module, expected):
    tree = ast.parse(code)
    source = unit_of(module)
    found = [("f.py", line, source, unit_of(t)) for line, t in imported(tree, module, False)]
    found = [e for e in found if e[3] != source]
    bad = violations(found)
    if expected is None:
        assert bad == []
    else:
        assert len(bad) == 1 and expected in bad[0], bad


def test_cycles_are_found():
    found = [("a.py", 1, "x", "y"), ("b.py", 1, "y", "z"), ("c.py", 1, "z", "x")]
    assert cycles([*found, ("d.py", 1, "z", "w")]) == [["x", "y", "z"]]
    assert cycles(found[:2]) == []
