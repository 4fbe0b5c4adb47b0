"""Training crops cut where the audio lives: one gather per batch, nothing per item on the host.

A partition's decoded audio (every utterance back to back, see :class:`AudioCache`) is held as
one tensor on the training device: on the CPU a view of the cache (no copy), on a GPU a copy in
float16 by default (all of EmoSet is about 7.5 GB). Crop starts, lengths and labels are drawn
once per epoch from ``(seed, epoch)``; a batch is then a single indexed gather on the device, so
a GPU never waits for the host to cut or copy audio.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from emonet.audio import SAMPLE_RATE
from emonet.data.cache import AudioCache


class CropFeeder:
    """Random ``window``-second crops of one partition; shorter utterances are zero-padded.

    ``batch(idx)`` returns ``(waves (B, W) float32, lengths (B,), labels (B,))`` on ``device``
    for a tensor of item indices on ``device``. Crops depend on ``(seed, epoch, item)`` only, so
    runs are reproducible and an interrupted epoch is retraced exactly on resume. With
    ``bucket=True`` a batch is cut to its shortest item (at most the window): never padded.
    """

    def __init__(
        self,
        cache: AudioCache,
        labels: Sequence[int],
        window: float,
        seed: int = 0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        sample_rate: int = SAMPLE_RATE,
        bucket: bool = False,
    ) -> None:
        self.device = torch.device(device)
        self.bucket = bucket
        self.window = round(window * sample_rate)
        self.seed = seed
        self.labels_np = np.array(labels, dtype=np.int64)
        self.sizes_np = np.diff(np.asarray(cache.offsets, dtype=np.int64))
        self._first = np.asarray(cache.offsets[:-1], dtype=np.int64)
        with warnings.catch_warnings():  # a read-only memory map: never written through
            warnings.simplefilter("ignore", UserWarning)
            audio = torch.from_numpy(np.asarray(cache.data))
        self.audio = audio.to(device=self.device, dtype=dtype)
        self.labels = torch.from_numpy(self.labels_np).to(self.device)
        self._offsets = torch.arange(self.window, device=self.device)
        self.lengths = torch.from_numpy(np.minimum(self.sizes_np, self.window)).to(self.device)
        self.sizes = torch.from_numpy(self.sizes_np).to(self.device)
        self._first_t = torch.from_numpy(self._first).to(self.device)
        self.set_epoch(0)

    def __len__(self) -> int:
        return len(self.labels_np)

    def set_epoch(self, epoch: int) -> None:
        """Draw every item's crop start for ``epoch`` (one host→device copy per epoch)."""
        rng = np.random.default_rng((self.seed, epoch, 23))
        room = np.maximum(self.sizes_np - self.window, 0)
        where = rng.random(len(self))
        starts = np.minimum((where * (room + 1)).astype(np.int64), room)
        self.starts = torch.from_numpy(self._first + starts).to(self.device)
        self.where = torch.from_numpy(where).to(self.device)  # shorter crops start here

    def crop_length(self, idx: np.ndarray) -> int:
        """Samples per crop of a batch of items ``idx`` (host indices): the window, or with
        buckets the shortest item's length when that is shorter."""
        if not self.bucket:
            return self.window
        return int(min(self.window, self.sizes_np[idx].min()))

    def padded(self, idx: np.ndarray) -> bool:
        """Whether any of items ``idx`` (host indices) is shorter than its crop, answered on
        the host: a batch without padding can skip the model's masks."""
        return bool((self.sizes_np[idx] < self.crop_length(idx)).any())

    def batch(
        self, idx: torch.Tensor, length: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Waves, lengths and labels of items ``idx`` (a tensor on this feeder's device), cut to
        ``length`` samples (default: the window); a shorter length than every item's is a random
        part of each, never padded."""
        if length is not None and length < self.window:
            room = self.sizes[idx] - length
            first = self._first_t[idx] + (self.where[idx] * (room + 1)).long().clamp(max=room)
            waves = self.audio[first[:, None] + self._offsets[:length]].float()
            return waves, torch.full_like(idx, length), self.labels[idx]
        lengths = self.lengths[idx]
        valid = self._offsets < lengths[:, None]
        pos = torch.where(valid, self.starts[idx, None] + self._offsets, 0)
        waves = self.audio[pos].float().masked_fill_(~valid, 0.0)
        return waves, lengths, self.labels[idx]
