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

from emonet.errors import EmoNetError, UnknownNameError
from emonet.model.emonet import EmoNet, EmoNetConfig
from emonet.model.frontend import FrontendConfig


class ModelConfigError(EmoNetError, ValueError):
    """A model option that does not exist or a value it cannot take; the message names it."""


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
    """The registered configuration ``name`` (or an alias); UnknownNameError (a KeyError)
    listing the names."""
    key = ALIASES.get(name, name)
    if key not in _REGISTRY:
        known = sorted([*_REGISTRY, *ALIASES])
        raise UnknownNameError(f"unknown model {name!r}; registered: {', '.join(known)}")
    return _REGISTRY[key]


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ModelConfigError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool):
        if type(value) is not tp:
            raise ModelConfigError(f"{key}: expected {tp.__name__}, got {value!r}")
        return value
    raise ModelConfigError(f"{key}: unsupported type {tp}")


def _override(obj: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """A copy of dataclass ``obj`` with ``overrides`` (nested dicts or dotted keys) applied."""
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj)]
    nested: dict[str, dict[str, Any]] = {}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        head, dot, rest = key.partition(".")
        if head not in names:
            raise ModelConfigError(
                f"unknown model option {prefix}{head!r}; known: {', '.join(names)}"
            )
        if dataclasses.is_dataclass(hints[head]):
            if dot:
                nested.setdefault(head, {})[rest] = value
            elif isinstance(value, dict):
                nested.setdefault(head, {}).update(value)
            elif isinstance(value, hints[head]):
                changes[head] = copy.deepcopy(value)
            else:
                raise ModelConfigError(f"{prefix}{head}: expected a mapping, got {value!r}")
        elif dot:
            raise ModelConfigError(f"unknown model option {prefix}{key!r}: {head} has no fields")
        else:
            changes[head] = _coerce(value, hints[head], prefix + head)
    for head, sub in nested.items():
        changes[head] = _override(changes.get(head, getattr(obj, head)), sub, f"{prefix}{head}.")
    return dataclasses.replace(obj, **changes)


def resolve_config(name: str, **overrides: Any) -> EmoNetConfig:
    """The validated configuration ``name`` with ``overrides`` (``frontend={...}`` or
    ``**{"frontend.n_mels": 64}`` for the front end)."""
    config = _override(copy.deepcopy(get_spec(name).config), overrides)
    return _validated(config)


def _validated(config: EmoNetConfig) -> EmoNetConfig:
    """``config.validate()`` with its ValueError as a ModelConfigError (a user error)."""
    try:
        return config.validate()
    except ModelConfigError:
        raise
    except ValueError as exc:
        raise ModelConfigError(str(exc)) from None


def create_model(name: str = "emonet-wrn", **overrides: Any) -> EmoNet:
    """A new model (no corpora yet) of the registered configuration ``name`` with ``overrides``."""
    return EmoNet(resolve_config(name, **overrides), name=ALIASES.get(name, name))


def config_from_dict(data: dict[str, Any]) -> EmoNetConfig:
    """Rebuild an :class:`EmoNetConfig` from ``dataclasses.asdict`` output (strict: unknown keys
    and bad values raise ModelConfigError)."""
    data = dict(data)
    front = data.pop("frontend", {})
    config = _override(EmoNetConfig(frontend=FrontendConfig()), data)
    config = _override(config, {"frontend": dict(front)})
    return _validated(config)


__all__ = [
    "ALIASES",
    "ModelConfigError",
    "ModelSpec",
    "config_from_dict",
    "create_model",
    "get_spec",
    "list_models",
    "register",
    "resolve_config",
]
