"""Typed training configuration: dataclasses loaded from YAML, overridable with ``key=value``.

Every hyper-parameter lives here (never in a folder name); the resolved configuration is written
into each run folder as ``config.yaml``. Unknown keys, wrong types and impossible combinations
raise :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from emonet.config import ConfigError, build, read_yaml, set_key
from emonet.errors import UnknownNameError
from emonet.files import write_text
from emonet.model.emonet import TRANSFER_MODES
from emonet.model.registry import model_config


@dataclass
class DataConfig:
    """Where the data is and how it is cut into batches."""

    emoset: str = "emoset"
    """EmoSet folder holding the prepared corpora."""
    corpora: list[str] = field(default_factory=list)
    """Corpora to train on (one for scratch and transfer modes, several for multi)."""
    window: float = 6.0
    """Seconds per training crop (reference: 6 s single-corpus, 2 s multi-corpus)."""
    crops: Literal["pad", "bucket"] = "pad"
    """pad: random window crops, shorter utterances zero-padded (the reference; batch norm sees
    the padding). bucket: batches of similar-length utterances, each batch cut to its shortest
    (at most the window), so no crop is padded (attention heads only)."""
    batch_size: int = 64
    """Global batch size (split across processes under DDP)."""
    eval_batch_size: int = 32
    """Batch size for scoring devel/test utterances."""
    cache: Literal["memory", "mmap"] = "memory"
    """Decoded audio held in memory, or in memory-mapped files under the run's cache folder."""
    limit: int | None = None
    """Use only the first N items of each partition (quick experiments and tests)."""
    placement: Literal["auto", "host", "device"] = "auto"
    """Where decoded training audio lives: device (crops cut on the GPU), host, or auto (device
    on GPUs, host on the CPU)."""
    device_dtype: Literal["float16", "float32"] = "float16"
    """Precision of training audio held on a GPU (float16 halves its memory; ~-66 dB noise)."""


@dataclass
class ModelConfig:
    """Which architecture (a registered configuration name) and overrides of its fields."""

    name: str = "emonet-wrn"
    """Registered model configuration (see `emonet model-info`)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Fields of the model configuration to change, e.g. {filters: 16, head: attention}."""


@dataclass
class OptimConfig:
    """Optimiser, learning-rate schedule and early stopping."""

    schedule: Literal["reference", "cosine"] = "reference"
    """reference: SGD, lr stages with early stopping; cosine: AdamW with warm-up and cosine decay."""
    lr_stages: list[float] = field(default_factory=lambda: [0.1, 0.01, 0.001])
    """Learning rates of the reference schedule's stages."""
    momentum: float = 0.9
    """SGD momentum (reference schedule)."""
    lr: float = 1e-3
    """Peak learning rate (cosine schedule)."""
    weight_decay: float = 1e-4
    """Weight decay of shared and head parameters."""
    adapter_weight_decay: float | Literal["auto"] = "auto"
    """Weight decay of adapter convs; auto: by training-set size as in the reference."""
    max_epochs: int = 100
    """Epoch limit per stage (reference) or in total (cosine)."""
    warmup_epochs: int = 2
    """Linear warm-up epochs (cosine schedule)."""
    patience: int = 20
    """Epochs without devel-UAR gain before a stage stops."""
    min_delta: float = 0.005
    """Smallest devel-UAR gain that counts as improvement."""
    grad_clip: float | None = None
    """Clip the gradient norm to this value (none by default)."""
    ema_decay: float = 0.0
    """Average the weights over steps with this decay (e.g. 0.995; timm's ModelEma); devel scores
    and checkpoints use the average. Warms up as min(decay, (1 + step) / (10 + step)), so it is
    reached after (10 d - 1) / (1 - d) steps (1,790 for 0.995). 0 turns it off, as in the
    reference."""


@dataclass
class LossConfig:
    """Training objective."""

    name: Literal["ce", "focal"] = "ce"
    """Cross-entropy or focal loss."""
    class_weights: bool = False
    """Weight classes inversely to their training frequency ("balanced")."""
    focal_gamma: float = 2.0
    """Focal loss focusing parameter."""
    focal_alpha: float = 0.25
    """Focal loss scale."""
    label_smoothing: float = 0.0
    """Cross-entropy label smoothing."""


@dataclass
class AugmentConfig:
    """Data augmentation, each off by default (the reference has none)."""

    freq_masks: int = 0
    """SpecAugment: frequency masks per training crop, on the log-mel inside the model."""
    freq_mask_width: int = 16
    """Widest frequency mask, in mel bins."""
    time_masks: int = 0
    """SpecAugment: time masks per training crop."""
    time_mask_width: int = 20
    """Widest time mask, in frames (hop 512 at 16 kHz: 32 ms per frame)."""
    freq_warp: float = 0.0
    """Stretch of each crop's mel axis by a random factor in 1 +- freq_warp (VTLP-like); 0: off."""
    mixup: float = 0.0
    """Mixup within the batch (one corpus per batch): Beta(a, a) with this a; 0 turns it off."""
    gain_db: float = 0.0
    """Random gain per crop, uniform in +-gain_db decibels; 0 turns it off."""


