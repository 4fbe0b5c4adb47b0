"""What a run is made of: the data of each corpus (training audio on the training device, devel
utterances, the loss), the model of the mode, the optimiser and its decay groups, and the
process-wide speed settings of the device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console

from emonet.corpora.emoset import open_emoset
from emonet.data.datasets import UtteranceDataset, load_partition
from emonet.data.feeder import CropFeeder
from emonet.model import EmoNet, create_model, load_checkpoint
from emonet.runtime import keep_freed_memory
from emonet.train.augment import set_spec_augment
from emonet.train.config import ConfigError, TrainConfig, check_crops
from emonet.train.losses import balanced_class_weights, make_loss


@dataclass
class CorpusData:
    """One corpus's training crops (on the training device), devel utterances and loss."""

    name: str
    labels: list[str]
    train: CropFeeder
    devel: UtteranceDataset
    loss: torch.nn.Module


def adapter_weight_decay(n_train: int) -> float:
    """The reference's adapter weight decay by training-set size (here applied as real decay)."""
    if n_train >= 10_000:
        return 1e-6
    if n_train >= 1_000:
        return 5e-4
    if n_train >= 500:
        return 2e-3
    return 5e-3


def load_data(
    cfg: TrainConfig, device: torch.device, show_progress: bool = False
) -> dict[str, CorpusData]:
    """Decode each corpus's train and devel partitions; training audio goes where
    ``data.placement`` says (the device on GPUs by default)."""
    emoset = open_emoset(cfg.data.emoset)
    missing = [c for c in cfg.data.corpora if c not in emoset]
    if missing:
        raise ConfigError(
            f"data.corpora: {missing} not found in EmoSet {cfg.data.emoset} "
            f"(it holds: {sorted(emoset) or 'nothing'})"
        )
    placement = cfg.data.placement
    if placement == "auto":
        placement = "host" if device.type == "cpu" else "device"
    feed_device = device if placement == "device" else torch.device("cpu")
    dtype = getattr(torch, cfg.data.device_dtype) if feed_device.type != "cpu" else torch.float32
    cache_dir = Path(cfg.out) / "cache" if cfg.data.cache == "mmap" else None
    out = {}
    for k, name in enumerate(cfg.data.corpora):
        corpus = emoset[name]
        parts = {
            p: load_partition(corpus, p, cache_dir, show_progress, cfg.data.limit)
            for p in ("train", "devel")
        }
        (train_audio, train_y, _), (devel_audio, devel_y, _) = parts["train"], parts["devel"]
        weight = None
        if cfg.loss.class_weights:
            weight = balanced_class_weights(train_y, len(corpus.labels))
        loss = make_loss(
            cfg.loss.name,
            weight,
            cfg.loss.focal_gamma,
            cfg.loss.focal_alpha,
            cfg.loss.label_smoothing,
        )
        feeder = CropFeeder(
            train_audio, train_y, cfg.data.window, cfg.seed * 1000 + k, feed_device, dtype,
            bucket=cfg.data.crops == "bucket",
        )  # fmt: skip
        out[name] = CorpusData(
            name, corpus.labels, feeder, UtteranceDataset(devel_audio, devel_y), loss.to(device)
        )
    return out


def build_model(cfg: TrainConfig, data: dict[str, CorpusData]) -> EmoNet:
    """The model of the mode, on the CPU: new (scratch, multi) or from ``init`` (transfer)."""
    if cfg.mode in ("scratch", "multi"):
        torch.manual_seed(cfg.seed)
        model = create_model(cfg.model.name, **cfg.model_overrides())
        for c in data.values():
            model.add_corpus(c.name, c.labels)
    else:
        assert cfg.init is not None
        model = load_checkpoint(cfg.init)
        (c,) = data.values()
        if c.name in model.corpora:
            if list(model.corpora[c.name]) != c.labels:
                raise ConfigError(
                    f"init: checkpoint {cfg.init} has corpus {c.name} with labels "
                    f"{list(model.corpora[c.name])}, EmoSet has {c.labels}"
                )
        else:
            like = cfg.transfer.like
            if like is not None and like not in model.corpora:
                raise ConfigError(
                    f"transfer.like: corpus {like!r} is not in the checkpoint {cfg.init} "
                    f"({list(model.corpora)})"
                )
            torch.manual_seed(cfg.seed)
            model.add_corpus(c.name, c.labels, like, head_like=cfg.transfer.head == "like")
    model.set_mode(cfg.mode, cfg.data.corpora if cfg.mode == "multi" else cfg.data.corpora[0])
    if not cfg.engine.channels_last:
        model.to(memory_format=torch.contiguous_format)
    check_crops(cfg.data.crops, model.config.head)  # a transfer model brings its own head
    set_spec_augment(model, cfg.augment)
    return model


