"""The one config engine (emonet.config): typed sections from YAML, --set, and errors that name
the key and the file, for every value type (scalars, literals, optionals, lists, dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from emonet.config import ConfigError, build, read_yaml, set_key


@dataclass
class Inner:
    rate: float = 0.1
    kind: Literal["a", "b"] = "a"


@dataclass
class Outer:
    name: str = "x"
    count: int = 1
    limit: int | None = None
    items: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    grid: dict[str, list[float]] = field(default_factory=dict)
    free: dict[str, Any] = field(default_factory=dict)
    inner: Inner = field(default_factory=Inner)


def parsed(*assignments: str) -> Outer:
    data: dict = {}
    for a in assignments:
        set_key(data, a)
    return build(Outer, data)


def test_values_of_every_type_are_coerced_or_refused_by_key():
    cfg = parsed("count=3", "limit=null", "items=a,b", "grid.svm=1e-3,0.01", "inner.rate=2e-4")
    assert (cfg.count, cfg.limit, cfg.items) == (3, None, ["a", "b"])
    assert cfg.grid == {"svm": [0.001, 0.01]} and cfg.inner.rate == 2e-4
    for assignment, message in [
        ("count=2.5", "count: expected int, got 2.5"),
        ("inner.kind=c", r"inner.kind: 'c' is not one of \['a', 'b'\]"),
        ("grid.svm=[fast]", r"grid.svm\[0\]: expected float, got 'fast'"),
        ("grid={svm: 3}", r"grid.svm: expected a list"),
        ("inner.rate=1e-3x", "inner.rate: expected float, got '1e-3x'"),
        ("inner.speed=1", r"unknown key inner.speed; known: \['kind', 'rate'\]"),
        ("items={a: 1}", "items: expected a list"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parsed(assignment)


def test_one_bare_value_is_a_one_item_list_and_stays_a_plain_number_elsewhere():
    """``--set seeds=0`` as ``[0]`` (as ``items=a`` is ``["a"]``); the numbers that reach a
    config are plain ints and floats, and an untyped section's dump reads back as numbers."""
    import yaml

    cfg = parsed("seeds=0", "items=a", "grid.svm=3", "count=4", "inner.rate=2")
    assert (cfg.seeds, cfg.items, cfg.grid, cfg.count) == ([0], ["a"], {"svm": [3.0]}, 4)
    assert type(cfg.seeds[0]) is int and type(cfg.count) is int and type(cfg.inner.rate) is float
    free = parsed("free.epochs=80", "free.lr=0.5").free
    assert yaml.safe_load(yaml.safe_dump(free)) == {"epochs": 80, "lr": 0.5}
    with pytest.raises(ConfigError, match=r"items\[0\]: expected str, got 0"):
        parsed("items=0")


def test_yaml_1_1_exponents_without_a_dot_are_numbers_for_float_keys_only():
    assert parsed("inner.rate=1e-3").inner.rate == 0.001
    assert parsed("name=1e-3").name == "1e-3"  # a text key keeps the text
    assert parsed("free={lr: 1e-3}").free == {"lr": "1e-3"}  # untyped: checked where it is used


def test_set_key_and_read_yaml_errors_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="--set expects key=value"):
        set_key({}, "count")
    with pytest.raises(ConfigError, match="name is not a section"):
        set_key({"name": "x"}, "name.sub=1")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: invalid YAML"):
        read_yaml(bad)
    with pytest.raises(ConfigError, match=r"missing\.yaml: configuration file not found"):
        read_yaml(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="expected a mapping of keys"):
        read_yaml(tmp_path / "list.yaml")