@dataclass
class MultiConfig:
    """Multi-corpus training: which corpus each step draws a batch from."""

    steps_per_epoch: int = 20
    """Optimiser steps per corpus per epoch (the reference uses 20)."""
    sampling: Literal["round-robin", "proportional", "temperature"] = "round-robin"
    """round-robin: each corpus in turn; proportional/temperature: sampled by size."""
    temperature: float = 2.0
    """Sampling temperature (sizes ** (1/T))."""


@dataclass
class DistillConfig:
    """Knowledge distillation from trained models (off while ``teachers`` is empty)."""

    teachers: list[str] = field(default_factory=list)
    """Run folders or checkpoints whose averaged predictions the model also learns, e.g. the
    seeds of a scratch setting; each teaches the training corpora it knows (same labels), and
    every training corpus needs one."""
    weight: float = 0.5
    """Share of the teachers' term in the loss; the labels' loss has 1 - weight."""
    temperature: float = 2.0
    """Softmax temperature of teachers and student in the teachers' term."""


@dataclass
class TransferConfig:
    """How a corpus new to the ``init`` model starts (finetune, last-layer, adapters)."""

    like: str | None = None
    """Corpus of the init model whose batch norms (and head, with head: like) the new corpus
    starts from; default: the model's first corpus."""
    head: Literal["fresh", "like"] = "fresh"
    """fresh: a new random head; like: pooling and hidden layer copied from ``like`` (the
    output layer is always new: the label sets differ)."""


@dataclass
class EngineConfig:
    """Devices, precision and distribution (Lightning Fabric)."""

    accelerator: str = "cpu"
    """cpu, cuda, gpu, mps or auto."""
    devices: int = 1
    """Processes/devices per node; >1 uses DDP."""
    num_nodes: int = 1
    """Nodes (launch with torchrun on each)."""
    precision: Literal["32-true", "bf16-mixed", "16-mixed", "auto"] = "32-true"
    """Numeric precision; 16-mixed only on GPUs; auto: bf16-mixed where the device computes
    bfloat16 natively (recent GPUs, CPUs with AMX or AVX-512-BF16), else 16-mixed on GPUs and
    32-true on CPUs (resolved when a run starts and recorded in its config.yaml)."""
    strategy: str = "auto"
    """Fabric strategy (auto picks DDP for several devices)."""
    threads: int | None = None
    """torch CPU threads per process (default: torch's choice)."""
    compile: bool = False
    """torch.compile the model for training (pays on GPUs for long runs; minutes to compile)."""
    compile_mode: Literal["default", "reduce-overhead", "max-autotune"] = "default"
    """torch.compile's mode with engine.compile: reduce-overhead replays CUDA graphs (for small,
    launch-bound GPU batches), max-autotune also searches kernels (longer compiles)."""
    channels_last: bool = True
    """Channels-last memory format for the convolutions (faster with oneDNN and tensor cores)."""
    cudnn_benchmark: bool = True
    """Let cuDNN pick the fastest convolution algorithms (training crops have fixed shapes)."""
    deterministic: bool = False
    """Deterministic GPU kernels (cuDNN, cuBLAS, torch's deterministic algorithms): runs and
    resumes bit-reproducible on GPUs as they are on the CPU, at some speed."""
    tf32: bool = True
    """TensorFloat-32 matrix maths for 32-true precision on GPUs that have it."""
    sync_batchnorm: bool = False
    """Batch-norm statistics over the global batch under DDP on GPUs (SyncBatchNorm)."""


