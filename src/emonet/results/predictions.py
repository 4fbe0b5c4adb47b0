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


def aligned_predictions(paths: Sequence[Path]) -> list[pd.DataFrame]:
    """The predictions tables of ``paths``, every one's rows in the first's item order.

    They must list exactly the same items with the same labels, each item once: pairing or
    averaging anything else would be meaningless, so it is refused with the first difference named.
    """
    paths = [Path(p) for p in paths]
    tables = [read_predictions(p) for p in paths]
    for path, table in zip(paths, tables, strict=True):
        dup = table["file"][table["file"].duplicated()]
        if len(dup):
            raise PredictionsError(f"{path}: item {dup.iloc[0]!r} is listed twice")
    first, a = paths[0], tables[0]
    out = [a]
    for path, b in zip(paths[1:], tables[1:], strict=True):
        only_a = sorted(set(a["file"]) - set(b["file"]))
        only_b = sorted(set(b["file"]) - set(a["file"]))
        if only_a or only_b:
            raise PredictionsError(
                f"the runs predicted different items: {len(only_a)} only in {first} "
                f"(e.g. {only_a[:3]}), {len(only_b)} only in {path} (e.g. {only_b[:3]}); "
                "use runs evaluated on the same partition of the same EmoSet"
            )
        b = b.set_index("file").loc[a["file"]].reset_index()
        differ = a["label"].to_numpy() != b["label"].to_numpy()
        if differ.any():
            k = int(np.argmax(differ))
            raise PredictionsError(
                f"{a['file'].iloc[k]}: label {a['label'].iloc[k]!r} in {first} but "
                f"{b['label'].iloc[k]!r} in {path}"
            )
        out.append(b)
    return out


def probabilities(path: Path, table: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """(labels, items × labels probabilities) of a predictions table; refused when it has no
    probability columns or a probability is missing, negative or not finite."""
    cols = [c for c in table.columns if c.startswith(PROB_PREFIX)]
    if not cols:
        raise PredictionsError(f"{path}: no probability columns ({PROB_PREFIX}<label>)")
    probs = table[cols].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(probs) | (probs < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise PredictionsError(
            f"{path}: {cols[j]} of {table['file'].iloc[i]!r} is {table[cols[j]].iloc[i]!r}, "
            "not a probability"
        )
    return [c[len(PROB_PREFIX) :] for c in cols], probs


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
