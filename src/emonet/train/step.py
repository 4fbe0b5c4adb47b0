"""The steps of one epoch: a plan of batches in, device-side totals out, no host sync between.

:func:`run_epoch` moves the epoch's item indices to the device once and takes each step with
:func:`train_step`; losses and the finiteness of loss and gradients are accumulated on the device
and read once, by :meth:`EpochTotals.read`, when the epoch's numbers are logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from emonet.model import EmoNet
from emonet.train.augment import Batch, BatchAugment
from emonet.train.average import WeightAverage
from emonet.train.distill import Teachers
from emonet.train.schedule import Schedule
from emonet.train.setup import CorpusData
from emonet.train.state import RunState


@dataclass
class EpochStats:
    """What one epoch's steps report (read from the device once, at the epoch's end)."""

    losses: dict[str, float]
    samples_per_s: float
    data_share: float
    first_bad: int | None
    """Index in the plan of the first step whose loss or gradients were not finite."""


def run_epoch(
    fabric,
    model: torch.nn.Module,
    net: EmoNet,
    optimizer: torch.optim.Optimizer,
    data: dict[str, CorpusData],
    plan: list[tuple[str, np.ndarray]],
    schedule: Schedule,
    state: RunState,
    seed: int,
    advance=lambda: None,
    augment: BatchAugment | None = None,
    cudagraphs: bool = False,
    average: WeightAverage | None = None,
    teachers: Teachers | None = None,
) -> EpochTotals:
    """Take the steps of ``plan`` (this process's share of each batch); advances ``state.step``.

    Item indices go to the device once; each step is a gather, a forward/backward and an update
    with no host synchronisation (the totals stay on the device until read). Dropout and
    augmentation are seeded from ``(seed, epoch, rank)``. ``cudagraphs``: the model replays CUDA
    graphs (``engine.compile_mode: reduce-overhead``), so each step is marked as a new one.
    ``average`` (``optim.ema_decay``) follows every step; ``teachers`` (``distill``) add their
    term to every step's loss.
    """
    world, rank = fabric.world_size, fabric.global_rank
    device = next(net.parameters()).device  # fabric put the model there; everything follows
    torch.manual_seed(seed * 100_003 + state.epoch * 31 + rank)
    names = list(data)
    mine = [np.array_split(idx, world)[rank] if world > 1 else idx for _, idx in plan]
    bounds = np.cumsum([0, *map(len, mine)])
    for c in data.values():
        c.train.set_epoch(state.epoch)
    index = torch.from_numpy(np.concatenate(mine))
    flat = {dev: index.to(dev) for dev in {c.train.device for c in data.values()}}
    loss_sums = torch.zeros(len(names), device=device)
    counts = np.zeros(len(names))
    big = len(plan)
    first_bad = torch.full((), big, dtype=torch.long, device=device)
    check_grads = fabric.strategy.precision.precision != "16-mixed"
    clip = schedule.optim.grad_clip
    model.train()  # reaches net's own train(), which keeps frozen batch norms in eval mode
    params = StepParams(  # listed once: walking the module tree each step costs ~1 ms of host time
        [p for p in net.parameters() if p.requires_grad],
        {c: net.other_corpus_parameters(c) for c in names},
    )
    wait, t_loop = 0.0, time.perf_counter()
    for i, (corpus, _) in enumerate(plan):
        t_data = time.perf_counter()
        c = data[corpus]
        idx = flat[c.train.device][bounds[i] : bounds[i + 1]]
        crop = c.train.crop_length(mine[i])
        waves, lengths, labels = (t.to(device, non_blocking=True) for t in c.train.batch(idx, crop))
        if not c.train.padded(mine[i]):
            lengths = None  # no padding to mask: the same numbers, fewer operations
        batch = augment(waves, lengths, labels) if augment else Batch(waves, lengths, labels)
        wait += time.perf_counter() - t_data
        if schedule.optim.schedule == "cosine":
            set_lr(optimizer, schedule.lr(state))
        if cudagraphs:  # compile_mode reduce-overhead: the previous step's outputs are done with
            torch.compiler.cudagraph_mark_step_begin()
        loss, finite = train_step(
            fabric, model, params, optimizer, c.loss, batch, corpus, clip, check_grads, teachers
        )
        k = names.index(corpus)
        loss_sums[k] += loss * len(labels)
        counts[k] += len(labels)
        first_bad = torch.where(finite, first_bad, first_bad.clamp(max=i))
        state.step += 1
        if average is not None:
            average.update(state.step)
        advance()
    samples = sum(len(idx) for _, idx in plan)
    return EpochTotals(names, loss_sums, counts, first_bad, len(plan), samples, wait, t_loop)


@dataclass
class EpochTotals:
    """One epoch's sums, still on the device: :meth:`read` waits for the device, once."""

    names: list[str]
    loss_sums: torch.Tensor
    counts: np.ndarray
    first_bad: torch.Tensor
    steps: int
    samples: int
    wait: float
    started: float

    def read(self, fabric) -> EpochStats:
        """The epoch's numbers (agreed between processes on whether a step went non-finite)."""
        first_bad = self.first_bad
        if fabric.world_size > 1:
            first_bad = fabric.all_reduce(first_bad, reduce_op="min")
        sums, bad = self.loss_sums.tolist(), int(first_bad)
        seconds = time.perf_counter() - self.started
        return EpochStats(
            losses={n: sums[k] / max(self.counts[k], 1) for k, n in enumerate(self.names)},
            samples_per_s=self.samples / seconds,
            data_share=self.wait / seconds,
            first_bad=None if bad >= self.steps else bad,
        )


@dataclass
class StepParams:
    """The trainable parameters, and per corpus those of the other corpora."""

    trainable: list[torch.nn.Parameter]
    others: dict[str, list[torch.nn.Parameter]]


def train_step(
    fabric,
    model: torch.nn.Module,
    params: StepParams,
    optimizer: torch.optim.Optimizer,
    loss_fn: torch.nn.Module,
    batch: Batch,
    corpus: str,
    clip: float | None = None,
    check_grads: bool = True,
    teachers: Teachers | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on one corpus's batch: (loss, all finite) as device tensors.

    Gradients of the other corpora's parameters are dropped (no momentum or decay on them).
    Under 16-mixed, the gradient scaler unscales and skips non-finite steps itself.
    """
    targets = teachers.targets(fabric, batch, corpus) if teachers is not None else None
    logits = model(batch.waves, batch.lengths, corpus=corpus).float()
    loss = batch.loss(loss_fn, logits)
    if teachers is not None:
        loss = teachers.loss(loss, logits, targets)
    optimizer.zero_grad(set_to_none=True)
    fabric.backward(loss)
    for p in params.others[corpus]:  # no momentum or decay on the other corpora's parameters
        p.grad = None
    finite = torch.isfinite(loss.detach())
    if check_grads:
        with_grad = [p for p in params.trainable if p.grad is not None]
        if clip:
            norm = torch.nn.utils.clip_grad_norm_(with_grad, clip)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in with_grad])
        finite = finite & torch.isfinite(norm)
    elif clip:
        fabric.clip_gradients(model, optimizer, max_norm=clip)
    optimizer.step()
    return loss.detach(), finite


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr
