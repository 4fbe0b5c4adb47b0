"""The adapter convolution: ``BN_c(conv3x3(x) + adapter1x1_c(dropout(x)))`` (Rebuffi et al. 2018).

The 3×3 convolution is shared by all corpora; the parallel 1×1 adapter and the batch norm belong to
one corpus and live in ``nn.ModuleDict``s keyed by corpus name (parameter names
``….adapters.<corpus>.weight`` and ``….bns.<corpus>.*``). Built with ``adapters=False`` it is the
"core" path ``BN_c(conv3x3(x))`` of a single-corpus model.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_RESERVED = frozenset(dir(nn.ModuleDict))


def check_corpus_name(name: str) -> str:
    """Return ``name`` if it can key a ModuleDict (letters, digits, ``_``, ``-``), else ValueError."""
    if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
        raise ValueError(
            f"corpus name {name!r}: use letters, digits, '_' and '-' only"
            + (" (it clashes with a torch attribute)" if name in _RESERVED else "")
        )
    return name


def new_batch_norm(
    channels: int,
    momentum: float,
    eps: float,
    like: nn.BatchNorm2d | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> nn.BatchNorm2d:
    """A 2-D batch norm, a copy of ``like``'s statistics and affine parameters when given."""
    bn = nn.BatchNorm2d(channels, eps=eps, momentum=momentum, device=device, dtype=dtype)
    if like is not None:
        bn.load_state_dict(like.state_dict())
    return bn


class AdapterConv2d(nn.Module):
    """Shared 3×3 conv (no bias) + per-corpus parallel 1×1 adapter (same stride) + per-corpus BN.

    ``dropout`` acts on the adapter's input only, as in the reference. Where the adapter needs no
    separate input (no active dropout), the 1×1 kernel is added to the 3×3 kernel's centre tap and
    one convolution does both — the same function, about 10 % fewer FLOPs. With a frozen shared
    conv and a trainable adapter the two stay separate, so no 3×3 weight gradient is computed.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        dropout: float = 0.0,
        adapters: bool = True,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.dropout = dropout
        self.bn_momentum, self.bn_eps = bn_momentum, bn_eps
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")
        self.adapters = nn.ModuleDict() if adapters else None
        self.bns = nn.ModuleDict()

    def add_corpus(self, name: str, like: str | None = None) -> None:
        """New adapter (zero weights: the corpus starts as the shared network) and batch norm
        (a copy of corpus ``like``'s, else fresh)."""
        shared = self.conv.weight
        if self.adapters is not None:
            adapter = nn.Conv2d(
                self.in_channels, self.out_channels, 1, self.stride, bias=False, device="meta"
            )
            # (out, in, 1, 1) zeros are channels-last and contiguous at once
            zeros = torch.zeros(adapter.weight.shape, device=shared.device, dtype=shared.dtype)
            adapter.weight = nn.Parameter(zeros)
            self.adapters[name] = adapter
        like_bn = self.bns[like] if like is not None else None
        self.bns[name] = new_batch_norm(
            self.out_channels, self.bn_momentum, self.bn_eps, like_bn, shared.device, shared.dtype
        )

    def remove_corpus(self, name: str) -> None:
        """Drop a corpus's adapter and batch norm."""
        if self.adapters is not None:
            del self.adapters[name]
        del self.bns[name]

    def forward(self, x: torch.Tensor, corpus: str) -> torch.Tensor:
        """``BN_corpus(conv3x3(x) + adapter_corpus(dropout(x)))``."""
        weight = self.conv.weight
        bn = self.bns[corpus]
        adapter = None if self.adapters is None else self.adapters[corpus].weight
        separate = False
        if adapter is not None:
            dropping = self.training and self.dropout > 0
            spare_3x3_grad = (
                torch.is_grad_enabled() and adapter.requires_grad and not weight.requires_grad
            )
            separate = dropping or spare_3x3_grad
            if not separate:
                weight = weight + F.pad(adapter, (1, 1, 1, 1))
            else:
                # A strided 1×1 conv reads every stride-th cell: subsample, then a stride-1 conv
                # (torch 2.13's oneDNN crashes in the backward of strided 1×1 channels-last convs).
                a_in = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
                a_in = F.dropout(a_in, self.dropout, True) if dropping else a_in
        if bn.training or bn.running_mean is None:
            y = F.conv2d(x, weight, None, self.stride, 1)
            if separate:
                y = y + F.conv2d(a_in, adapter)
            return bn(y)
        # Batch norm in inference mode is affine: fold it into the convolution(s).
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        scale = scale.view(-1, 1, 1, 1)
        y = F.conv2d(x, weight * scale, shift, self.stride, 1)
        if separate:
            y = y + F.conv2d(a_in, adapter * scale)
        return y

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, stride={self.stride}, "
            f"dropout={self.dropout}, adapters={self.adapters is not None}"
        )
