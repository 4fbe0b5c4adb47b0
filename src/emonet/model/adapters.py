"""The adapter convolution: ``BN_c(conv3x3(x) + adapter1x1_c(dropout(x)))`` (Rebuffi et al. 2018).

The 3×3 convolution is shared by all corpora; the parallel 1×1 adapter and the batch norm belong to
one corpus and live in ``nn.ModuleDict``s keyed by corpus name (parameter names
``….adapters.<corpus>.weight`` — ``.up`` and ``.down`` for a low-rank adapter — and
``….bns.<corpus>.*``). Built with ``adapters=False`` it is the "core" path ``BN_c(conv3x3(x))`` of
a single-corpus model.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

from emonet.model.amp import autocast_dtype

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


def _tracing() -> bool:
    """True under torch.compile / torch.export / TorchScript tracing (no caches there)."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing() or torch.jit.is_scripting()


def drop_unscaled(x: torch.Tensor, p: float) -> tuple[torch.Tensor, float]:
    """Dropout without its ``1 / (1 - p)`` scaling, and that factor (for the caller to fold into
    a linear layer's weights). On the CPU the mask comes from 64-bit random words cut into four
    15-bit uniforms (p rounded to 1/32768) and one comparison writing 0/1 in ``x``'s dtype: about
    4× cheaper than ``F.dropout``'s per-element Bernoulli draws, which cost more than the
    convolution they feed in bf16."""
    if x.device.type != "cpu" or x.dim() != 4 or not 0 < p < 1 or _tracing():
        return F.dropout(x, p, True), 1.0  # (torch.compile cannot trace the in-place draws)
    n = x.numel()
    bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_()  # 63 random bits each
    bits &= 0x7FFF7FFF7FFF7FFF  # four non-negative 15-bit lanes per word
    mask = torch.empty(x.shape, dtype=x.dtype, memory_format=torch.channels_last)
    flat = mask.permute(0, 2, 3, 1).reshape(-1)  # a view of the channels-last buffer
    torch.ge(bits.view(torch.int16)[:n], round(p * 32768), out=flat)
    return x * mask, 1.0 / (1.0 - p)


