"""Speaker-independent partitions and evaluation folds, deterministic for a given corpus.

EmoSet's default protocol assigns whole speakers to train / devel / test so that the partitions
hold close to 60 / 20 / 20 % of the items and each keeps the corpus's class balance as far as the
speakers allow. The search is seeded from the corpus name and its speakers, so the same input gives
the same split on every machine. Corpora with an official split keep it; corpora with fewer than
three speakers fall back to a text-independent split (no sentence in two partitions) or, without
text information, to a stratified split of items. The protocol used is returned and recorded.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emonet.corpora.base import PARTITIONS

DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)
EXHAUSTIVE_MAX = (
    60_000  # up to this many possible assignments (3**10 = 59,049) are searched exactly
)

PROTOCOL_SPEAKER = "speaker-independent"
PROTOCOL_OFFICIAL = "official"
PROTOCOL_TEXT = "text-independent (fewer than 3 speakers; speakers shared across partitions)"
PROTOCOL_STRATIFIED = "stratified by item (no usable speaker or text information)"


@dataclass
class Split:
    """Partition per item, the protocol that produced it, and how close it came to the targets."""

    partition: list[str]
    protocol: str
    fractions: dict[str, float] = field(default_factory=dict)
    max_class_share_gap: float = 0.0

    def indices(self, name: str) -> list[int]:
        """Item indices in partition ``name``."""
        return [i for i, p in enumerate(self.partition) if p == name]


def _seed(key: str, groups: Sequence[str]) -> int:
    h = hashlib.sha256(key.encode())
    for g in sorted(set(groups)):
        h.update(b"\0" + g.encode())
    return int.from_bytes(h.digest()[:8], "little")


def _group_counts(labels: Sequence[str], groups: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Sorted group names and a (groups, classes) matrix of item counts."""
    names = sorted(set(groups))
    classes = sorted(set(labels))
    gi = {g: i for i, g in enumerate(names)}
    ci = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(names), len(classes)), dtype=np.float64)
    for lab, grp in zip(labels, groups, strict=True):
        counts[gi[grp], ci[lab]] += 1
    return names, counts