@dataclass
class TrainConfig:
    """A whole training run."""

    mode: Literal["scratch", "multi", "finetune", "last-layer", "adapters"] = "scratch"
    """Training setting of the paper."""
    out: str = "runs/run"
    """Run folder."""
    init: str | None = None
    """Checkpoint to start from (required by finetune, last-layer and adapters)."""
    seed: int = 0
    """Seed for weights, crops, order and dropout."""
    eval_every: int = 1
    """Score devel every N epochs."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    multi: MultiConfig = field(default_factory=MultiConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)

    def model_overrides(self) -> dict[str, Any]:
        """Options of the new model: the training window (the avgpool head's input size;
        attention heads ignore it), then ``model.overrides``."""
        return {"window": self.data.window, **self.model.overrides}

    def validate(self) -> TrainConfig:
        """Check combinations the types cannot express; returns self."""
        if not self.data.corpora:
            raise ConfigError("data.corpora: list at least one corpus")
        if self.mode != "multi" and len(self.data.corpora) != 1:
            raise ConfigError(
                f"data.corpora: mode {self.mode} trains one corpus, got {self.data.corpora}"
            )
        if self.mode in TRANSFER_MODES and not self.init:
            raise ConfigError(f"init: mode {self.mode} needs a trained checkpoint to start from")
        if self.mode in ("scratch", "multi") and self.init:
            raise ConfigError(f"init: mode {self.mode} trains from random weights; remove init")
        if self.init and not Path(self.init).exists():
            raise ConfigError(f"init: checkpoint {self.init} not found")
        if not self.init:  # the model is built from model.name (transfer takes init's)
            try:
                model = model_config(self.model.name, self.model_overrides(), "model.overrides")
            except UnknownNameError as exc:
                raise ConfigError(f"model.name: {exc}") from None
            check_crops(self.data.crops, model.head)
        for key, value in (
            ("data.window", self.data.window),
            ("data.batch_size", self.data.batch_size),
            ("optim.max_epochs", self.optim.max_epochs),
            ("engine.devices", self.engine.devices),
            ("multi.steps_per_epoch", self.multi.steps_per_epoch),
        ):
            if value <= 0:
                raise ConfigError(f"{key}: must be positive, got {value}")
        if not 0 <= self.optim.ema_decay < 1:
            raise ConfigError(f"optim.ema_decay: must be in [0, 1), got {self.optim.ema_decay}")
        for key, value in dataclasses.asdict(self.augment).items():
            if value < 0:
                raise ConfigError(f"augment.{key}: must be >= 0, got {value}")
        if not 0 <= self.distill.weight <= 1:
            raise ConfigError(f"distill.weight: must be in [0, 1], got {self.distill.weight}")
        if self.distill.temperature <= 0:
            raise ConfigError(
                f"distill.temperature: must be positive, got {self.distill.temperature}"
            )
        if self.augment.freq_warp >= 1:
            raise ConfigError(f"augment.freq_warp: must be below 1, got {self.augment.freq_warp}")
        if self.data.batch_size % (self.engine.devices * self.engine.num_nodes):
            raise ConfigError("data.batch_size: must be divisible by devices × nodes")
        if len(set(self.data.corpora)) != len(self.data.corpora):
            raise ConfigError(f"data.corpora: a corpus is listed twice in {self.data.corpora}")
        world = self.engine.devices * self.engine.num_nodes
        if self.data.batch_size < 2 * world:
            raise ConfigError(
                f"data.batch_size: batch norm needs at least 2 items per process, got "
                f"{self.data.batch_size} for {world} process(es)"
            )
        if self.data.limit is not None and self.data.limit < 2:
            raise ConfigError(f"data.limit: at least 2 items are needed, got {self.data.limit}")
        gpu = self.engine.accelerator in ("cuda", "gpu")
        if self.engine.precision == "16-mixed" and self.engine.accelerator == "cpu":
            raise ConfigError(
                "engine.precision: 16-mixed needs a GPU; use bf16-mixed or 32-true on the CPU"
            )
        if self.engine.sync_batchnorm and not gpu:
            raise ConfigError("engine.sync_batchnorm: needs engine.accelerator cuda")
        if self.engine.compile_mode != "default" and not self.engine.compile:
            raise ConfigError(
                f"engine.compile_mode: {self.engine.compile_mode} needs engine.compile: true"
            )
        if self.engine.compile_mode == "reduce-overhead" and self.engine.accelerator == "cpu":
            raise ConfigError("engine.compile_mode: reduce-overhead (CUDA graphs) needs a GPU")
        if not self.optim.lr_stages:
            raise ConfigError("optim.lr_stages: give at least one learning rate")
        return self


def check_crops(crops: str, head: str) -> None:
    """``data.crops: bucket`` cuts crops shorter than the window: only attention heads take them."""
    if crops == "bucket" and head == "avgpool":
        raise ConfigError(
            "data.crops: bucket gives crops shorter than the window, but the avgpool head takes "
            "fixed windows; use an attention head or crops: pad"
        )


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML file (or defaults), apply ``key=value`` overrides, type-check and validate."""
    data = read_yaml(path) if path is not None else {}
    for assignment in overrides or []:
        set_key(data, assignment)
    return config_from_dict(data, str(path) if path else "")


def config_from_dict(data: dict, where: str = "") -> TrainConfig:
    """Type-check and validate a nested dict (as read from YAML) into a :class:`TrainConfig`."""
    try:
        return build(TrainConfig, data).validate()
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None


def to_dict(config: TrainConfig) -> dict:
    """Plain nested dict of a configuration (for YAML and checkpoints)."""
    return asdict(config)


def dump_config(config: TrainConfig, path: str | Path) -> None:
    """Write the resolved configuration as YAML, atomically."""
    write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))


def describe(cls: type = TrainConfig, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key, from the dataclasses and their docstrings."""
    import ast
    import inspect

    docs: dict[str, str] = {}
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    for a, b in itertools.pairwise(body):
        if (
            isinstance(a, ast.AnnAssign)
            and isinstance(a.target, ast.Name)
            and isinstance(b, ast.Expr)
            and isinstance(b.value, ast.Constant)
        ):
            docs[a.target.id] = " ".join(str(b.value.value).split())
    rows = []
    hints = typing.get_type_hints(cls)
    default = cls()
    for f in fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            rows.extend(describe(tp, f"{key}."))
            continue
        type_name = tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")
        rows.append((key, type_name, repr(getattr(default, f.name)), docs.get(f.name, "")))
    return rows