class LowRankAdapter(nn.Module):
    """A 1×1 adapter whose ``out × in`` kernel is the product ``up @ down`` of rank ``rank``:
    ``rank · (in + out)`` weights instead of ``in · out``, so a new corpus trains fewer parameters.

    ``up`` starts at zero (the corpus starts as the shared network, as a full adapter does);
    ``down`` is drawn with variance ``1 / rank``, so that under Adam the product moves at about a
    full adapter's pace from the first step.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        rank: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.up = nn.Parameter(torch.zeros(out_channels, rank, device=device, dtype=dtype))
        down = torch.empty(rank, in_channels, device=device, dtype=dtype)
        self.down = nn.Parameter(nn.init.normal_(down, std=rank**-0.5))

    @property
    def weight(self) -> torch.Tensor:
        """The ``(out, in, 1, 1)`` kernel (differentiable in both factors)."""
        return (self.up @ self.down)[:, :, None, None]

    @staticmethod
    def saves(in_channels: int, out_channels: int, rank: int | None) -> bool:
        """Whether a rank-``rank`` adapter has fewer weights than the full 1×1 kernel."""
        return rank is not None and rank * (in_channels + out_channels) < in_channels * out_channels

    def extra_repr(self) -> str:
        return f"{self.down.shape[1]}, {self.up.shape[0]}, rank={self.up.shape[1]}"


class AdapterConv2d(nn.Module):
    """Shared 3×3 conv (no bias) + per-corpus parallel 1×1 adapter (same stride) + per-corpus BN.

    ``dropout`` acts on the adapter's input only, as in the reference. Where the adapter needs no
    separate input (no active dropout), the 1×1 kernel is added to the 3×3 kernel's centre tap and
    one convolution does both — the same function, about 10 % fewer FLOPs. With a frozen shared
    conv and a trainable adapter the two stay separate, so no 3×3 weight gradient is computed.
    With ``adapter_rank`` each adapter is a :class:`LowRankAdapter` where that has fewer weights.
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
        adapter_rank: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.adapter_rank = adapter_rank
        self.dropout = dropout
        self.bn_momentum, self.bn_eps = bn_momentum, bn_eps
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")
        self.adapters = nn.ModuleDict() if adapters else None
        self.bns = nn.ModuleDict()
        self._kernels: dict = {}  # inference kernels with BN folded in (see _inference_kernel)

    def add_corpus(self, name: str, like: str | None = None) -> None:
        """New adapter (zero weights: the corpus starts as the shared network) and batch norm
        (a copy of corpus ``like``'s, else fresh)."""
        shared = self.conv.weight
        if self.adapters is not None:
            cin, cout, rank = self.in_channels, self.out_channels, self.adapter_rank
            if LowRankAdapter.saves(cin, cout, rank):
                self.adapters[name] = LowRankAdapter(cin, cout, rank, shared.device, shared.dtype)
            else:
                adapter = nn.Conv2d(cin, cout, 1, self.stride, bias=False, device="meta")
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
        frozen = not (self.training or bn.training)
        if frozen and not (torch.is_grad_enabled() and self._learns(corpus)) and not _tracing():
            kernel, bias = self._inference_kernel(corpus, x)  # cached: no per-call folding
            return F.conv2d(x, kernel, bias, self.stride, 1)
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
                if dropping:
                    a_in, factor = drop_unscaled(a_in, self.dropout)
                    adapter = adapter * factor  # the dropout scaling, on the small kernel
        if bn.training or bn.running_mean is None:
            y = F.conv2d(x, weight, None, self.stride, 1)
            if separate:
                y += F.conv2d(a_in, adapter)
            return bn(y)
        # Batch norm in inference mode is affine: fold it into the convolution(s).
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        scale = scale.view(-1, 1, 1, 1)
        y = F.conv2d(x, weight * scale, shift, self.stride, 1)
        if separate:
            y += F.conv2d(a_in, adapter * scale)
        return y

    def _learns(self, corpus: str) -> bool:
        """Whether a parameter used for ``corpus`` is trainable."""
        bn = self.bns[corpus]
        own = [self.conv.weight, bn.weight, bn.bias]
        if self.adapters is not None:
            own.extend(self.adapters[corpus].parameters())
        return any(p.requires_grad for p in own)

    def _inference_kernel(self, corpus: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The 3×3 kernel with the adapter and the inference-mode BN folded in, and its bias —
        cached per corpus and autocast dtype while the weights and statistics stay unchanged
        (checked by their storage and version counters), so inference does no per-call folding."""
        bn = self.bns[corpus]
        sources = [self.conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var]
        if self.adapters is not None:
            sources.extend(self.adapters[corpus].parameters())
        stamp = tuple((t.data_ptr(), t._version, t.dtype) for t in sources)
        dtype = autocast_dtype(x.device.type)
        key = (corpus, dtype)
        hit = self._kernels.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        fused = self.conv.weight
        if self.adapters is not None:
            fused = fused + F.pad(self.adapters[corpus].weight, (1, 1, 1, 1))
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        kernel = (fused * scale.view(-1, 1, 1, 1)).contiguous(memory_format=torch.channels_last)
        bias = bn.bias - bn.running_mean * scale
        if dtype is not None:
            kernel, bias = kernel.to(dtype), bias.to(dtype)
        self._kernels[key] = (stamp, kernel, bias)
        return kernel, bias

    def train(self, mode: bool = True) -> AdapterConv2d:
        """Switch train/eval mode; leaving inference drops the cached folded kernels."""
        if mode:
            self._kernels.clear()
        return super().train(mode)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, stride={self.stride}, "
            f"dropout={self.dropout}, adapters={self.adapters is not None}"
            + (f", adapter_rank={self.adapter_rank}" if self.adapter_rank is not None else "")
        )
