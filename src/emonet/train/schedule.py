"""The learning-rate schedule and early stopping: what the rate is, when a stage or a run ends.

``reference``: SGD at ``lr_stages`` in turn, each stage until devel UAR has not gained
``min_delta`` for ``patience`` epochs or ``max_epochs`` epochs have passed; the loop reloads
the best weights and clears the momentum between stages. ``cosine``: AdamW with linear
warm-up and cosine decay over ``max_epochs``. All counters live in :class:`RunState`, so the
policy resumes exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from emonet.train.config import OptimConfig
from emonet.train.state import RunState


@dataclass
class EpochOutcome:
    """What the loop must do after an epoch."""

    new_best: bool
    """Devel UAR beat every earlier epoch: save ``checkpoints/best``."""
    stage_over: bool
    """The stage ended: reload the best weights and start the next learning rate."""
    finished: bool
    """The run is over."""


class Schedule:
    """Learning rate per step and the end of stages and runs, from the optimiser settings."""

    def __init__(self, optim: OptimConfig, steps_per_epoch: int) -> None:
        self.optim = optim
        self.steps_per_epoch = steps_per_epoch
        self.rates = list(optim.lr_stages) if optim.schedule == "reference" else [optim.lr]

    @property
    def stages(self) -> int:
        """Number of stages (3 for the reference schedule, 1 for cosine)."""
        return len(self.rates)

    def epoch_limit(self, state: RunState) -> int:
        """The epoch (counted from the run's start) at which the current stage must end."""
        return state.epoch - state.stage_epochs + self.optim.max_epochs

    def epochs_left(self, state: RunState) -> int:
        """Epochs the run may still take: exact for cosine, an upper bound when stages can stop early."""
        o = self.optim
        if o.schedule == "cosine":
            return max(0, o.max_epochs - state.epoch)
        if state.finished:
            return 0
        return o.max_epochs - state.stage_epochs + (self.stages - state.stage - 1) * o.max_epochs

    def lr(self, state: RunState) -> float:
        """Learning rate of the next step."""
        o = self.optim
        if o.schedule == "reference":
            return self.rates[min(state.stage, self.stages - 1)]
        warm = o.warmup_epochs * self.steps_per_epoch
        total = o.max_epochs * self.steps_per_epoch
        if state.step < warm:
            return o.lr * (state.step + 1) / warm
        progress = (state.step - warm) / max(1, total - warm)
        return o.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    def after_epoch(self, state: RunState, score: float | None) -> EpochOutcome:
        """Count the finished epoch (``state.epoch`` already advanced) and its devel score."""
        o = self.optim
        state.stage_epochs += 1
        new_best = False
        if score is not None:
            if score > state.best_uar:
                state.best_uar, new_best = score, True
            if score > state.stage_best + o.min_delta:
                state.stage_best, state.bad_epochs = score, 0
            else:
                state.bad_epochs += 1
        if o.schedule == "cosine":
            state.finished = state.epoch >= o.max_epochs
            return EpochOutcome(new_best, False, state.finished)
        stage_over = state.bad_epochs >= o.patience or state.stage_epochs >= o.max_epochs
        if stage_over:
            state.stage += 1
            state.stage_epochs, state.stage_best, state.bad_epochs = 0, -1.0, 0
            state.finished = state.stage >= self.stages
        return EpochOutcome(new_best, stage_over, state.finished)
