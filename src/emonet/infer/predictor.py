"""Use a trained model on new audio: files, folders and long recordings, as tidy tables.

A :class:`Predictor` wraps one checkpoint and one of its corpora (label set). Whole files are
batched by similar length; with ``window``/``hop`` a file is cut into segments while it is being
decoded (:func:`emonet.audio.stream`), so a recording of any length needs memory for a few blocks
and one batch of segments only.

Nothing odd passes silently: every row has a ``flag`` saying when its probabilities mean little
(``silent``: peak below −60 dBFS; ``too short``: less than one time step of the network's final
feature map), and a folder without audio keeps a row (``no audio``) instead of vanishing.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from emonet import audio
from emonet.audio import AudioError
from emonet.corpora.base import is_junk
from emonet.errors import EmoNetError
from emonet.model.checkpoint import CheckpointNotFound, resolve_checkpoint
from emonet.model.emonet import STAGES
from emonet.model.scoring import softmax
from emonet.runtime import check_device, keep_freed_memory

if TYPE_CHECKING:
    from emonet.model import EmoNet

__all__ = [  # CheckpointNotFound and resolve_checkpoint live in emonet.model.checkpoint
    "FLAGS",
    "CheckpointNotFound",
    "Embeddings",
    "Predictor",
    "PredictorError",
    "check_output_file",
    "choose_corpus",
    "collect_audio_files",
    "load_model",
    "resolve_checkpoint",
    "save_embeddings",
    "segment_bounds",
]

SILENT, TOO_SHORT, NO_AUDIO = "silent", "too short", "no audio"
FLAGS = (SILENT, TOO_SHORT, NO_AUDIO)
"""Values of the ``flag`` column besides ``""``: the row's probabilities mean little (or there
are none, for a folder without audio files)."""

SILENCE_PEAK = 10 ** (-60 / 20)
"""A signal whose absolute peak is below this (−60 dBFS) is flagged ``silent``."""


class PredictorError(EmoNetError, ValueError):
    """A setting the Predictor cannot work with (corpus, window, hop, batch size, output file)."""


def check_output_file(
    path: str | Path, what: str = "output", error: type[EmoNetError] = PredictorError
) -> Path:
    """``path`` checked, before any work, to be a file name that can be written: not a folder,
    in a folder that exists (or can be made) and takes new files; else ``error`` naming it."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a folder; the {what} must be a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise error(f"{path}: cannot write the {what} there ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
    return path


def load_model(checkpoint: str | Path) -> EmoNet:
    """Load a checkpoint (or a run folder's, by :func:`resolve_checkpoint`'s rule) in eval mode;
    it knows its corpora and labels."""
    from emonet.model import load_checkpoint

    model = load_checkpoint(resolve_checkpoint(checkpoint))
    return model.eval()


def choose_corpus(corpora: Sequence[str], corpus: str | None) -> str:
    """The corpus (label set) to predict: the given one, or the only one the model has."""
    names = list(corpora)
    if corpus is None:
        if len(names) == 1:
            return names[0]
        raise PredictorError(
            f"the model has {len(names)} corpora, choose one with corpus=/--corpus: "
            + ", ".join(names)
        )
    if corpus not in names:
        raise PredictorError(f"corpus {corpus!r} is not in the model; it has: {', '.join(names)}")
    return corpus


