"""Sentences that say what a report's numbers mean: partition, n, chance level and noise.

Every report (evaluate, compare, cross-corpus, the experiment, the demo) builds its "What the
numbers mean" text from these, out of the actual counts, so that a UAR never stands alone: the
reader sees how many items it rests on, what guessing would score, how far one item moves it,
and whether a devel–test gap is larger than such small partitions can explain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GAP = 0.10
"""A devel–test UAR difference at least this large is pointed out in reports."""


@dataclass(frozen=True)
class Scored:
    """A UAR with the per-class item counts and recalls it averages over (present classes)."""

    uar: float
    counts: tuple[int, ...]
    recalls: tuple[float, ...]

    @classmethod
    def from_metrics(cls, metrics: Mapping) -> Scored:
        """From a ``metrics.json`` of :func:`emonet.results.metrics.classification_metrics`."""
        counts = [int(sum(row)) for row in metrics["confusion"]]
        recalls = [float(metrics["recall"][lab]) for lab in metrics["labels"]]
        kept = [(n, r) for n, r in zip(counts, recalls, strict=True) if n > 0]
        return cls(float(metrics["uar"]), tuple(n for n, _ in kept), tuple(r for _, r in kept))

    @property
    def n(self) -> int:
        """Number of items."""
        return sum(self.counts)

    @property
    def classes(self) -> int:
        """Number of classes the UAR averages over."""
        return len(self.counts)

    @property
    def chance(self) -> float:
        """UAR of guessing (any constant or uniformly random prediction): 1 / classes."""
        return chance_uar(self.classes)

    @property
    def step(self) -> float:
        """The most one item can move the UAR (an item of the smallest class)."""
        return one_item_step(self.counts)

    @property
    def margin(self) -> float:
        """Rough 95 % sampling margin of the UAR (normal approximation per class)."""
        return uar_margin(self.recalls, self.counts)


def chance_uar(classes: int) -> float:
    """Chance level of UAR: 1 / number of classes (nan without classes)."""
    return 1.0 / classes if classes > 0 else float("nan")


def one_item_step(counts: Sequence[int]) -> float:
    """How far one item can move UAR: 1 / (classes × items of the smallest class)."""
    present = [int(c) for c in counts if c > 0]
    return 1.0 / (len(present) * min(present)) if present else float("nan")


def uar_margin(recalls: Sequence[float], counts: Sequence[int], z: float = 1.96) -> float:
    """Rough ``z``-sigma margin of a UAR from its per-class recalls and class sizes.

    Each recall is a binomial proportion (shrunk by half an item so that 0 and 1 keep some
    variance); UAR is their mean, so its variance is the mean of their variances over K².
    """
    pairs = [(float(r), int(n)) for r, n in zip(recalls, counts, strict=True) if n > 0]
    if not pairs:
        return float("nan")
    var = 0.0
    for r, n in pairs:
        p = (r * n + 0.5) / (n + 1)
        var += p * (1 - p) / n
    return z * math.sqrt(var) / len(pairs)


def _sizes(counts: Sequence[int]) -> str:
    lo, hi = min(counts), max(counts)
    return f"{lo} per class" if lo == hi else f"{lo}–{hi} per class"


def describe(label: str, scored: Scored) -> str:
    """One sentence on a UAR: n, classes, chance level, one item's weight, sampling margin."""
    if scored.n == 0:
        return f"{label}: no items."
    return (
        f"{label}: UAR {scored.uar:.3f} on n = {scored.n} items in {scored.classes} classes "
        f"({_sizes(scored.counts)}); chance UAR 1/{scored.classes} = {scored.chance:.3f}; "
        f"one item moves UAR by up to {scored.step:.3f}; sampling noise alone is roughly "
        f"±{scored.margin:.2f} (95 %)."
    )


def partition_note(partitions: str | Sequence[str], selected_on_devel: bool = True) -> str:
    """What scores on these partitions mean, given that checkpoints are chosen on devel."""
    parts = [partitions] if isinstance(partitions, str) else list(partitions)
    if not selected_on_devel:
        return (
            f"Scores on {' and '.join(parts)} of a checkpoint NOT chosen on devel (the run has "
            "no best checkpoint): no partition played a role in choosing it."
        )
    text = ["The checkpoint was chosen on devel UAR during training."]
    if "devel" in parts:
        text.append(
            "Devel scores are therefore optimistic (the best of many epochs on these very items)."
        )
    if "test" in parts:
        text.append(
            "Test items took part in no choice, so test UAR is the estimate for new speakers."
        )
    else:
        text.append("Only test scores estimate performance on new speakers.")
    return " ".join(text)


def devel_test_note(
    corpus: str, devel: Scored, test: Scored, gap: float = GAP, chosen: str = "The checkpoint"
) -> str | None:
    """A warning when devel and test UAR differ by ``gap`` or more, sized by n; else None.
    ``chosen`` names what was selected on devel (a checkpoint, a baseline's complexity C)."""
    diff = devel.uar - test.uar
    if not (abs(diff) >= gap) or devel.n == 0 or test.n == 0:
        return None
    noise = math.hypot(devel.margin, test.margin)
    head = (
        f"{corpus}: devel UAR {devel.uar:.3f} vs test {test.uar:.3f} (n = {devel.n} devel, "
        f"{test.n} test items) differ by {abs(diff):.3f}."
    )
    if diff > 0:
        why = f" {chosen} was chosen on devel, so devel is optimistic; read test as the estimate."
    else:
        why = " Test above devel is no merit of the model: it is noise or easier test speakers."
    small = min(devel.n, test.n)
    size = (
        f" With {small} items in the smaller partition one item moves UAR by up to "
        f"{max(devel.step, test.step):.3f}, and sampling noise alone can put the two about "
        f"±{noise:.2f} apart (95 %, rough)"
    )
    if abs(diff) > noise:
        size += (
            ", less than this gap: it is likely more than noise (the devel-selected model "
            "carries over less well to the test speakers, or the partitions differ)."
        )
    else:
        size += ": the gap is within noise; at these sizes neither number is precise enough to "
        size += "tell close models apart."
    return head + why + size


def bullets(lines: Sequence[str | None]) -> str:
    """A markdown list of the non-empty lines."""
    return "\n".join(f"- {line}" for line in lines if line) + "\n"
