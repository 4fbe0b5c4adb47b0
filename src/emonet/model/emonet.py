"""EmoNet: log-mel front end + wide ResNet with residual adapters + one head per corpus.

Parameters are either *shared* (the 3×3 convolutions, and the attention pooling when
``share_pooling``) or belong to one corpus (its adapters, batch norms and head). Parameter names
say which: ``….adapters.<corpus>.…``, ``….bns.<corpus>.…``, ``backbone.final_bns.<corpus>.…``,
``heads.<corpus>.…``. :meth:`EmoNet.set_mode` makes exactly the parameters of a training setting
trainable and keeps frozen batch norms in inference mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from emonet.model.adapters import AdapterConv2d, check_corpus_name
from emonet.model.amp import autocast_dtype
from emonet.model.augment import SpecAugment
from emonet.model.frontend import FrontendConfig, LogMel, frames_of_seconds
from emonet.model.heads import AttentionPool, AvgPool, Classifier, Head
from emonet.model.resnet import WideResNet

MODES = ("scratch", "multi", "finetune", "last-layer", "adapters")
TRANSFER_MODES = ("finetune", "last-layer", "adapters")
"""Modes that start from a trained checkpoint."""
"""Training settings of the paper (see :meth:`EmoNet.set_mode`)."""

ARCHITECTURE = "emonet-wrn-adapters"
"""Architecture id written into checkpoints; a checkpoint of another architecture is refused."""

STAGES = 3
"""Stride-2 stages of the backbone (each halves frequency and time, rounding up)."""

_PER_CORPUS = ("adapters", "bns", "final_bns", "heads")


@dataclass
class EmoNetConfig:
    """Everything that defines an EmoNet model except its corpora (JSON-serialisable)."""

    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    """Log-mel settings."""
    filters: int = 32
    """Filters of the pre-conv (f); the stages have f·2, f·4, f·8 × widen."""
    widen: int = 1
    """Widen factor of the three stages."""
    blocks: int = 2
    """Basic blocks per stage (N; 4 gives Rebuffi's ResNet-26)."""
    dropout1: float = 0.0
    """Dropout on the adapter input of a block's first conv."""
    dropout2: float = 0.5
    """Dropout on the adapter input of a block's second conv."""
    adapters: bool = True
    """Parallel 1×1 adapters per corpus (False: the "core" path of single-corpus models)."""
    adapter_rank: int | None = None
    """Rank of each adapter (None: full 1×1 kernels, as the reference); a rank-r adapter is a
    product of two factors, r·(in + out) weights where that is fewer than in·out, so a transfer run
    trains fewer parameters (docs/results.md)."""
    head: Literal["avgpool", "attention"] = "avgpool"
    """Pooling: 8×8 average pooling over a fixed window, or attention over any duration."""
    window: float = 6.0
    """Seconds the avgpool head is built for; also the default scoring window."""
    share_pooling: bool = False
    """Attention pooling shared by all corpora (fewer parameters per corpus; beyond the paper)."""
    attention_scale: float = 0.3
    """λ of the attention energies."""
    head_dropout: float = 0.2
    """Dropout of the classifier MLP."""
    attention_hidden: int | None = None
    """Units of the attention pooling's projection (None: the pooled size, as the reference); fewer
    make a corpus's own pooling, and so a transfer run, lighter."""
    head_hidden: int | None = None
    """Hidden units of the classifier MLP (None: half the pooled size, as the reference); fewer
    make a new corpus's head, and so a transfer run, lighter."""
    bn_momentum: float = 0.1
    """Batch-norm running-statistics momentum (PyTorch convention)."""
    bn_eps: float = 1e-5
    """Batch-norm epsilon."""

    def validate(self) -> EmoNetConfig:
        """Raise ValueError naming the first impossible setting; returns self."""
        self.frontend.validate()
        if self.adapter_rank is not None and not self.adapters:
            raise ValueError("adapter_rank: only a model with adapters uses it (adapters is false)")
        for key in ("attention_hidden", "head_hidden", "adapter_rank"):
            value = getattr(self, key)
            if value is not None and value <= 0:
                raise ValueError(f"{key}: must be positive or null, got {value}")
        for key in ("filters", "widen", "blocks"):
            if getattr(self, key) <= 0:
                raise ValueError(f"{key}: must be positive, got {getattr(self, key)}")
        for key in ("dropout1", "dropout2", "head_dropout"):
            if not 0 <= getattr(self, key) < 1:
                raise ValueError(f"{key}: must be in [0, 1), got {getattr(self, key)}")
        if self.head not in ("avgpool", "attention"):
            raise ValueError(f"head: 'avgpool' or 'attention', got {self.head!r}")
        if self.window <= 0:
            raise ValueError(f"window: must be positive, got {self.window}")
        if self.head == "avgpool":
            unused = {
                "attention_hidden": self.attention_hidden is not None,
                "attention_scale": self.attention_scale != EmoNetConfig.attention_scale,
                "share_pooling": self.share_pooling,
            }
            for key, set_ in unused.items():
                if set_:
                    raise ValueError(
                        f"{key}: only the attention head uses it (head is 'avgpool'); "
                        f"set head=attention or leave {key} at its default"
                    )
            _, freq, steps = feature_shape(self)
            if freq < 8 or steps < 8:
                raise ValueError(
                    f"window: the avgpool head needs a final feature map of at least 8×8 cells, "
                    f"{self.window} s with {self.frontend.n_mels} mels gives {freq}×{steps}"
                )
        return self


def feature_shape(config: EmoNetConfig, seconds: float | None = None) -> tuple[int, int, int]:
    """(channels, frequency cells, time cells) of the final feature map for ``seconds`` of audio."""
    freq = config.frontend.n_mels
    steps = frames_of_seconds(config.window if seconds is None else seconds, config.frontend)
    for _ in range(STAGES):
        freq, steps = (freq + 1) // 2, (steps + 1) // 2
    return config.filters * 8 * config.widen, freq, steps


class EmoNet(nn.Module):
    """The multi-corpus network: ``model(waves, lengths, corpus) -> logits`` over that corpus's labels.

    ``corpora`` maps each corpus to its ordered label list (insertion order). Add corpora with
    :meth:`add_corpus`, choose a training setting with :meth:`set_mode`.
    """

    def __init__(self, config: EmoNetConfig | None = None, name: str | None = None) -> None:
        super().__init__()
        self.config = (config or EmoNetConfig()).validate()
        self.name = name
        c = self.config
        self.frontend = LogMel(c.frontend)
        self.spec_augment: SpecAugment | None = None
        """Training-only log-mel masks (set by the training configuration; no weights)."""
        self.backbone = WideResNet(
            c.filters,
            c.widen,
            c.blocks,
            c.dropout1,
            c.dropout2,
            c.adapters,
            c.bn_momentum,
            c.bn_eps,
            c.adapter_rank,
        )
        channels, freq, steps = feature_shape(c)
        if c.head == "avgpool":
            self.pool: nn.Module | None = AvgPool()
            self.embed_dim = AvgPool.output_dim(channels, freq, steps)
        else:
            self.pool = (
                AttentionPool(channels, c.attention_hidden, c.attention_scale)
                if c.share_pooling
                else None
            )
            self.embed_dim = channels
        self.heads = nn.ModuleDict()
        self.corpora: dict[str, list[str]] = {}
        self.mode: str | None = None
        self.mode_corpora: list[str] = []
        self.checkpoint_extra: dict = {}
        self._corpus_of: dict[str, str | None] = {}
        self.to(memory_format=torch.channels_last)

    # ----------------------------------------------------------------------------- corpora
    def add_corpus(
        self, name: str, labels: Sequence[str], like: str | None = None, head_like: bool = False
    ) -> None:
        """Add a corpus with its ordered labels: zero adapters, batch norms copied from ``like``
        (default: the first corpus; fresh if there is none), a new head (with ``head_like``,
        its pooling and hidden layer copied from ``like``'s; the output layer is always new)."""
        check_corpus_name(name)
        if name in self.corpora:
            raise ValueError(f"corpus {name!r} is already in the model")
        labels = list(labels)
        if not labels or not all(isinstance(x, str) and x for x in labels):
            raise ValueError(f"corpus {name!r}: labels must be a non-empty list of strings")
        if len(set(labels)) != len(labels):
            raise ValueError(f"corpus {name!r}: duplicate labels in {labels}")
        if like is None and self.corpora:
            like = next(iter(self.corpora))
        if like is not None and like not in self.corpora:
            raise KeyError(f"like: corpus {like!r} is not in the model ({list(self.corpora)})")
        ref = self.backbone.stem.conv.weight
        self.backbone.add_corpus(name, like)
        c = self.config
        own_pool = None
        if c.head == "attention" and not c.share_pooling:
            own_pool = AttentionPool(self.embed_dim, c.attention_hidden, c.attention_scale)
        classifier = Classifier(self.embed_dim, len(labels), c.head_dropout, c.head_hidden)
        head = Head(own_pool, classifier)
        if head_like and like is not None:
            head.copy_hidden(self.heads[like])
        if ref.device.type != "cpu" or ref.dtype != torch.float32:
            head = head.to(ref.device, ref.dtype)
        self.heads[name] = head
        self.corpora[name] = labels
        self._changed()

    def remove_corpus(self, name: str) -> None:
        """Drop a corpus with its adapters, batch norms and head."""
        self._check_corpora([name])
        self.backbone.remove_corpus(name)
        del self.heads[name]
        del self.corpora[name]
        if name in self.mode_corpora:
            self.mode, self.mode_corpora = None, []
        self._changed()

    def _changed(self) -> None:
        self._corpus_of = {}
        if self.mode is not None:
            self.set_mode(self.mode, self.mode_corpora)
        self.train(self.training)  # new modules follow the model's train/eval state

    def _check_corpora(self, names: Iterable[str]) -> None:
        for n in names:
            if n not in self.corpora:
                raise KeyError(f"corpus {n!r} is not in the model; it has {list(self.corpora)}")

    def _resolve(self, corpus: str | None) -> str:
        if corpus is None:
            if len(self.corpora) != 1:
                raise ValueError(f"name the corpus: the model has {list(self.corpora)}")
            return next(iter(self.corpora))
        self._check_corpora([corpus])
        return corpus

    # ----------------------------------------------------------------------------- parameters
    def corpus_of_parameter(self, name: str) -> str | None:
        """The corpus a parameter (or buffer) name belongs to; None for shared ones."""
        if name not in self._corpus_of:
            parts = name.split(".")
            found = None
            for i, part in enumerate(parts[:-1]):
                if part in _PER_CORPUS and parts[i + 1] in self.corpora:
                    found = parts[i + 1]
                    break
            self._corpus_of[name] = found
        return self._corpus_of[name]

    @staticmethod
    def is_adapter_parameter(name: str) -> bool:
        """True for the weights of a parallel 1×1 adapter."""
        return "adapters" in name.split(".")[:-1]

    @staticmethod
    def parameter_kind(name: str) -> str:
        """``conv`` (shared 3×3), ``adapter``, ``norm`` (backbone BN), ``head`` or ``pool``."""
        parts = name.split(".")[:-1]
        if "heads" in parts:
            return "head"
        if parts and parts[0] == "pool":
            return "pool"
        if "adapters" in parts:
            return "adapter"
        if "bns" in parts or "final_bns" in parts:
            return "norm"
        return "conv"

    def _trainable(self, name: str, mode: str, corpora: Sequence[str]) -> bool:
        corpus = self.corpus_of_parameter(name)
        if mode in ("scratch", "finetune", "multi"):
            return corpus is None or corpus in corpora
        if mode == "last-layer":
            return corpus in corpora and self.parameter_kind(name) == "head"
        return corpus in corpora  # adapters: the corpus's adapters, BNs and head

    def set_mode(self, mode: str, corpus: str | Sequence[str]) -> None:
        """Make exactly the parameters of a training setting trainable.

        scratch / finetune: shared + everything of the corpus; multi: shared + everything of the
        listed corpora; last-layer: only the corpus's head (pooling + MLP); adapters: the corpus's
        adapters, batch norms and head on frozen shared convolutions. Parameters of corpora not
        named are frozen in every mode; frozen batch norms stay in inference mode.
        """
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: choose one of {list(MODES)}")
        corpora = [corpus] if isinstance(corpus, str) else list(corpus)
        if not corpora:
            raise ValueError(f"mode {mode}: name at least one corpus")
        self._check_corpora(corpora)
        if mode != "multi" and len(corpora) != 1:
            raise ValueError(f"mode {mode} trains one corpus, got {corpora}")
        if mode == "adapters" and not self.config.adapters:
            raise ValueError(
                "mode adapters: this model was built without adapters (adapters=False); "
                "use finetune or last-layer, or a model with adapters"
            )
        for name, p in self.named_parameters():
            p.requires_grad_(self._trainable(name, mode, corpora))
        self.mode, self.mode_corpora = mode, corpora
        self.train(self.training)

    def train(self, mode: bool = True) -> EmoNet:
        """Like ``nn.Module.train``, but frozen batch norms (and adapter convs whose parameters
        are all frozen, with their dropout) stay in inference mode."""
        super().train(mode)
        if mode:
            for m in self.modules():
                frozen_bn = (
                    isinstance(m, nn.modules.batchnorm._BatchNorm)
                    and m.weight is not None
                    and not m.weight.requires_grad
                )
                frozen_conv = isinstance(m, AdapterConv2d) and not any(
                    p.requires_grad for p in m.parameters()
                )
                if frozen_bn or frozen_conv:
                    m.train(False)
        return self

    def other_corpus_parameters(self, corpus: str) -> list[nn.Parameter]:
        """Parameters that belong to a corpus other than ``corpus`` (none of them is shared)."""
        return [
            p
            for name, p in self.named_parameters()
            if self.corpus_of_parameter(name) not in (None, corpus)
        ]

    def drop_other_corpus_grads(self, corpus: str) -> None:
        """``.grad = None`` on every parameter of the other corpora (keeps SGD momentum and weight
        decay off them; under DDP their gradients are zero tensors, not None)."""
        for p in self.other_corpus_parameters(corpus):
            p.grad = None

    def parameter_counts(self) -> dict:
        """Parameters: total, trainable, shared (and its 3×3 convs), per corpus by kind, and the
        batch-norm running statistics (buffers; TensorFlow counts them as parameters)."""
        counts = {
            "total": 0,
            "trainable": 0,
            "shared": 0,
            "shared_conv3x3": 0,
            "corpora": {
                c: {"total": 0, "adapters": 0, "batch_norm": 0, "head": 0} for c in self.corpora
            },
            "bn_statistics": 0,
        }
        for name, p in self.named_parameters():
            n = p.numel()
            counts["total"] += n
            counts["trainable"] += n if p.requires_grad else 0
            corpus = self.corpus_of_parameter(name)
            kind = self.parameter_kind(name)
            if corpus is None:
                counts["shared"] += n
                counts["shared_conv3x3"] += n if kind == "conv" else 0
                continue
            entry = counts["corpora"][corpus]
            entry["total"] += n
            key = {"adapter": "adapters", "norm": "batch_norm"}.get(kind, "head")
            entry[key] += n
        for name, b in self.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                counts["bn_statistics"] += b.numel()
        return counts

    # ----------------------------------------------------------------------------- forward
    @property
    def window_samples(self) -> int:
        """Samples of the model's window (the avgpool head's fixed input)."""
        return round(self.config.window * self.config.frontend.sample_rate)

    def features(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None, corpus: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Final feature map ``(B, C, F', T')`` and its valid time steps (None: all valid)."""
        corpus = self._resolve(corpus)
        if self.config.head == "avgpool":
            waves = self._fit_window(waves)
        spec, frame_lengths = self.frontend(waves, lengths)
        if self.spec_augment is not None:
            spec = self.spec_augment(spec)  # acts in training mode only
        weight = self.backbone.stem.conv.weight
        if weight.dtype != spec.dtype and autocast_dtype(spec.device.type) is None:
            spec = spec.to(weight.dtype)  # a model converted with .half(), .bfloat16(), …
        return self.backbone(spec, frame_lengths, corpus)

    def _fit_window(self, waves: torch.Tensor) -> torch.Tensor:
        need = self.window_samples
        if waves.shape[-1] > need:
            raise ValueError(
                f"the avgpool head takes at most {self.config.window} s "
                f"({need} samples), got {waves.shape[-1]}; score longer audio with predict_logits"
            )
        if waves.shape[-1] < need:
            waves = F.pad(waves, (0, need - waves.shape[-1]))
        return waves

    def _pool(self, feats: torch.Tensor, lengths: torch.Tensor | None, corpus: str) -> torch.Tensor:
        head = self.heads[corpus]
        pool = head.pool if head.pool is not None else self.pool
        assert pool is not None
        return pool(feats, lengths)

    def embed(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None, corpus: str | None = None
    ) -> torch.Tensor:
        """Pooled features ``(B, D)`` before the corpus's classifier MLP."""
        corpus = self._resolve(corpus)
        feats, cells = self.features(waves, lengths, corpus)
        return self._pool(feats, cells, corpus)

    def forward(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None, corpus: str | None = None
    ) -> torch.Tensor:
        """Logits ``(B, n_labels)`` over ``corpus``'s labels for 16 kHz waves ``(B, T)``."""
        corpus = self._resolve(corpus)
        return self.heads[corpus].classifier(self.embed(waves, lengths, corpus))

    def window_size(self, window: float | None = None) -> tuple[int, int]:
        """``(size, hop)`` in samples of the avgpool head's scoring windows (hop = 50 %)."""
        seconds = self.config.window if window is None else window
        size = round(seconds * self.config.frontend.sample_rate)
        if size > self.window_samples:
            raise ValueError(
                f"window: the avgpool head takes at most {self.config.window} s, got {seconds}"
            )
        return size, max(1, size // 2)

    def window_plan(
        self, lengths: torch.Tensor, window: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Where the avgpool head's windows (``window`` s, 50 % hop, the last one padded) lie.

        Returns ``(starts (N,), window lengths (N,), owner utterance (N,), windows per utterance
        (B,))`` for utterance ``lengths`` (B,); the one place that decides the windowing.
        """
        size, hop = self.window_size(window)
        lengths = lengths.to(dtype=torch.long)
        n_win = 1 + (lengths - size).clamp(min=0).add(hop - 1).div(hop, rounding_mode="floor")
        utt = torch.repeat_interleave(torch.arange(len(lengths), device=lengths.device), n_win)
        first = torch.cumsum(n_win, 0) - n_win
        starts = (torch.arange(len(utt), device=lengths.device) - first[utt]) * hop
        return starts, (lengths[utt] - starts).clamp(max=size), utt, n_win

    def windows(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None, window: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Cut utterances ``(B, T)`` into the avgpool head's windows (see :meth:`window_plan`):
        ``(segments (N, size), their lengths, owner utterance, windows per utterance)``."""
        return self._cut(waves, lengths, window, None)

    def _cut(self, waves, lengths, window, chunk):
        """:meth:`windows`, or (``chunk`` rows at a time) an iterator over its pieces."""
        size, _ = self.window_size(window)
        if lengths is None:
            lengths = torch.full((waves.shape[0],), waves.shape[1], dtype=torch.long)
        lengths = lengths.to(device=waves.device, dtype=torch.long)
        starts, win_lengths, utt, n_win = self.window_plan(lengths, window)
        padded = F.pad(waves, (0, size))
        offsets = torch.arange(size, device=waves.device)
        if chunk is None:
            return padded[utt[:, None], starts[:, None] + offsets], win_lengths, utt, n_win
        pieces = (
            (
                padded[utt[i : i + chunk, None], starts[i : i + chunk, None] + offsets],
                win_lengths[i : i + chunk],
            )
            for i in range(0, len(utt), chunk)
        )
        return pieces, utt, n_win

    @staticmethod
    def average_windows(
        values: torch.Tensor, owner: torch.Tensor, counts: torch.Tensor
    ) -> torch.Tensor:
        """Per-utterance float32 mean ``(B, D)`` of per-window rows ``(N, D)`` (see :meth:`windows`)."""
        values = values.float()
        total = values.new_zeros(len(counts), values.shape[1]).index_add_(0, owner, values)
        return total / counts[:, None].to(values.dtype)

    def window_grid(
        self, waves: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`windows` with static shapes for graph export: every row cut into as many windows
        as the longest needs. Returns ``(segments (B·W, size), their lengths (B·W,), valid (B, W)
        float mask, windows per utterance (B,))``; windows past an utterance's count are invalid."""
        size, hop = self.window_size()
        total = waves.shape[1]
        count = 1 + (torch.sym_max(total - size, 0) + hop - 1) // hop
        x = F.pad(waves, (0, (count - 1) * hop + size - total))
        segments = x.unfold(-1, size, hop)  # (B, W, size)
        starts = torch.arange(count, device=waves.device) * hop
        win_len = (lengths[:, None] - starts[None, :]).clamp(min=1, max=size)
        n_win = 1 + ((lengths - size).clamp(min=0) + hop - 1) // hop
        valid = (torch.arange(count, device=waves.device)[None, :] < n_win[:, None]).float()
        return segments.reshape(-1, size), win_len.reshape(-1), valid, n_win

    def predict_logits(
        self,
        waves: torch.Tensor,
        lengths: torch.Tensor | None = None,
        corpus: str | None = None,
        window: float | None = None,
        batch_size: int = 64,
    ) -> torch.Tensor:
        """Utterance logits for scoring (call in eval mode).

        attention head: whole utterances in one pass (``window`` is not needed and ignored).
        avgpool head: each utterance is cut into windows of ``window`` seconds (default: the
        model's) with 50 % hop, the last/short one zero-padded, each window padded to the
        model's input; the logits of an utterance's windows are averaged. All windows of the
        batch go through the network together, ``batch_size`` at a time.
        """
        corpus = self._resolve(corpus)
        if self.config.head == "attention":
            return self(waves, lengths, corpus)
        return self._per_window(self, waves, lengths, corpus, window, batch_size)

    def predict_embeddings(
        self,
        waves: torch.Tensor,
        lengths: torch.Tensor | None = None,
        corpus: str | None = None,
        batch_size: int = 64,
    ) -> torch.Tensor:
        """Utterance embeddings (float32): :meth:`embed`, averaged over the windows
        :meth:`predict_logits` scores for the avgpool head, so any length has one."""
        corpus = self._resolve(corpus)
        if self.config.head == "attention":
            return self.embed(waves, lengths, corpus).float()
        return self._per_window(self.embed, waves, lengths, corpus, None, batch_size)

    def _per_window(self, fn, waves, lengths, corpus, window, batch_size) -> torch.Tensor:
        pieces, utt, n_win = self._cut(waves, lengths, window, batch_size)
        parts = [fn(segments, seg_lengths, corpus) for segments, seg_lengths in pieces]
        mean = self.average_windows(torch.cat(parts), utt, n_win)
        return mean if fn is not self else mean.to(parts[0].dtype)

    def forward_masked(
        self, waves: torch.Tensor, lengths: torch.Tensor, corpus: str | None = None
    ) -> torch.Tensor:
        """Logits ``(B, n_labels)`` along the always-masked path (no shape-dependent branches,
        time padded to a multiple of 8 frames), for graph export; equal to :meth:`forward` within
        float error. avgpool head: each row is one window, cells past its end count as zeros."""
        from emonet.model.resnet import apply_mask, downsample_lengths, time_mask

        corpus = self._resolve(corpus)
        lengths = lengths.to(torch.long)
        spec, cells = self._logmel_masked(waves, lengths)
        net = self.backbone
        x = spec.contiguous(memory_format=torch.channels_last)
        mask = time_mask(cells, x.shape[-1], x.dtype)
        x = apply_mask(x, mask)
        x = apply_mask(net.stem(x, corpus), mask)
        for stage in net.stages:
            for block in stage:
                if block.stride != 1:
                    cells = downsample_lengths(cells)
                    mask = time_mask(cells, (x.shape[-1] + 1) // 2, x.dtype)
                x = apply_mask(block(x, mask, corpus), mask)
        x = F.relu(net.final_bns[corpus](x))
        if self.config.head == "avgpool":
            # the eager model pads every window to the model's window: same cells, no mask
            assert isinstance(self.pool, AvgPool)
            pooled = F.avg_pool2d(x * mask, self.pool.pool).flatten(1)
        else:
            pooled = self._pool(x, cells, corpus)
        return self.heads[corpus].classifier(pooled)

    def _logmel_masked(
        self, waves: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel ``(B, 1, n_mels, frames)`` padded to a multiple of 8 frames, valid frames."""
        front = self.frontend
        c = front.config
        multiple = 2**STAGES  # every stride-2 stage sees an even time axis
        total = waves.shape[1]
        keep = torch.arange(total, device=waves.device)[None, :] < lengths[:, None]
        x = torch.where(keep, waves, torch.zeros_like(waves))
        if c.center:
            x = F.pad(x, (c.n_fft // 2, c.n_fft // 2))
        # at least n_fft samples, then as many frames as the longest item, rounded up to 8
        n = x.shape[1]
        frames = 1 + torch.sym_max(n - c.n_fft, 0) // c.hop_length
        steps = (frames + multiple - 1) // multiple * multiple
        x = F.pad(x, (0, (steps - 1) * c.hop_length + c.n_fft - n))
        chunks = x.unfold(-1, c.n_fft, c.hop_length) * front.window  # (B, steps, n_fft)
        spec = torch.view_as_real(torch.fft.rfft(chunks))
        power = spec[..., 0] * spec[..., 0] + spec[..., 1] * spec[..., 1]
        if c.power == 1.0:
            power = power.sqrt()
        mel = torch.log(torch.matmul(power, front.filterbank) + c.log_offset)
        frames = front.frame_lengths(lengths)
        return front.normalize(mel, frames).transpose(1, 2).unsqueeze(1), frames

    def extra_repr(self) -> str:
        return f"name={self.name!r}, corpora={list(self.corpora)}, mode={self.mode!r}"