def collect_audio_files(
    paths: Iterable[str | Path], recursive: bool = True, keep_empty: bool = False
) -> list[Path]:
    """Expand folders into their audio files (sorted); files named explicitly are kept as they are.

    Folder scans take audio extensions only (:data:`emonet.audio.AUDIO_EXTENSIONS`) and skip
    hidden names, ``__MACOSX`` and other junk, so that AppleDouble ``._x.wav`` files do not turn
    into errors. With ``keep_empty`` a folder without audio files stays in the list (itself, in
    its place), so that :meth:`Predictor.predict_files` gives it a ``no audio`` row.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            out.append(p)
            continue
        found = []
        walker = os.walk(p) if recursive else [(str(p), [], os.listdir(p))]
        for root, dirs, files in walker:
            dirs[:] = [d for d in dirs if not is_junk(d)]
            found += [
                Path(root) / f
                for f in files
                if not is_junk(f) and audio.is_audio_file(f) and (Path(root) / f).is_file()
            ]
        out += sorted(found) if found or not keep_empty else [p]
    return out


def _check_seconds(window: float | None, hop: float | None, rate: int | None) -> None:
    for key, seconds in (("window", window), ("hop", hop)):
        if seconds is not None and not (
            math.isfinite(seconds) and seconds > 0 and (rate is None or seconds * rate >= 1)
        ):
            raise PredictorError(
                f"{key} must be a positive number of seconds (at least one sample), got {seconds}"
            )


def segment_bounds(n_samples: int, window: int, hop: int) -> list[tuple[int, int]]:
    """``(start, end)`` sample bounds of the segments :class:`Predictor` cuts from a signal.

    Segments of ``window`` samples start every ``hop`` samples until one reaches the end; the last
    one is shortened at the end of the signal, and a signal shorter than a window is one segment.
    """
    return [(s, e) for s, e, _ in _segments(iter([np.zeros(n_samples, np.float32)]), window, hop)]


def _segments(
    blocks: Iterator[np.ndarray], window: int, hop: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Cut a stream of blocks into ``(start, end, samples)`` segments, holding ≤ window + block."""
    buf, buf_start, total, k = np.zeros(0, np.float32), 0, 0, 0
    for block in blocks:
        buf = np.concatenate([buf, block]) if len(buf) else block
        total += len(block)
        while k * hop + window <= total:
            s = k * hop
            yield s, s + window, buf[s - buf_start : s - buf_start + window].copy()
            k += 1
        drop = min(k * hop - buf_start, len(buf))  # nothing before the next segment is needed
        if drop > 0:
            buf, buf_start = buf[drop:], buf_start + drop
    while k * hop < total and (k == 0 or (k - 1) * hop + window < total):
        s, e = k * hop, min(k * hop + window, total)
        yield s, e, buf[s - buf_start : e - buf_start].copy()
        k += 1


@dataclass
class Embeddings:
    """Pooled features (before the classifier) with their index: one row per file or segment.

    ``index`` has ``file`` (and ``start``/``end`` in seconds for segments) and ``error`` (empty
    unless the file failed; its vector is then NaN). ``np.asarray(embeddings)`` gives the vectors.
    """

    index: pd.DataFrame
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.vectors)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.vectors if dtype is None else self.vectors.astype(dtype)

    def save(self, path: str | Path) -> list[Path]:
        """Write to ``.npy`` (+ ``.index.csv``) or ``.parquet``; see :func:`save_embeddings`."""
        return save_embeddings(path, self)


