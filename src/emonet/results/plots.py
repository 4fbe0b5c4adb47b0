"""Plots people would rather see than read: confusion matrices, training curves, heatmaps."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    _plt().close(fig)
    tmp.replace(path)
    return path


def _matrix(ax, values: np.ndarray, rows: Sequence[str], cols: Sequence[str], text, cmap: str):
    """Draw ``values`` (in [0, 1]) as a coloured grid annotated with the strings in ``text``."""
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            colour = "white" if np.isfinite(values[i, j]) and values[i, j] > 0.6 else "black"
            ax.text(j, i, text[i][j], ha="center", va="center", color=colour, fontsize=8)
    return im


def confusion_png(
    confusion: Sequence[Sequence[int]], labels: Sequence[str], path: Path, title: str = ""
) -> Path:
    """Confusion matrix (rows: truth) with counts, coloured by row-normalised recall."""
    plt = _plt()
    counts = np.asarray(confusion, dtype=np.float64)
    recall = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    size = 1.2 + 0.55 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    text = [[f"{int(c)}" for c in row] for row in counts]
    im = _matrix(ax, recall, labels, labels, text, "Blues")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="recall")
    return _save(fig, path)


def heatmap_png(
    values: np.ndarray, rows: Sequence[str], cols: Sequence[str], path: Path, title: str = ""
) -> Path:
    """A matrix of scores in [0, 1] (e.g. cross-corpus UAR), annotated."""
    plt = _plt()
    size = 1.5 + 0.7 * max(len(rows), len(cols))
    fig, ax = plt.subplots(figsize=(size + 1, size))
    values = np.asarray(values, dtype=np.float64)
    text = [["–" if not np.isfinite(v) else f"{v:.2f}" for v in row] for row in values]
    im = _matrix(ax, values, rows, cols, text, "viridis")
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("head of")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="UAR")
    return _save(fig, path)


def curves_png(metrics: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Training loss and devel UAR per epoch and corpus, from a run's ``metrics.csv``."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for corpus, rows in metrics.groupby("corpus", sort=False):
        ax1.plot(rows["epoch"], rows["train_loss"], label=str(corpus))
        if "devel_uar" in rows and rows["devel_uar"].notna().any():
            ax2.plot(rows["epoch"], rows["devel_uar"], marker=".", label=str(corpus))
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("devel UAR")
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)