def _cost(part_counts: np.ndarray, totals: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Deviation from target sizes and class balance; ``part_counts`` is (..., parts, classes).

    An empty partition, or one missing a class the corpus has, is penalised heavily.
    """
    n = totals.sum()
    target = fractions[:, None] * totals[None, :]
    sizes = part_counts.sum(-1)
    size_dev = ((sizes - fractions * n) / n) ** 2
    class_dev = ((part_counts - target) / n) ** 2
    empty = (sizes == 0).sum(-1)
    missing = ((part_counts == 0) & (totals > 0)).sum((-1, -2))
    return size_dev.sum(-1) + class_dev.sum((-1, -2)) + 10.0 * empty + 0.05 * missing


def _assign_groups(
    counts: np.ndarray, fractions: np.ndarray, rng: np.random.Generator, restarts: int = 16
) -> np.ndarray:
    """Partition index per group minimising :func:`_cost` (exact for few groups, else local search)."""
    n_groups, n_parts = len(counts), len(fractions)
    totals = counts.sum(0)
    if n_parts**n_groups <= EXHAUSTIVE_MAX:
        combos = np.array(list(itertools.product(range(n_parts), repeat=n_groups)), dtype=np.int64)
        onehot = np.eye(n_parts)[combos]  # (combos, groups, parts)
        part_counts = np.einsum("cgp,gk->cpk", onehot, counts)
        costs = _cost(part_counts, totals, fractions)
        return combos[int(np.argmin(costs))]  # argmin takes the first of ties: deterministic

    best, best_cost = None, np.inf
    for _ in range(restarts):
        assign = np.full(n_groups, -1)
        part_counts = np.zeros((n_parts, counts.shape[1]))
        for g in rng.permutation(n_groups):  # greedy in random order
            trial = part_counts[None].repeat(n_parts, 0)
            trial[np.arange(n_parts), np.arange(n_parts)] += counts[g]
            p = int(np.argmin(_cost(trial, totals, fractions)))
            assign[g] = p
            part_counts[p] += counts[g]
        current = float(_cost(part_counts, totals, fractions))
        improved = True
        while improved:  # move single groups while that lowers the cost
            improved = False
            for g in rng.permutation(n_groups):
                src = assign[g]
                trial = part_counts[None].repeat(n_parts, 0)
                trial[:, src] -= counts[g]
                trial[np.arange(n_parts), np.arange(n_parts)] += counts[g]
                costs = _cost(trial, totals, fractions)
                p = int(np.argmin(costs))
                if p != src and costs[p] < current - 1e-12:
                    assign[g], part_counts, current = p, trial[p], float(costs[p])
                    improved = True
        if current < best_cost:
            best, best_cost = assign.copy(), current
    assert best is not None
    return best


def _report(labels: Sequence[str], partition: list[str]) -> tuple[dict[str, float], float]:
    n = len(labels)
    classes = sorted(set(labels))
    overall = np.array([sum(lab == c for lab in labels) / n for c in classes])
    fractions, gap = {}, 0.0
    for p in PARTITIONS:
        idx = [i for i, q in enumerate(partition) if q == p]
        fractions[p] = round(len(idx) / n, 4)
        if idx:
            share = np.array([sum(labels[i] == c for i in idx) / len(idx) for c in classes])
            gap = max(gap, float(np.max(np.abs(share - overall))))
    return fractions, round(gap, 4)


def split_groups(
    labels: Sequence[str],
    groups: Sequence[str],
    key: str,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
) -> list[str]:
    """Assign whole groups (speakers, texts, …) to train/devel/test; deterministic for ``key``."""
    names, counts = _group_counts(labels, groups)
    rng = np.random.default_rng(_seed(key, groups))
    assign = _assign_groups(counts, np.asarray(fractions, dtype=np.float64), rng)
    by_group = {g: PARTITIONS[a] for g, a in zip(names, assign, strict=True)}
    return [by_group[g] for g in groups]


def make_split(
    labels: Sequence[str],
    speakers: Sequence[str],
    key: str,
    official: Sequence[str | None] | None = None,
    texts: Sequence[str] | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
) -> Split:
    """The EmoSet protocol for one corpus: official split, else speaker-independent, else fall-back."""
    if len(labels) != len(speakers):
        raise ValueError("labels and speakers must have the same length")
    if not labels:
        raise ValueError("cannot split an empty corpus")
    if official is not None and any(p is not None for p in official):
        missing = [i for i, p in enumerate(official) if p is None]
        if missing:
            raise ValueError(
                f"{len(missing)} items have no official partition while others do; "
                "a corpus with an official split must give one for every item"
            )
        bad = sorted({p for p in official if p not in PARTITIONS})
        if bad:
            raise ValueError(f"unknown partition names {bad}; expected {list(PARTITIONS)}")
        partition, protocol = [str(p) for p in official], PROTOCOL_OFFICIAL
    elif len({s for s in speakers if s}) >= 3 and all(speakers):
        partition, protocol = split_groups(labels, speakers, key, fractions), PROTOCOL_SPEAKER
    elif texts is not None and all(texts) and len(set(texts)) >= 3:
        partition, protocol = split_groups(labels, texts, key, fractions), PROTOCOL_TEXT
    else:
        partition = _stratified(labels, key, fractions)
        protocol = PROTOCOL_STRATIFIED
    fr, gap = _report(labels, partition)
    return Split(partition, protocol, fr, gap)


def _stratified(labels: Sequence[str], key: str, fractions: Sequence[float]) -> list[str]:
    """Per class, a seeded shuffle cut at the target fractions."""
    rng = np.random.default_rng(_seed(key, labels))
    out = [""] * len(labels)
    bounds = np.cumsum(fractions)
    for c in sorted(set(labels)):
        idx = [i for i, lab in enumerate(labels) if lab == c]
        idx = [idx[j] for j in rng.permutation(len(idx))]
        cuts = np.round(bounds * len(idx)).astype(int)
        for j, i in enumerate(idx):
            out[i] = PARTITIONS[int(np.searchsorted(cuts, j, side="right"))]
    return out


def speaker_folds(labels: Sequence[str], speakers: Sequence[str], k: int, key: str) -> list[int]:
    """Fold index (0..k-1) per item: k speaker-disjoint folds of near-equal size and balance."""
    n_speakers = len(set(speakers))
    if k < 2 or k > n_speakers:
        raise ValueError(f"k must be between 2 and the number of speakers ({n_speakers}), got {k}")
    names, counts = _group_counts(labels, speakers)
    rng = np.random.default_rng(_seed(f"{key}/folds{k}", speakers))
    assign = _assign_groups(counts, np.full(k, 1.0 / k), rng)
    by = dict(zip(names, (int(a) for a in assign), strict=True))
    return [by[s] for s in speakers]


def leave_one_speaker_out(speakers: Sequence[str]) -> list[tuple[str, list[int], list[int]]]:
    """One (speaker, train indices, test indices) fold per speaker, in sorted speaker order."""
    out = []
    for s in sorted(set(speakers)):
        test = [i for i, x in enumerate(speakers) if x == s]
        train = [i for i, x in enumerate(speakers) if x != s]
        out.append((s, train, test))
    return out
