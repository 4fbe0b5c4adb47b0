"""An exponential moving average of the weights (``optim.ema_decay``): the model that is scored.

Small corpora give noisy steps and a devel set of a few dozen items picks the best epoch by
chance as much as by merit; the average of the recent weights is smoother on both counts (as
timm's ``ModelEma``). The average is updated after every optimiser step on the model's device
without a host sync, scored on devel, and saved as the checkpoints' weights; the training
weights travel beside it in ``checkpoints/last`` so that resume stays exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class WeightAverage:
    """EMA of a module's floating-point parameters and buffers; integer buffers are copied.

    The decay warms up as ``min(decay, (1 + step) / (10 + step))`` (TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``), so the first steps' random weights fade
    within a few dozen steps instead of ``1 / (1 - decay)``; ``decay`` itself is reached only
    after ``(10 decay - 1) / (1 - decay)`` steps (1,790 for 0.995).
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.module, self.decay = module, decay
        self.reset()

    def reset(self) -> None:
        """Start the average again from the module's weights (a new stage of the schedule)."""
        live = self.module.state_dict()
        self.shadow = {k: v.detach().clone() for k, v in live.items()}
        self._pairs(live)

    def _pairs(self, live: dict[str, torch.Tensor]) -> None:
        self._avg = [self.shadow[k] for k, v in live.items() if v.is_floating_point()]
        self._src = [v.detach() for v in live.values() if v.is_floating_point()]
        self._copy = [(self.shadow[k], v) for k, v in live.items() if not v.is_floating_point()]

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average towards the module after optimiser step ``step`` (1-based)."""
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self._avg, self._src, 1.0 - decay)
        for avg, src in self._copy:
            avg.copy_(src)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights, as the module's state dict."""
        return self.shadow

    @torch.no_grad()
    def load(self, averaged: dict[str, torch.Tensor]) -> None:
        """Restore the average (from a checkpoint's weights), on the module's devices."""
        for k, v in self.shadow.items():
            v.copy_(averaged[k])

    @contextmanager
    def applied(self) -> Iterator[dict[str, torch.Tensor]]:
        """Hold the averaged weights in the module for the block (to score or save it); yields
        the training weights, which are back in the module afterwards."""
        live = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
        self.module.load_state_dict(self.shadow)
        try:
            yield live
        finally:
            self.module.load_state_dict(live)
