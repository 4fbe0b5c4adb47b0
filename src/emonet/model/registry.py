"""Named model configurations: ``create_model(name, **overrides)`` and ``list_models()``.

``emonet-wrn`` is the reference CLI's default network (f = 32, widen 1, N = 2, avgpool head over
6-s windows, 128 mels): 3.90 M parameters (3.91 M with batch-norm statistics, as TensorFlow
counts) as a single-corpus model without adapters, like the reference.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emonet.config import ConfigError, build
from emonet.errors import UnknownNameError
from emonet.model.emonet import EmoNet, EmoNetConfig
from emonet.model.frontend import FrontendConfig


class ModelConfigError(ConfigError):
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


def _merge(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` (nested dicts, dotted keys or config objects) merged into nested dict ``data``."""
    for key, value in overrides.items():
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ModelConfigError(f"unknown key model.{key}: {part} has no fields")
        if dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            value = _merge(copy.deepcopy(node[last]), value)
        node[last] = value
    return data


def _override(obj: Any, overrides: dict[str, Any], where: str = "model") -> Any:
    """A copy of config dataclass ``obj`` with ``overrides`` applied, type-checked by the one
    config engine (:func:`emonet.config.build`); errors name the key under ``where``."""
    try:
        return build(type(obj), _merge(dataclasses.asdict(obj), overrides), where)
    except ConfigError as exc:
        raise ModelConfigError(str(exc)) from None


def model_config(name: str, overrides: dict[str, Any], where: str = "model") -> EmoNetConfig:
    """The validated configuration ``name`` with ``overrides``; errors name the key under
    ``where`` (e.g. ``model.overrides`` in a training configuration)."""
    return _validated(_override(copy.deepcopy(get_spec(name).config), overrides, where))


def resolve_config(name: str, **overrides: Any) -> EmoNetConfig:
    """The validated configuration ``name`` with ``overrides`` (``frontend={...}`` or
    ``**{"frontend.n_mels": 64}`` for the front end)."""
    return model_config(name, overrides)


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
    return _validated(_override(EmoNetConfig(frontend=FrontendConfig()), data))


__all__ = [
    "ALIASES",
    "ModelConfigError",
    "ModelSpec",
    "config_from_dict",
    "create_model",
    "get_spec",
    "list_models",
    "model_config",
    "register",
    "resolve_config",
]