def make_optimizer(
    model: EmoNet, cfg: TrainConfig, data: dict[str, CorpusData]
) -> torch.optim.Optimizer:
    """SGD (reference) or AdamW (cosine) over the trainable parameters, in decay groups:
    adapters (by their corpus's size), norms and biases (none), the rest."""
    wd_auto = cfg.optim.adapter_weight_decay == "auto"
    groups: dict[tuple[str, float], list[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        corpus = model.corpus_of_parameter(name)
        if model.is_adapter_parameter(name):
            if wd_auto:
                wd = adapter_weight_decay(len(data[corpus].train) if corpus in data else 0)
            else:
                wd = float(cfg.optim.adapter_weight_decay)
            key = ("adapter", wd)
        elif p.ndim <= 1:
            key = ("norm_bias", 0.0)
        else:
            key = ("weight", cfg.optim.weight_decay)
        groups.setdefault(key, []).append(p)
    params = [
        {"params": ps, "weight_decay": wd, "name": f"{kind}@{wd:g}"}
        for (kind, wd), ps in groups.items()
    ]
    if cfg.optim.schedule == "reference":
        return torch.optim.SGD(params, lr=cfg.optim.lr_stages[0], momentum=cfg.optim.momentum)
    return torch.optim.AdamW(params, lr=cfg.optim.lr)


def checkpoint_window(init: str | Path) -> float | None:
    """The input window (s) an avgpool checkpoint was built for; None for other heads."""
    from emonet.model import read_checkpoint_config

    model = read_checkpoint_config(init)["config"]
    return float(model["window"]) if model.get("head") == "avgpool" else None


def crop_to_checkpoint_window(cfg: TrainConfig) -> None:
    """An avgpool checkpoint takes inputs of its own window: transfer crops must match it."""
    window = checkpoint_window(cfg.init)
    if window is not None and window != cfg.data.window:
        Console(stderr=True).print(
            f"data.window: the checkpoint {cfg.init} has an average-pool head built for "
            f"{window} s inputs; training crops of {window} s instead of {cfg.data.window} s"
        )
        cfg.data.window = window


def resolve_precision(cfg: TrainConfig, device: str) -> None:
    """Replace ``engine.precision: auto`` by what the training ``device`` (checked by
    :func:`emonet.runtime.torch_device`) does best."""
    if cfg.engine.precision != "auto":
        return
    kind = torch.device(device).type
    if kind == "cuda":
        cfg.engine.precision = "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    elif kind == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        cfg.engine.precision = "bf16-mixed"
    else:
        cfg.engine.precision = "32-true"


def mixed_precision(precision: str, device_type: str):
    """The mixed-precision plugin for Fabric (None for 32-true): autocast without rounding the
    training waveforms to the autocast dtype (see :class:`emonet.train.precision.KeepInputs`)."""
    if precision not in ("bf16-mixed", "16-mixed"):
        return None
    from emonet.train.precision import KeepInputs

    return KeepInputs(precision, device_type)


def configure_backends(cfg: TrainConfig, device: torch.device) -> str | None:
    """Process-wide speed settings for the training device (threads, allocator, cuDNN, TF32);
    returns a warning when the settings will be slow on this machine."""
    if cfg.engine.threads:
        torch.set_num_threads(cfg.engine.threads)
    if device.type == "cpu":
        keep_freed_memory()
        if (
            cfg.engine.precision == "bf16-mixed"
            and not torch.ops.mkldnn._is_mkldnn_bf16_supported()
        ):
            return (
                f"engine.precision: this CPU ({torch.backends.cpu.get_cpu_capability()}) has no "
                "native bfloat16 (AVX-512-BF16 or AMX): bf16-mixed is emulated and many times "
                "slower than 32-true here"
            )
    elif device.type == "cuda":
        configure_cuda(cfg)
    return None


def configure_cuda(cfg: TrainConfig) -> None:
    """Process-wide CUDA settings (cuDNN search, determinism, TF32); set before Lightning
    checks them and again in every training process."""
    if cfg.engine.deterministic:  # cuBLAS reads it when its first handle is made
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(cfg.engine.deterministic)
    torch.backends.cudnn.deterministic = cfg.engine.deterministic
    torch.backends.cudnn.benchmark = cfg.engine.cudnn_benchmark and not cfg.engine.deterministic
    torch.backends.cuda.matmul.allow_tf32 = cfg.engine.tf32
    torch.backends.cudnn.allow_tf32 = cfg.engine.tf32
