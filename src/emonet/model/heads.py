"""Pooling of the final feature map and the per-corpus classifier MLP.

- ``avgpool``: 8×8 average pooling over (frequency, time) cells, then flatten. The flattened size
  depends on the input's duration, so this head needs a fixed window (the model's ``window``).
- ``attention``: ``h = tanh(W f + b)``, ``e = λ·uᵀh`` (λ = 0.3), softmax over every valid
  time-frequency cell, weighted sum of the features: any duration goes through it.

The classifier is Dense(D/2) → BN → ReLU → Dropout(0.2) → Dense(n_labels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

POOL_SIZE = 8
"""Side of the avgpool head's pooling window (cells of the final feature map)."""


def cell_mask(lengths: torch.Tensor | None, steps: int) -> torch.Tensor | None:
    """``(B, steps)`` bool mask of valid time steps (None: all valid)."""
    if lengths is None:
        return None
    return torch.arange(steps, device=lengths.device) < lengths[:, None]


class AvgPool(nn.Module):
    """8×8 average pooling + flatten; cells past an item's end count as zeros."""

    def __init__(self, pool: int = POOL_SIZE) -> None:
        super().__init__()
        self.pool = pool

    @staticmethod
    def output_dim(channels: int, freq: int, steps: int, pool: int = POOL_SIZE) -> int:
        """Flattened size for a ``(channels, freq, steps)`` feature map."""
        return channels * (freq // pool) * (steps // pool)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """``(B, C, F, T)`` features → ``(B, C·(F//8)·(T//8))``."""
        mask = cell_mask(lengths, x.shape[-1])
        if mask is not None:
            x = x * mask[:, None, None, :].to(x.dtype)
        return F.avg_pool2d(x, self.pool).flatten(1)


class AttentionPool(nn.Module):
    """Masked attention pooling over time-frequency cells (scale λ on the energies)."""

    def __init__(self, channels: int, hidden: int | None = None, scale: float = 0.3) -> None:
        super().__init__()
        hidden = hidden or channels
        self.proj = nn.Linear(channels, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)
        self.scale = scale

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """``(B, C, F, T)`` features → ``(B, C)``: attention-weighted sum over valid cells."""
        cells = x.permute(0, 2, 3, 1)  # (B, F, T, C): a view for channels-last features
        energy = self.score(torch.tanh(self.proj(cells))).squeeze(-1) * self.scale  # (B, F, T)
        mask = cell_mask(lengths, x.shape[-1])
        if mask is not None:
            energy = energy.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(energy.flatten(1).float(), dim=1).to(cells.dtype)
        return torch.bmm(weights.unsqueeze(1), cells.reshape(x.shape[0], -1, x.shape[1])).squeeze(1)


class Classifier(nn.Module):
    """Dense(D/2) → BN → ReLU → Dropout → Dense(n_labels)."""

    def __init__(self, dim: int, n_labels: int, dropout: float = 0.2, hidden: int | None = None):
        super().__init__()
        hidden = hidden or max(1, dim // 2)
        self.fc1 = nn.Linear(dim, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, n_labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(B, D)`` → logits ``(B, n_labels)``."""
        return self.fc2(self.dropout(F.relu(self.bn(self.fc1(x)))))


class Head(nn.Module):
    """One corpus's head: its own pooling (None when the pooling is shared) and classifier."""

    def __init__(self, pool: nn.Module | None, classifier: Classifier) -> None:
        super().__init__()
        self.pool = pool
        self.classifier = classifier

    def copy_hidden(self, other: Head) -> None:
        """Start from ``other``'s pooling, hidden layer and its batch norm (not the output layer,
        whose labels differ): transfer keeps what the source corpus learnt to attend to."""
        if self.pool is not None and other.pool is not None:
            self.pool.load_state_dict(other.pool.state_dict())
        for part in ("fc1", "bn"):
            getattr(self.classifier, part).load_state_dict(
                getattr(other.classifier, part).state_dict()
            )
