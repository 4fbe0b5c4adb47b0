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
