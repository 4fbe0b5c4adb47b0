"""Named model configurations: ``create_model(name, **overrides)`` and ``list_models()``.

``emonet-wrn`` is the reference CLI's default network (f = 32, widen 1, N = 2, avgpool head over
6-s windows, 128 mels): 3.90 M parameters (3.91 M with batch-norm statistics, as TensorFlow
counts) as a single-corpus model without adapters, like the reference.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from emonet.model.emonet import EmoNet, EmoNetConfig
from emonet.model.frontend import FrontendConfig


@dataclass(frozen=True)
class ModelSpec:
    """A registered configuration: name, one-line description, config."""

    name: str
    description: str
    config: EmoNetConfig = field(default_factory=EmoNetConfig)


_REGISTRY: dict[str, ModelSpec] = {}
ALIASES: dict[str, str] = {"emonet-n2": "emonet-wrn"}
"""Other names accepted by :func:`create_model` (``emonet-n2``: the reference CLI's N = 2)."""


def register(spec: ModelSpec) -> ModelSpec:
    """Add a named configuration (a name can be registered once)."""
    if spec.name in _REGISTRY or spec.name in ALIASES:
        raise ValueError(f"model {spec.name!r} is already registered")
    spec.config.validate()
    _REGISTRY[spec.name] = spec
    return spec


register(
    ModelSpec(
        "emonet-wrn",
        "Reference CLI default: f=32, widen 1, N=2 blocks/stage, avgpool head, 6-s window",
        EmoNetConfig(),
    )
)
register(
    ModelSpec(
        "emonet-resnet26",
        "Rebuffi's ResNet-26: N=4 blocks per stage, otherwise emonet-wrn",
        EmoNetConfig(blocks=4),
    )
)
register(
    ModelSpec(
        "emonet-wrn-attention",
        "emonet-wrn with the attention head (any utterance length)",
        EmoNetConfig(head="attention"),
    )
)
register(
    ModelSpec(
        "emonet-tiny",
        "f=8, N=1, attention head: for tests and the demo",
        EmoNetConfig(filters=8, blocks=1, head="attention", window=2.0),
    )
)


def list_models() -> list[ModelSpec]:
    """Registered configurations in registration order."""
    return list(_REGISTRY.values())


def get_spec(name: str) -> ModelSpec:
    """The registered configuration ``name`` (or an alias); KeyError listing the names."""
    key = ALIASES.get(name, name)
    if key not in _REGISTRY:
        known = sorted([*_REGISTRY, *ALIASES])
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(known)}")
    return _REGISTRY[key]


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ValueError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool):
        if type(value) is not tp:
            raise ValueError(f"{key}: expected {tp.__name__}, got {value!r}")
        return value
    raise ValueError(f"{key}: unsupported type {tp}")


def _override(obj: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """A copy of dataclass ``obj`` with ``overrides`` (nested dicts or dotted keys) applied."""
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    nested: dict[str, dict[str, Any]] = {}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        head, dot, rest = key.partition(".")
        if head not in names:
            raise TypeError(f"unknown model option {prefix}{head!r}; known: {', '.join(names)}")
        if dataclasses.is_dataclass(hints[head]):
            if dot:
                nested.setdefault(head, {})[rest] = value
            elif isinstance(value, dict):
                nested.setdefault(head, {}).update(value)
            elif isinstance(value, hints[head]):
                changes[head] = copy.deepcopy(value)
            else:
                raise ValueError(f"{prefix}{head}: expected a mapping, got {value!r}")
        elif dot:
            raise TypeError(f"unknown model option {prefix}{key!r}: {head} has no fields")
        else:
            changes[head] = _coerce(value, hints[head], prefix + head)
    for head, sub in nested.items():
        changes[head] = _override(changes.get(head, getattr(obj, head)), sub, f"{prefix}{head}.")
    return dataclasses.replace(obj, **changes)


def resolve_config(name: str, **overrides: Any) -> EmoNetConfig:
    """The validated configuration ``name`` with ``overrides`` (``frontend={...}`` or
    ``**{"frontend.n_mels": 64}`` for the front end)."""
    config = _override(copy.deepcopy(get_spec(name).config), overrides)
    return config.validate()


def create_model(name: str = "emonet-wrn", **overrides: Any) -> EmoNet:
    """A new model (no corpora yet) of the registered configuration ``name`` with ``overrides``."""
    return EmoNet(resolve_config(name, **overrides), name=ALIASES.get(name, name))


def config_from_dict(data: dict[str, Any]) -> EmoNetConfig:
    """Rebuild an :class:`EmoNetConfig` from ``dataclasses.asdict`` output (strict: unknown keys
    raise TypeError)."""
    data = dict(data)
    front = data.pop("frontend", {})
    config = _override(EmoNetConfig(frontend=FrontendConfig()), data)
    config = _override(config, {"frontend": dict(front)})
    return config.validate()


__all__ = [
    "ALIASES",
    "ModelSpec",
    "config_from_dict",
    "create_model",
    "get_spec",
    "list_models",
    "register",
    "resolve_config",
]
