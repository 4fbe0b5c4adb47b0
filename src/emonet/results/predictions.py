"""Predictions on disk: one CSV per corpus and partition, the common currency of evaluate, compare,
baselines and the experiment recipe.

Layout of an evaluation folder (``<run>/eval`` for a training run)::

    <eval>/<corpus>/<partition>/predictions.csv   file,label,prediction,p_<label>…
    <eval>/<corpus>/<partition>/metrics.json      UAR, accuracy, macro-F1, per class, confusion
    <eval>/<corpus>/<partition>/confusion.png
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.errors import EmoNetError
from emonet.files import write_table

PROB_PREFIX = "p_"


class PredictionsError(EmoNetError, ValueError):
    """Predictions that are missing, malformed or cannot be paired."""


def predictions_table(
    files: Sequence[str], labels: Sequence[str], y_true: Sequence[int], probs: np.ndarray
) -> pd.DataFrame:
    """A tidy table: file, label, prediction and one probability column per label."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (len(files), len(labels)):
        raise PredictionsError(
            f"probabilities have shape {probs.shape}, expected ({len(files)}, {len(labels)})"
        )
    names = np.asarray(labels, dtype=object)
    table = pd.DataFrame(
        {
            "file": list(files),
            "label": names[np.asarray(y_true, dtype=np.int64)],
            "prediction": names[probs.argmax(1)],
        }
    )
    for k, lab in enumerate(labels):
        table[f"{PROB_PREFIX}{lab}"] = np.round(probs[:, k], 6)
    return table


def write_predictions(path: Path, table: pd.DataFrame) -> None:
    """Write a predictions table as CSV, atomically."""
    write_table(path, table)


def read_predictions(path: Path) -> pd.DataFrame:
    """Read a predictions CSV and check its columns."""
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(f"{path}: predictions file not found")
    table = pd.read_csv(path, dtype={"file": str, "label": str, "prediction": str})
    missing = [c for c in ("file", "label", "prediction") if c not in table.columns]
    if missing:
        raise PredictionsError(f"{path}: missing columns {missing} (has {list(table.columns)})")
    return table


def find_eval_dir(path: Path) -> Path:
    """The evaluation folder of a run folder, or ``path`` itself if it is one."""
    path = Path(path)
    for candidate in (path / "eval", path):
        if candidate.is_dir() and any(candidate.glob("*/*/predictions.csv")):
            return candidate
    raise PredictionsError(
        f"{path}: no predictions found (expected <corpus>/<partition>/predictions.csv below "
        f"{path / 'eval'} or {path}); run `emonet evaluate` first"
    )


def available(eval_dir: Path, partition: str) -> dict[str, Path]:
    """Corpus name → predictions CSV of ``partition`` in an evaluation folder."""
    return {
        p.parent.parent.name: p
        for p in sorted(Path(eval_dir).glob(f"*/{partition}/predictions.csv"))
    }
