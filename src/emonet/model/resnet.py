"""The wide ResNet of residual-adapter networks, built from :class:`AdapterConv2d`.

Pre-conv 3×3 (``filters``) + BN (no ReLU); three stages of ``filters·2·widen``, ``·4·widen``,
``·8·widen`` channels with ``blocks`` basic blocks each; the first block of every stage has stride 2
and a shortcut of 2×2 average pooling concatenated with zero channels; block = conv-BN → ReLU →
conv-BN → + shortcut → ReLU; final BN + ReLU. Every BN belongs to a corpus.

Batches of unequal lengths: the time axis carries a mask that follows the strides (ceil), and
every convolution and shortcut sees zeros past an item's end, exactly as the zero padding of the
item alone — so in inference mode an item's features do not depend on what it is batched with.
(In training mode batch-norm statistics include the padded cells, as in the reference.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emonet.model.adapters import AdapterConv2d, new_batch_norm


def downsample_lengths(lengths: torch.Tensor) -> torch.Tensor:
    """Valid time steps after a stride-2 layer with 'same' padding: ``ceil(n / 2)``."""
    return (lengths + 1) // 2


def time_mask(lengths: torch.Tensor, steps: int, dtype: torch.dtype) -> torch.Tensor:
    """``(B, 1, 1, steps)`` mask, 1 on valid time steps and 0 past each item's length."""
    return (torch.arange(steps, device=lengths.device) < lengths[:, None]).to(dtype)[:, None, None]


class BasicBlock(nn.Module):
    """Two adapter convs with a residual connection; stride 2 and a zero-padded pooled shortcut
    where the shape changes."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        dropout1: float,
        dropout2: float,
        adapters: bool,
        bn_momentum: float,
        bn_eps: float,
        adapter_rank: int | None = None,
    ) -> None:
        super().__init__()
        kw = {
            "adapters": adapters,
            "adapter_rank": adapter_rank,
            "bn_momentum": bn_momentum,
            "bn_eps": bn_eps,
        }
        self.conv1 = AdapterConv2d(in_channels, out_channels, stride, dropout1, **kw)
        self.conv2 = AdapterConv2d(out_channels, out_channels, 1, dropout2, **kw)
        self.stride = stride
        self.extra_channels = out_channels - in_channels
        if self.extra_channels < 0:
            raise ValueError("a block cannot reduce the number of channels")

    def add_corpus(self, name: str, like: str | None) -> None:
        """Adapters and batch norms for a new corpus."""
        self.conv1.add_corpus(name, like)
        self.conv2.add_corpus(name, like)

    def remove_corpus(self, name: str) -> None:
        """Drop a corpus's adapters and batch norms."""
        self.conv1.remove_corpus(name)
        self.conv2.remove_corpus(name)

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """Identity, or 2×2 average pooling (cells past the edge count as zeros) + zero channels."""
        if self.stride != 1:
            # ceil_mode covers odd sizes; dividing by 4 always counts the cells past the edge
            # as zeros, exactly like the zeros past a shorter item's end in a batch
            x = F.avg_pool2d(x, 2, ceil_mode=True, divisor_override=4)
        if self.extra_channels:
            # padding the channel axis is the fastest concatenation with zeros (fwd + bwd)
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))
        return x

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, corpus: str) -> torch.Tensor:
        """``x`` has zeros past each item's end; ``mask`` is the mask of the output's time axis."""
        y = F.relu(self.conv1(x, corpus), inplace=True)
        y = self.conv2(apply_mask(y, mask), corpus)
        y += self.shortcut(x)
        return F.relu(y, inplace=True)


class WideResNet(nn.Module):
    """Pre-conv, three stages of basic blocks, final BN + ReLU; per-corpus adapters and BNs."""

    def __init__(
        self,
        filters: int = 32,
        widen: int = 1,
        blocks: int = 2,
        dropout1: float = 0.0,
        dropout2: float = 0.5,
        adapters: bool = True,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
        adapter_rank: int | None = None,
    ) -> None:
        super().__init__()
        if filters <= 0 or widen <= 0 or blocks <= 0:
            raise ValueError("filters, widen and blocks must be positive")
        kw = {
            "adapters": adapters,
            "adapter_rank": adapter_rank,
            "bn_momentum": bn_momentum,
            "bn_eps": bn_eps,
        }
        self.stem = AdapterConv2d(1, filters, 1, 0.0, **kw)
        widths = [filters * 2 * widen, filters * 4 * widen, filters * 8 * widen]
        stages = []
        cin = filters
        for width in widths:
            stage = nn.ModuleList()
            for k in range(blocks):
                stride = 2 if k == 0 else 1
                stage.append(BasicBlock(cin, width, stride, dropout1, dropout2, **kw))
                cin = width
            stages.append(stage)
        self.stages = nn.ModuleList(stages)
        self.out_channels = cin
        self.final_bns = nn.ModuleDict()
        self.bn_momentum, self.bn_eps = bn_momentum, bn_eps

    def add_corpus(self, name: str, like: str | None = None) -> None:
        """Adapters and batch norms for a new corpus (BNs copied from ``like`` when given)."""
        self.stem.add_corpus(name, like)
        for stage in self.stages:
            for block in stage:
                block.add_corpus(name, like)
        ref = self.final_bns[like] if like is not None else None
        w = self.stem.conv.weight
        bn = new_batch_norm(
            self.out_channels, self.bn_momentum, self.bn_eps, ref, w.device, w.dtype
        )
        self.final_bns[name] = bn

    def remove_corpus(self, name: str) -> None:
        """Drop a corpus's adapters and batch norms."""
        self.stem.remove_corpus(name)
        for stage in self.stages:
            for block in stage:
                block.remove_corpus(name)
        del self.final_bns[name]

    def forward(
        self, x: torch.Tensor, frame_lengths: torch.Tensor | None, corpus: str
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features ``(B, C, F', T')`` and their valid time steps ``(B,)`` (None: all valid)."""
        x = x.contiguous(memory_format=torch.channels_last)
        lengths = frame_lengths  # None (nothing padded) skips the masks; no device sync here
        mask = None if lengths is None else time_mask(lengths, x.shape[-1], x.dtype)
        x = apply_mask(x, mask)
        x = apply_mask(self.stem(x, corpus), mask)
        for stage in self.stages:
            for block in stage:
                if block.stride != 1 and lengths is not None:
                    lengths = downsample_lengths(lengths)
                    mask = time_mask(lengths, (x.shape[-1] + 1) // 2, x.dtype)
                x = apply_mask(block(x, mask, corpus), mask)
        x = F.relu(self.final_bns[corpus](x), inplace=True)
        return x, lengths


def apply_mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` with zeros past each item's end (no-op without a mask)."""
    return x if mask is None else x * mask.to(x.dtype)
