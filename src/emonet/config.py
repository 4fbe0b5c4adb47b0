"""Typed configuration from YAML for every stage: dataclasses built from nested dicts, ``key=value``
overrides and errors that name the key.

The training, baseline and experiment configurations are dataclasses checked by :func:`build`;
this module knows none of them, so every layer above it can use it.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

import yaml

from emonet.errors import EmoNetError


class ConfigError(EmoNetError, ValueError):
    """A configuration problem; the message names the key (and file)."""


class CommaSeparated(str):
    """Text given on the command line without brackets or quotes (``--set data.corpora=a,b``).

    It stays text for a text key; a list-typed key reads it as items split at the commas, each
    parsed as YAML and type-checked like the items of ``[a, b]``.
    """

    def items(self) -> list[Any]:
        """The comma-separated items, each parsed as YAML (an empty item is None)."""
        return [yaml.safe_load(item) if item.strip() else None for item in self.split(",")]


yaml.SafeDumper.add_representer(CommaSeparated, yaml.SafeDumper.represent_str)


class BareInt(int):
    """An integer given on the command line without brackets: a list-typed key reads it as a
    one-item list (``--set seeds=0``), any other key as the number."""


class BareFloat(float):
    """A float given on the command line without brackets (see :class:`BareInt`)."""


yaml.SafeDumper.add_representer(BareInt, yaml.SafeDumper.represent_int)
yaml.SafeDumper.add_representer(BareFloat, yaml.SafeDumper.represent_float)


def _plain(value: Any) -> Any:
    """A bare command-line number as a plain int or float; anything else as it is."""
    if isinstance(value, BareInt):
        return int(value)
    return float(value) if isinstance(value, BareFloat) else value


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _check(value: Any, tp: Any, key: str) -> Any:
    """Return ``value`` coerced to type ``tp`` (ints to floats, lists), or raise naming ``key``."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return str(value) if isinstance(value, CommaSeparated) else _plain(value)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arm in typing.get_args(tp):
            if arm is type(None):
                if value is None:
                    return None
                continue
            try:
                return _check(value, arm, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[-1] if errors else f"{key}: must not be null")
    if origin is list:
        if isinstance(value, CommaSeparated):
            value = value.items()
        elif isinstance(value, (BareInt, BareFloat)):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list ([a, b] or a,b), got {value!r}")
        (arg,) = typing.get_args(tp)
        return [_check(v, arg, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        kt, vt = typing.get_args(tp) or (Any, Any)
        return {_check(k, kt, key): _check(v, vt, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    value = _plain(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)  # YAML 1.1 reads 1e-3 (no dot) as text
    if tp is str and isinstance(value, CommaSeparated):
        return str(value)
    if tp in (int, float, str, bool):
        if type(value) is not tp:
            raise ConfigError(f"{key}: expected {tp.__name__}, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp}")


def build(cls: type, data: Any, prefix: str = "") -> Any:
    """Type-check a nested dict into dataclass ``cls``; errors name the key under ``prefix``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"unknown key {where}{unknown[0]}; known: {sorted(names)}")
    kwargs = {k: _check(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    return cls(**kwargs)


def set_key(data: dict, assignment: str) -> None:
    """Apply one ``a.b.c=value`` override to a nested dict; the value is parsed as YAML.

    Unbracketed, unquoted text is kept as :class:`CommaSeparated`, so that a list-typed key
    also takes ``a,b`` (as well as ``[a, b]``) and a single ``a`` as ``[a]``; a bare number
    (:class:`BareInt`, :class:`BareFloat`) likewise, ``0`` as ``[0]``.
    """
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    parts = key.strip().split(".")
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{key}: {p} is not a section")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{key}: cannot parse value {raw!r} ({exc})") from None
    bare = raw.strip()[:1] not in ("[", "{", '"', "'")
    if isinstance(value, str) and bare:
        value = CommaSeparated(value)
    elif type(value) in (int, float) and bare:
        value = BareInt(value) if type(value) is int else BareFloat(value)
    node[parts[-1]] = value


def read_yaml(path: str | Path) -> dict:
    """A configuration file as a nested dict; missing files and bad YAML are ConfigErrors."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return data
