"""Is model B really better than model A on these items? McNemar, Holm, paired bootstrap.

All tests are paired: both models predicted the same items, so what matters is where they
disagree. McNemar's exact test is the binomial test on the discordant pairs; the χ² value with
continuity correction is reported beside it because most papers quote that one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, chi2

from emonet.results.metrics import uar


@dataclass(frozen=True)
class McNemar:
    """Discordant counts and both forms of the test."""

    a_only: int  # items A got right and B got wrong
    b_only: int  # items B got right and A got wrong
    p_exact: float
    chi2: float
    p_chi2: float


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemar:
    """McNemar's test on paired correctness; exact two-sided binomial p and corrected χ²."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError("both models must be scored on the same items")
    n01 = int(np.sum(a & ~b))
    n10 = int(np.sum(~a & b))
    n = n01 + n10
    if n == 0:
        return McNemar(n01, n10, 1.0, 0.0, 1.0)
    p_exact = float(binomtest(min(n01, n10), n, 0.5, alternative="two-sided").pvalue)
    stat = (abs(n01 - n10) - 1) ** 2 / n
    return McNemar(n01, n10, min(1.0, p_exact), float(stat), float(chi2.sf(stat, 1)))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (statsmodels' step-down procedure), in input order."""
    from statsmodels.stats.multitest import multipletests

    if len(pvalues) == 0:
        return []
    return multipletests(np.asarray(pvalues, dtype=np.float64), method="holm")[1].tolist()


def bootstrap_delta_uar(
    y_true: Sequence[int],
    pred_a: Sequence[int],
    pred_b: Sequence[int],
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """UAR(B) − UAR(A) and its paired percentile bootstrap interval (items resampled jointly)."""
    y, a, b = (np.asarray(v) for v in (y_true, pred_a, pred_b))
    if not (len(y) == len(a) == len(b)):
        raise ValueError("labels and both prediction lists must have the same length")
    delta = uar(y, b) - uar(y, a)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    # vectorised UAR over resamples: per-class recall from counts
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    ys, hit_a, hit_b = y[idx], (a == y)[idx], (b == y)[idx]
    rec_a = np.zeros((n_boot, len(classes)))
    rec_b = np.zeros((n_boot, len(classes)))
    present = np.zeros((n_boot, len(classes)), bool)
    for k, c in enumerate(classes):
        mask = ys == c
        count = mask.sum(1)
        present[:, k] = count > 0
        safe = np.maximum(count, 1)
        rec_a[:, k] = (hit_a & mask).sum(1) / safe
        rec_b[:, k] = (hit_b & mask).sum(1) / safe
    n_present = present.sum(1)
    deltas = ((rec_b - rec_a) * present).sum(1) / np.maximum(n_present, 1)
    lo, hi = np.quantile(deltas, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return float(delta), float(lo), float(hi)
