"""Decode a partition's audio once into one float32 array (in memory or memory-mapped).

Training reads random crops thousands of times; decoding FLAC each time would leave the model
waiting on files. The cache holds every utterance back to back plus offsets, so a crop is a slice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emonet import audio
from emonet.files import atomic_path, write_json
from emonet.progress import progress_bar


class AudioCache:
    """Utterances of a list of files as slices of one contiguous float32 array."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets  # len(files) + 1 boundaries

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def length(self, i: int) -> int:
        """Samples in utterance ``i``."""
        return int(self.offsets[i + 1] - self.offsets[i])

    def get(self, i: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``start:stop`` of utterance ``i`` (a view, no copy)."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        stop = b - a if stop is None else min(stop, b - a)
        return self.data[a + start : a + stop]

    @classmethod
    def build(
        cls,
        files: Sequence[str | Path],
        cache_file: str | Path | None = None,
        show_progress: bool = False,
        description: str = "decode",
    ) -> AudioCache:
        """Decode ``files`` (16 kHz mono); with ``cache_file`` store/reuse a memory-mapped copy.

        The memory-mapped copy is keyed by the file list and each file's size and mtime; a stale
        or partial copy is rebuilt (written to a temporary name and renamed when complete).
        """
        files = [Path(f) for f in files]
        if cache_file is not None:
            cache_file = Path(cache_file)
            key = _key(files)
            meta = cache_file.with_suffix(".json")
            if cache_file.exists() and meta.exists():
                info = json.loads(meta.read_text())
                if info.get("key") == key:
                    data = np.memmap(cache_file, dtype=np.float32, mode="r")
                    return cls(data, np.asarray(info["offsets"], dtype=np.int64))
        chunks, offsets = [], [0]
        with progress_bar(show_progress) as progress:
            task = progress.add_task(description, total=len(files))
            for f in files:
                x = audio.load(f)
                chunks.append(x)
                offsets.append(offsets[-1] + len(x))
                progress.advance(task)
        data = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        off = np.asarray(offsets, dtype=np.int64)
        if cache_file is None:
            return cls(data, off)
        with atomic_path(cache_file) as tmp:
            data.tofile(tmp)
        write_json(meta, {"key": key, "offsets": off.tolist()})
        return cls(np.memmap(cache_file, dtype=np.float32, mode="r"), off)


def _key(files: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()
