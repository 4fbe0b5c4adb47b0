"""Which corpus each multi-corpus training step draws from."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def corpus_schedule(
    sizes: Mapping[str, int],
    steps: int,
    strategy: str = "round-robin",
    temperature: float = 1.0,
    seed: int = 0,
) -> list[str]:
    """Corpus name per step: round-robin (each in turn), or sampled by size^(1/temperature).

    ``strategy="proportional"`` is sampling with temperature 1; ``"temperature"`` flattens the
    distribution towards uniform as the temperature grows (T → ∞ is uniform).
    """
    names = list(sizes)
    if not names:
        raise ValueError("no corpora to schedule")
    if strategy == "round-robin":
        return [names[i % len(names)] for i in range(steps)]
    if strategy not in ("proportional", "temperature"):
        raise ValueError(
            f"unknown sampling strategy {strategy!r}; use round-robin, proportional or temperature"
        )
    t = 1.0 if strategy == "proportional" else float(temperature)
    if t <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    weights = np.array([sizes[n] for n in names], dtype=np.float64) ** (1.0 / t)
    p = weights / weights.sum()
    rng = np.random.default_rng(seed)
    return [names[i] for i in rng.choice(len(names), size=steps, p=p)]


BUCKET_JITTER = 0.1
"""Length-bucketed batches sort items by log length plus uniform noise of this half-width (about
±10 % in length), so that items of similar length meet in new combinations every epoch."""


def epoch_batches(
    n: int,
    batch: int,
    seed: int,
    epoch: int,
    key: int,
    world: int = 1,
    lengths: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Shuffled index batches of one pass over ``n`` items, a function of its arguments only.

    With ``lengths`` (samples per item) the batches are length-bucketed: items of similar length
    share a batch, in shuffled batch order. A last batch too small to give every process two
    items is dropped (one item breaks batch norm); every process computes the same plan.
    """
    rng = np.random.default_rng((seed, epoch, key, 17))
    perm = rng.permutation(n)
    if lengths is not None:
        noise = rng.uniform(-BUCKET_JITTER, BUCKET_JITTER, n)
        perm = np.argsort(np.log(np.maximum(lengths, 1)) + noise, kind="stable")
    batches = [perm[i : i + batch] for i in range(0, n, batch)]
    if len(batches) > 1 and len(batches[-1]) < 2 * world:
        batches.pop()
    if lengths is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def epoch_plan(
    sizes: Mapping[str, int],
    batch: int,
    seed: int,
    epoch: int,
    steps: int | None = None,
    strategy: str = "round-robin",
    temperature: float = 1.0,
    world: int = 1,
    lengths: Mapping[str, np.ndarray] | None = None,
) -> list[tuple[str, np.ndarray]]:
    """(corpus, global batch indices) for every step of one epoch; a function of its arguments.

    One corpus: one shuffled pass. Several (``steps`` given): ``steps`` batches, the corpus of
    each from :func:`corpus_schedule`; a corpus whose pass runs out starts a new shuffled pass.
    ``lengths`` (per corpus, samples per item) makes the batches length-bucketed.
    """
    lengths = lengths or {}
    names = list(sizes)
    if steps is None:
        (name,) = names
        return [
            (name, b)
            for b in epoch_batches(sizes[name], batch, seed, epoch, 0, world, lengths.get(name))
        ]
    order = corpus_schedule(sizes, steps, strategy, temperature, seed=seed * 7919 + epoch)
    queues: dict[str, list[np.ndarray]] = {n: [] for n in names}
    passes = dict.fromkeys(names, 0)
    plan = []
    for n in order:
        if not queues[n]:
            key = names.index(n) + 1
            queues[n] = epoch_batches(
                sizes[n], batch, seed, epoch * 1000 + passes[n], key, world, lengths.get(n)
            )
            passes[n] += 1
        plan.append((n, queues[n].pop(0)))
    return plan
