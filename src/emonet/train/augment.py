"""Augmentation of training batches: random gain and mixup within a corpus's batch.

SpecAugment acts on the log-mel inside the model (:class:`emonet.model.augment.SpecAugment`);
this module acts on the waves and the loss. Random numbers come from torch's generator on the
batch's device, seeded per epoch like dropout: no host sync, exact resume.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from emonet.model import EmoNet
from emonet.model.augment import SpecAugment
from emonet.train.config import AugmentConfig


@dataclass
class Batch:
    """A training batch after augmentation; ``partner``/``lam`` are set when mixup mixed it."""

    waves: torch.Tensor
    lengths: torch.Tensor | None
    labels: torch.Tensor
    partner: torch.Tensor | None = None
    lam: torch.Tensor | None = None

    def loss(self, loss_fn: nn.Module, logits: torch.Tensor) -> torch.Tensor:
        """The objective: mixup mixes the two targets' losses with the waves' weights."""
        if self.partner is None:
            return loss_fn(logits, self.labels)
        return self.lam * loss_fn(logits, self.labels) + (1 - self.lam) * loss_fn(
            logits, self.partner
        )


class BatchAugment:
    """Random gain (``gain_db``) and mixup (``mixup``: Beta parameter) of a batch."""

    def __init__(self, cfg: AugmentConfig) -> None:
        self.gain_db, self.alpha = cfg.gain_db, cfg.mixup

    def __call__(
        self, waves: torch.Tensor, lengths: torch.Tensor | None, labels: torch.Tensor
    ) -> Batch:
        """The augmented batch (the inputs themselves when both are off)."""
        n, device = waves.shape[0], waves.device
        if self.gain_db > 0:
            db = (torch.rand(n, 1, device=device) * 2 - 1) * self.gain_db
            waves = waves * torch.pow(10.0, db / 20)
        if self.alpha <= 0:
            return Batch(waves, lengths, labels)
        a = torch.tensor(self.alpha, device=device)
        # validate_args=False: checking the parameters would wait for the device every step
        lam = torch.distributions.Beta(a, a, validate_args=False).sample()
        lam = torch.maximum(lam, 1 - lam)  # the first item dominates: its label weighs more
        perm = torch.randperm(n, device=device)
        waves = lam * waves + (1 - lam) * waves[perm]
        if lengths is not None:
            lengths = torch.maximum(lengths, lengths[perm])
        return Batch(waves, lengths, labels, labels[perm], lam)


def set_spec_augment(model: EmoNet, cfg: AugmentConfig) -> None:
    """Give ``model`` the training configuration's SpecAugment (or none, when all is off)."""
    on = cfg.freq_masks > 0 or cfg.time_masks > 0 or cfg.freq_warp > 0
    model.spec_augment = (
        SpecAugment(
            cfg.freq_masks,
            cfg.freq_mask_width,
            cfg.time_masks,
            cfg.time_mask_width,
            cfg.freq_warp,
        )
        if on
        else None
    )