def save_embeddings(path: str | Path, embeddings: Embeddings) -> list[Path]:
    """Write embeddings: ``X.npy`` with the vectors and ``X.index.csv`` with the rows' index, or
    one ``X.parquet`` table (index columns, then ``e0 … e{D-1}``). Returns the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    vectors = np.asarray(embeddings.vectors, dtype=np.float32)
    if suffix == ".npy":
        index = path.with_suffix(".index.csv")
        np.save(path, vectors)
        embeddings.index.to_csv(index, index=False)
        return [path, index]
    if suffix == ".parquet":
        dims = pd.DataFrame(vectors, columns=[f"e{i}" for i in range(vectors.shape[1])])
        table = pd.concat([embeddings.index.reset_index(drop=True), dims], axis=1)
        table.to_parquet(path, index=False)
        return [path]
    raise PredictorError(f"{path}: embeddings are written as .npy or .parquet")


class Predictor:
    """Emotion probabilities and embeddings for signals, files and folders from one checkpoint.

    ``window``/``hop`` (seconds) switch on segment-level output for long recordings: each file
    gives one row per segment plus a ``level == "file"`` summary row whose probabilities are the
    (unweighted) mean of its segments' probabilities.
    """

    def __init__(
        self,
        model: str | Path | EmoNet,
        corpus: str | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = 16,
        window: float | None = None,
        hop: float | None = None,
        block_seconds: float = 30.0,
    ) -> None:
        if batch_size < 1:
            raise PredictorError(f"batch_size must be ≥ 1, got {batch_size}")
        if hop is not None and window is None:
            raise PredictorError("hop needs a window")
        _check_seconds(window, hop, None)  # before the minutes a checkpoint may take to load
        self.device = check_device(device)
        if isinstance(model, (str, Path)):
            model = load_model(model)
        self.sample_rate: int = int(model.config.frontend.sample_rate)
        """The checkpoint's rate: every signal and file is resampled to it."""
        _check_seconds(window, hop, self.sample_rate)
        if self.device.type == "cpu":
            keep_freed_memory()
        self.model = model.to(self.device).eval()
        self.corpus = choose_corpus(list(model.corpora), corpus)
        self.labels: list[str] = list(model.corpora[self.corpus])
        self.batch_size = batch_size
        self.window = window
        self.hop = hop if hop is not None else window
        self.block_seconds = block_seconds
        front = model.config.frontend
        self.min_samples = front.n_fft + (2**STAGES - 1) * front.hop_length
        """Shorter signals are flagged ``too short``: less than one time step of the final
        feature map (the backbone halves time in each of its stages)."""

    # -- the model --------------------------------------------------------------------------

    @property
    def segmented(self) -> bool:
        """True if files are cut into ``window``-second segments."""
        return self.window is not None

    @property
    def columns(self) -> list[str]:
        """Columns of the tables this predictor returns, in order."""
        probs = [f"p_{label}" for label in self.labels]
        seg = ["level", "start", "end"] if self.segmented else []
        return ["file", *seg, "prediction", *probs, "duration", "flag", "error"]

    def flag(self, x: np.ndarray) -> str:
        """``silent``, ``too short`` or ``""`` for a mono signal at the model's rate."""
        return self._flag(len(x), float(np.abs(x).max()) if len(x) else 0.0)

    def _flag(self, samples: int, peak: float) -> str:
        if peak < SILENCE_PEAK:
            return SILENT
        if samples < self.min_samples:
            return TOO_SHORT
        return ""

    @torch.inference_mode()
    def _run(self, signals: Sequence[np.ndarray], embed: bool = False) -> np.ndarray:
        """Probabilities ``(N, labels)`` (or embeddings) of signals, in batches sorted by length."""
        order = np.argsort([len(x) for x in signals], kind="stable")
        out: np.ndarray | None = None
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            lens = [len(signals[j]) for j in idx]
            waves = torch.zeros(len(idx), max(lens))
            for row, j in enumerate(idx):
                waves[row, : lens[row]] = torch.from_numpy(signals[j])
            waves = waves.to(self.device)
            lengths = torch.tensor(lens, dtype=torch.long, device=self.device)
            if embed:
                y = self._embed(waves, lengths).float().cpu().numpy()
            else:
                logits = self.model.predict_logits(waves, lengths, self.corpus)
                y = softmax(logits.float().cpu().numpy())
            if out is None:
                out = np.empty((len(signals), y.shape[1]), dtype=y.dtype)
            out[idx] = y
        assert out is not None, "no signals"
        return out

    def _embed(self, waves: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Pooled features (:meth:`EmoNet.predict_embeddings`: for the avgpool head the mean over
        the windows ``predict_logits`` scores, so any length has an embedding)."""
        return self.model.predict_embeddings(waves, lengths, self.corpus)

    # -- predictions ------------------------------------------------------------------------

    def _row(
        self,
        file: str,
        probs: np.ndarray | None,
        duration: float,
        error: str = "",
        flag: str = "",
        **extra,
    ) -> dict:
        row: dict = {"file": file, **extra}
        if probs is None:
            row["prediction"] = ""
            row.update({f"p_{label}": np.nan for label in self.labels})
        else:
            row["prediction"] = self.labels[int(np.argmax(probs))]
            row.update(
                {f"p_{label}": float(p) for label, p in zip(self.labels, probs, strict=True)}
            )
        row["duration"] = duration
        row["flag"] = flag
        row["error"] = error
        return row

    def _table(self, rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=self.columns)

    def _segment_rows(self, file: str, blocks: Iterator[np.ndarray]) -> list[dict]:
        """Rows of one file in segment mode: the file summary first, then its segments."""
        assert self.window is not None and self.hop is not None
        win, hop = round(self.window * self.sample_rate), round(self.hop * self.sample_rate)
        bounds: list[tuple[int, int]] = []
        probs: list[np.ndarray] = []
        pending: list[np.ndarray] = []
        flags: list[str] = []
        seen = [0, 0.0]  # samples decoded (the file's length even where hop > window leaves
        # gaps) and their peak

        def counted(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            for b in blocks:
                seen[0] += len(b)
                seen[1] = max(seen[1], float(np.abs(b).max()) if len(b) else 0.0)
                yield b

        for s, e, x in _segments(counted(blocks), win, hop):
            bounds.append((s, e))
            flags.append(self.flag(x))
            pending.append(x)
            if len(pending) == self.batch_size:
                probs.append(self._run(pending))
                pending = []
        if pending:
            probs.append(self._run(pending))
        p = np.concatenate(probs)
        total = seen[0] / self.sample_rate
        flag = self._flag(int(seen[0]), seen[1])
        rows = [self._row(file, p.mean(0), total, flag=flag, level="file", start=0.0, end=total)]
        for (s, e), q, f in zip(bounds, p, flags, strict=True):
            a, b = s / self.sample_rate, e / self.sample_rate
            rows.append(self._row(file, q, b - a, flag=f, level="segment", start=a, end=b))
        return rows

    def _error_row(self, file: str, exc: AudioError | None, flag: str = "") -> dict:
        """The row of a file that gave no signal: ``exc`` says why (or ``flag``, for a folder)."""
        extra = {"level": "file", "start": np.nan, "end": np.nan} if self.segmented else {}
        error = exc.problem if exc is not None else ""
        return self._row(file, None, np.nan, **extra, error=error, flag=flag)

    def predict_signal(self, x: np.ndarray, sr: int, name: str = "signal") -> pd.DataFrame:
        """Predict one in-memory signal, ``(samples,)`` or ``(samples, channels)`` at any rate."""
        x = np.asarray(x, dtype=np.float32)
        x = audio.resample(audio.downmix(x), sr, self.sample_rate).astype(np.float32, copy=False)
        if len(x) == 0:
            raise PredictorError(f"{name}: empty signal")
        x = np.ascontiguousarray(x)
        if self.segmented:
            return self._table(self._segment_rows(name, iter([x])))
        row = self._row(name, self._run([x])[0], len(x) / self.sample_rate, flag=self.flag(x))
        return self._table([row])

    def predict_file(self, path: str | Path) -> pd.DataFrame:
        """Predict one file; a file that cannot be decoded gives a row whose ``error`` says why."""
        return self.predict_files([path])

    def predict_files(
        self,
        paths: Iterable[str | Path],
        progress: Callable[[int], None] | None = None,
        chunk_files: int = 64,
    ) -> pd.DataFrame:
        """Predict many files, one row per file (or file + segments), in the order given.

        Whole files are decoded ``chunk_files`` at a time and batched by length; failures become
        rows with ``error`` set while the rest continue, a folder (left by
        ``collect_audio_files(keep_empty=True)``) a row flagged ``no audio``. ``progress(n)`` is
        called as n files finish.
        """
        paths = [Path(p) for p in paths]
        rows: list[dict] = []
        if self.segmented:
            for p in paths:
                try:
                    if p.is_dir():
                        rows.append(self._error_row(str(p), None, flag=NO_AUDIO))
                        continue
                    rows += self._segment_rows(
                        str(p), audio.stream(p, self.block_seconds, self.sample_rate)
                    )
                except AudioError as exc:
                    rows.append(self._error_row(str(p), exc))
                finally:
                    if progress:
                        progress(1)
            return self._table(rows)
        for c in range(0, len(paths), chunk_files):
            chunk = paths[c : c + chunk_files]
            signals: dict[int, np.ndarray] = {}
            errors: dict[int, AudioError] = {}
            for i, p in enumerate(chunk):
                if p.is_dir():
                    continue
                try:
                    signals[i] = audio.load(p, self.sample_rate)
                except AudioError as exc:
                    errors[i] = exc
            keys = list(signals)
            probs = self._run([signals[i] for i in keys]) if keys else np.zeros((0, 0))
            got = dict(zip(keys, probs, strict=True))
            for i, p in enumerate(chunk):
                if i in errors:
                    rows.append(self._error_row(str(p), errors[i]))
                elif i not in signals:
                    rows.append(self._error_row(str(p), None, flag=NO_AUDIO))
                else:
                    x = signals[i]
                    rows.append(
                        self._row(str(p), got[i], len(x) / self.sample_rate, flag=self.flag(x))
                    )
            if progress:
                progress(len(chunk))
        return self._table(rows)

    def predict_folder(self, folder: str | Path, recursive: bool = True) -> pd.DataFrame:
        """Predict every audio file under a folder (junk and hidden files skipped)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder}: not a folder")
        return self.predict_files(collect_audio_files([folder], recursive=recursive))

    # -- embeddings -------------------------------------------------------------------------

    def _embed_segments(
        self, blocks: Iterator[np.ndarray]
    ) -> tuple[list[tuple[int, int]], np.ndarray]:
        assert self.window is not None and self.hop is not None
        win, hop = round(self.window * self.sample_rate), round(self.hop * self.sample_rate)
        bounds, out, pending = [], [], []
        for s, e, x in _segments(blocks, win, hop):
            bounds.append((s, e))
            pending.append(x)
            if len(pending) == self.batch_size:
                out.append(self._run(pending, embed=True))
                pending = []
        if pending:
            out.append(self._run(pending, embed=True))
        return bounds, np.concatenate(out)

    def embed_file(self, path: str | Path, per_segment: bool = False) -> np.ndarray:
        """Pooled features of a file: ``(D,)``, or ``(segments, D)`` with ``per_segment``.

        With ``window`` set and ``per_segment=False`` it is the mean of the segment features.
        Raises :class:`~emonet.audio.AudioError` for a file that cannot be decoded.
        """
        if per_segment and not self.segmented:
            raise PredictorError("per_segment needs a window (Predictor(..., window=, hop=))")
        if not self.segmented:
            return self._run([audio.load(path, self.sample_rate)], embed=True)[0]
        _, e = self._embed_segments(audio.stream(path, self.block_seconds, self.sample_rate))
        return e if per_segment else e.mean(0)

    def embed_files(
        self,
        paths: Iterable[str | Path],
        per_segment: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Embeddings:
        """Pooled features of many files with their index (see :class:`Embeddings`).

        Files that fail keep a row: NaN vector, ``error`` naming the problem.
        """
        if per_segment and not self.segmented:
            raise PredictorError("per_segment needs a window (Predictor(..., window=, hop=))")
        index: list[dict] = []
        vectors: list[np.ndarray] = []
        dim: int | None = None
        failed: list[int] = []
        for p in map(Path, paths):
            try:
                if p.is_dir():  # a folder kept by collect_audio_files(keep_empty=True)
                    raise AudioError(p, "a folder without audio files")
                if per_segment:
                    bounds, e = self._embed_segments(
                        audio.stream(p, self.block_seconds, self.sample_rate)
                    )
                    for s, t in bounds:
                        index.append(
                            {
                                "file": str(p),
                                "start": s / self.sample_rate,
                                "end": t / self.sample_rate,
                            }
                        )
                    vectors.append(e)
                else:
                    vectors.append(self.embed_file(p)[None])
                    index.append({"file": str(p)})
                dim = vectors[-1].shape[1]
                for row in index[-len(vectors[-1]) :]:
                    row["error"] = ""
            except AudioError as exc:
                failed.append(len(vectors))
                vectors.append(np.zeros((1, 0), np.float32))
                row = {"file": str(p), "error": exc.problem}
                if per_segment:
                    row.update(start=np.nan, end=np.nan)
                index.append(row)
            if progress:
                progress(1)
        if dim is None:
            dim = int(self.model.embed_dim) if hasattr(self.model, "embed_dim") else 0
        for i in failed:
            vectors[i] = np.full((1, dim), np.nan, np.float32)
        cols = ["file", "start", "end", "error"] if per_segment else ["file", "error"]
        data = np.concatenate(vectors).astype(np.float32) if vectors else np.zeros((0, dim))
        return Embeddings(pd.DataFrame(index, columns=cols), data)
