"""Training objectives: (weighted) cross-entropy and focal loss, with balanced class weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def balanced_class_weights(labels: Sequence[int], n_classes: int) -> torch.Tensor:
    """``n / (k · count_c)`` per class (scikit-learn's "balanced"); absent classes get 0."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


class FocalLoss(nn.Module):
    """Focal loss ``-α (1 - p_t)^γ log p_t`` (Lin et al. 2017), optionally class-weighted."""

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25, weight: torch.Tensor | None = None):
        super().__init__()
        self.gamma, self.alpha = gamma, alpha
        self.register_buffer("weight", weight if weight is not None else None, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)
        loss = -self.alpha * (1 - logp.exp()).pow(self.gamma) * logp
        if self.weight is not None:
            w = self.weight[target]
            return (loss * w).sum() / w.sum().clamp_min(1e-12)
        return loss.mean()


def make_loss(
    name: str,
    weight: torch.Tensor | None = None,
    gamma: float = 2.0,
    alpha: float = 0.25,
    label_smoothing: float = 0.0,
) -> nn.Module:
    """The loss module for a configuration name (``ce`` or ``focal``)."""
    if name == "ce":
        return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)
    if name == "focal":
        return FocalLoss(gamma, alpha, weight)
    raise ValueError(f"unknown loss {name!r}; use ce or focal")
