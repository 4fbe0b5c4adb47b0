"""Datasets over one EmoSet partition: whole utterances for scoring (training crops: feeder.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from emonet.corpora.emoset import EmoSetCorpus, EmoSetError, subset
from emonet.data.cache import AudioCache


def load_partition(
    corpus: EmoSetCorpus,
    partition: str,
    cache_dir: str | Path | None = None,
    show_progress: bool = False,
    limit: int | None = None,
) -> tuple[AudioCache, np.ndarray, list[str]]:
    """Decoded audio, label indices and file names of one partition (first ``limit`` items)."""
    table = subset(corpus.partition(partition), limit)
    if table.empty:
        raise EmoSetError(f"{corpus.root / (partition + '.csv')}: partition is empty")
    index = {lab: i for i, lab in enumerate(corpus.labels)}
    unknown = sorted(set(table["label"]) - set(index))
    if unknown:
        raise EmoSetError(f"{corpus.root}/{partition}.csv: unknown labels {unknown}")
    labels = table["label"].map(index).to_numpy(np.int64)
    files = [corpus.path(f) for f in table["file"]]
    cache_file = None
    if cache_dir is not None:
        suffix = f"-{limit}" if limit is not None else ""
        cache_file = Path(cache_dir) / f"{corpus.name}-{partition}{suffix}.f32"
    cache = AudioCache.build(files, cache_file, show_progress, f"decode {corpus.name}/{partition}")
    return cache, labels, list(table["file"])


class UtteranceDataset(Dataset):
    """Whole utterances for scoring (batched with :func:`collate_padded`)."""

    def __init__(self, cache: AudioCache, labels: Sequence[int]):
        self.cache, self.labels = cache, np.asarray(labels)

    def __len__(self) -> int:
        return len(self.cache)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        x = np.array(self.cache.get(i), dtype=np.float32)
        return torch.from_numpy(x), len(x), int(self.labels[i])


def collate_padded(batch: list[tuple[torch.Tensor, int, int]]):
    """Pad waveforms to the longest in the batch: (waves (B, T), lengths (B,), labels (B,))."""
    longest = max(int(x.shape[0]) for x, _, _ in batch)
    waves = torch.zeros(len(batch), longest)
    for k, (x, _, _) in enumerate(batch):
        waves[k, : x.shape[0]] = x
    lengths = torch.tensor([n for _, n, _ in batch], dtype=torch.long)
    labels = torch.tensor([y for _, _, y in batch], dtype=torch.long)
    return waves, lengths, labels
