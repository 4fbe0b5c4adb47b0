"""EmoNet models: log-mel front end, wide ResNet with residual adapters, per-corpus heads,
named configurations and safetensors checkpoints."""

from emonet.model.adapters import AdapterConv2d, LowRankAdapter
from emonet.model.checkpoint import (
    CheckpointError,
    CheckpointNotFound,
    checkpoint_digest,
    load_checkpoint,
    read_checkpoint_config,
    resolve_checkpoint,
    save_checkpoint,
)
from emonet.model.emonet import ARCHITECTURE, MODES, EmoNet, EmoNetConfig, feature_shape
from emonet.model.frontend import FrontendConfig, LogMel, mel_filterbank
from emonet.model.heads import AttentionPool, AvgPool, Classifier
from emonet.model.parameters import parameter_report
from emonet.model.registry import (
    ModelSpec,
    config_from_dict,
    create_model,
    list_models,
    resolve_config,
)
from emonet.model.resnet import WideResNet

__all__ = [
    "ARCHITECTURE",
    "MODES",
    "AdapterConv2d",
    "AttentionPool",
    "AvgPool",
    "CheckpointError",
    "CheckpointNotFound",
    "Classifier",
    "EmoNet",
    "EmoNetConfig",
    "FrontendConfig",
    "LogMel",
    "LowRankAdapter",
    "ModelSpec",
    "WideResNet",
    "checkpoint_digest",
    "config_from_dict",
    "create_model",
    "feature_shape",
    "list_models",
    "load_checkpoint",
    "mel_filterbank",
    "parameter_report",
    "read_checkpoint_config",
    "resolve_checkpoint",
    "resolve_config",
    "save_checkpoint",
]
